#!/usr/bin/env python3
"""Writes the seed corpus of the libFuzzer harnesses (Fuzz/, scripts/fuzz.sh) into Fuzz/Corpus/.

One folder per harness: png, npy, safetensors, zip, pickle, answers. Each holds a handful of
small files (a few KB at most): valid files of every kind the reader accepts, and a few
near-valid ones (cut short, a checksum off, a size that lies) so that the fuzzer starts next to
the checks. Everything is built here with the standard library only (no numpy, no torch), so
the bytes are exactly what is written below; the .pth files follow torch.save's layout (zip
and legacy) with stand-in torch globals. The output is committed: `swift test` and CI never
run Python.

    python3 tools/fuzz/make_seeds.py            # rewrites Fuzz/Corpus/
"""
import io
import json
import os
import pickle
import shutil
import struct
import sys
import types
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "Fuzz", "Corpus")


def write(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    assert len(data) <= 8192, f"{target}/{name} is {len(data)} bytes; seeds stay small"
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# MARK: PNG

def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png(width, height, bit_depth, color_type, rows, interlace=0, extra=b""):
    """rows: the filtered scanlines (filter byte 0 + packed samples), already in pass order."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + extra
            + png_chunk(b"IDAT", zlib.compress(b"".join(rows))) + png_chunk(b"IEND", b""))


def pack_row(samples, bit_depth):
    """One scanline with filter type 0: samples packed at bit_depth bits, big-endian."""
    if bit_depth == 16:
        return b"\x00" + b"".join(struct.pack(">H", s) for s in samples)
    if bit_depth == 8:
        return b"\x00" + bytes(samples)
    bits = "".join(format(s, f"0{bit_depth}b") for s in samples)
    bits += "0" * (-len(bits) % 8)
    return b"\x00" + bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


def image(width, height, channels, bit_depth):
    top = (1 << bit_depth) - 1
    return [[[(x * 7 + y * 13 + c * 5) % (top + 1) for c in range(channels)] for x in range(width)]
            for y in range(height)]


def plain_png(width, height, channels, color_type, bit_depth, extra=b""):
    pixels = image(width, height, channels, bit_depth)
    rows = [pack_row([s for px in row for s in px], bit_depth) for row in pixels]
    return png(width, height, bit_depth, color_type, rows, extra=extra)


def interlaced_png(width, height):
    """8-bit RGB with Adam7 interlacing: seven reduced images, each its own scanlines."""
    pixels = image(width, height, 3, 8)
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    rows = []
    for x0, y0, dx, dy in passes:
        for y in range(y0, height, dy):
            samples = [s for x in range(x0, width, dx) for s in pixels[y][x]]
            if samples:
                rows.append(pack_row(samples, 8))
    return png(width, height, 8, 2, rows, interlace=1)


def make_png_seeds():
    palette = png_chunk(b"PLTE", bytes(range(48)))  # 16 colours
    transparency = png_chunk(b"tRNS", bytes([0, 128, 255]))
    text = png_chunk(b"tEXt", b"Comment\x00a seed for the fuzzer")
    write("png", "grey1.png", plain_png(9, 3, 1, 0, 1))
    write("png", "grey8.png", plain_png(4, 3, 1, 0, 8, extra=text))
    write("png", "grey16.png", plain_png(3, 2, 1, 0, 16))
    write("png", "grey_alpha.png", plain_png(3, 3, 2, 4, 8))
    write("png", "palette4.png", plain_png(5, 3, 1, 3, 4, extra=palette + transparency))
    write("png", "rgb8.png", plain_png(4, 4, 3, 2, 8))
    write("png", "rgb16.png", plain_png(2, 2, 3, 2, 16))
    write("png", "rgba8.png", plain_png(3, 2, 4, 6, 8))
    write("png", "interlaced.png", interlaced_png(9, 9))
    # Near-valid: the data cut short, a checksum off, a header larger than the limit.
    valid = plain_png(4, 4, 3, 2, 8)
    write("png", "truncated.png", valid[:-20])
    write("png", "bad_crc.png", valid[:29] + bytes([valid[29] ^ 1]) + valid[30:])
    write("png", "too_large.png", png(9000, 1, 8, 0, [b"\x00"]))


# MARK: .npy

def npy(descr, shape, payload, fortran=False, version=(1, 0)):
    shape_text = "(" + "".join(f"{n}, " for n in shape)[:-2] + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape_text)
    length_size = 2 if version[0] == 1 else 4
    prefix = 6 + 2 + length_size
    header += " " * (-(prefix + len(header) + 1) % 64) + "\n"
    length = struct.pack("<H" if length_size == 2 else "<I", len(header))
    return b"\x93NUMPY" + bytes(version) + length + header.encode("latin-1") + payload


def make_npy_seeds():
    values = [0.5 * i - 2 for i in range(12)]
    write("npy", "f4.npy", npy("<f4", (3, 4), struct.pack("<12f", *values)))
    write("npy", "f8.npy", npy("<f8", (2, 3), struct.pack("<6d", *values[:6])))
    write("npy", "f2.npy", npy("<f2", (4,), struct.pack("<4e", *values[:4])))
    write("npy", "i8.npy", npy("<i8", (2, 2), struct.pack("<4q", -3, 0, 7, 1 << 40)))
    write("npy", "i4.npy", npy("<i4", (1, 3), struct.pack("<3i", -1, 2, 3)))
    write("npy", "u1.npy", npy("|u1", (1, 2, 2), bytes([0, 1, 128, 255])))
    write("npy", "scalar.npy", npy("<f4", (), struct.pack("<f", 3.25)))
    write("npy", "empty.npy", npy("<f4", (0, 3), b""))
    write("npy", "fortran.npy", npy("<f4", (2, 3), struct.pack("<6f", *values[:6]), fortran=True))
    write("npy", "v2.npy", npy("<f4", (2,), struct.pack("<2f", 1, 2), version=(2, 0)))
    write("npy", "v3.npy", npy("<f4", (2,), struct.pack("<2f", 1, 2), version=(3, 0)))
    write("npy", "input.npy", npy("<f4", (1, 3, 4, 4), struct.pack("<48f", *[(i % 7) / 7 for i in range(48)])))
    # Near-valid: big-endian (refused), a NaN, a shape larger than the data.
    write("npy", "bigendian.npy", npy(">f4", (2,), struct.pack(">2f", 1, 2)))
    write("npy", "nan.npy", npy("<f4", (3,), struct.pack("<3f", 1, float("nan"), 2)))
    write("npy", "short_data.npy", npy("<f4", (100, 100), struct.pack("<4f", 1, 2, 3, 4)))


# MARK: safetensors

SAFETENSORS_FORMATS = {"F32": "f", "F16": "e", "F64": "d", "I64": "q", "I32": "i"}


def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, values)], laid out in order as the reference library does."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, values in tensors:
        if dtype == "BF16":
            raw = b"".join(struct.pack("<f", v)[2:] for v in values)
        else:
            raw = struct.pack("<%d%s" % (len(values), SAFETENSORS_FORMATS[dtype]), *values)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def tiny_model(bias):
    """A tutor model file (docs/model-format.md): a 2-channel conv net for 4×4 pictures."""
    layers = [{"name": "features.0", "type": "Conv2d", "in_channels": 3, "out_channels": 2, "kernel_size": 3,
               "stride": 1, "padding": 1, "bias": bias}]
    tensors = [("features.0.weight", "F32", (2, 3, 3, 3), [((i * 5) % 11 - 5) / 10 for i in range(54)])]
    if bias:
        tensors.append(("features.0.bias", "F32", (2,), [0.1, -0.1]))
        layers.append({"name": "features.1", "type": "BatchNorm2d", "num_features": 2, "eps": 1e-5, "momentum": 0.1})
        tensors += [("features.1.weight", "F32", (2,), [1, 0.5]), ("features.1.bias", "F32", (2,), [0, 0.25]),
                    ("features.1.running_mean", "F32", (2,), [0.1, 0.2]),
                    ("features.1.running_var", "F32", (2,), [1, 2]),
                    ("features.1.num_batches_tracked", "I64", (), [3])]
    layers += [{"name": "features.%d" % len(layers), "type": "ReLU"},
               {"name": "features.%d" % (len(layers) + 1), "type": "MaxPool2d", "kernel_size": 2, "stride": 2},
               {"name": "pool", "type": "AdaptiveAvgPool2d", "output_size": 1},
               {"name": "flatten", "type": "Flatten"},
               {"name": "classifier", "type": "Linear", "in_features": 2, "out_features": 2, "bias": bias}]
    tensors.append(("classifier.weight", "F32", (2, 2), [1, -1, 0.5, 2]))
    if bias:
        tensors.append(("classifier.bias", "F32", (2,), [0, 0.5]))
    spec = {"architecture": "mininet" if bias else "mininet-nobias", "layers": layers, "inputSize": [3, 4, 4],
            "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "classNames": ["circle", "square"]}
    return safetensors(sorted(tensors), {"format": "pt", "tutor.model": json.dumps(spec, separators=(",", ":"))})


def residual_model():
    """A tutor model file with one torchvision BasicBlock (and its downsample) on 2×2 pictures."""
    tensors, layers = [], [{"name": "layer1.0", "type": "BasicBlock", "in_channels": 3, "planes": 1, "stride": 1,
                            "downsample": True}]

    def conv(prefix, cin, cout, k):
        tensors.append((prefix + ".weight", "F32", (cout, cin, k, k), [0.1] * (cout * cin * k * k)))

    def norm(prefix, c):
        for name, value in [("weight", 1), ("bias", 0), ("running_mean", 0), ("running_var", 1)]:
            tensors.append((f"{prefix}.{name}", "F32", (c,), [value] * c))
        tensors.append((prefix + ".num_batches_tracked", "I64", (), [0]))

    conv("layer1.0.conv1", 3, 1, 3), norm("layer1.0.bn1", 1)
    conv("layer1.0.conv2", 1, 1, 3), norm("layer1.0.bn2", 1)
    conv("layer1.0.downsample.0", 3, 1, 1), norm("layer1.0.downsample.1", 1)
    layers += [{"name": "pool", "type": "AdaptiveAvgPool2d", "output_size": 1}, {"name": "flatten", "type": "Flatten"},
               {"name": "fc", "type": "Linear", "in_features": 1, "out_features": 2, "bias": True}]
    tensors += [("fc.weight", "F32", (2, 1), [1, -1]), ("fc.bias", "F32", (2,), [0, 0])]
    spec = {"architecture": "resnet", "layers": layers, "inputSize": [3, 2, 2], "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225], "classNames": ["a", "b"]}
    return safetensors(sorted(tensors), {"format": "pt", "tutor.model": json.dumps(spec, separators=(",", ":"))})


def narrow_resnet18():
    """torchvision's resnet18 state_dict with every width 1 and 2 classes, as (name, shape)."""
    shapes = [("conv1.weight", (1, 3, 7, 7))]

    def norm(prefix):
        shapes.extend((f"{prefix}.{name}", (1,)) for name in ("weight", "bias", "running_mean", "running_var"))
        shapes.append((prefix + ".num_batches_tracked", ()))

    norm("bn1")
    for stage in range(1, 5):
        block = f"layer{stage}.0"
        shapes.append((block + ".conv1.weight", (1, 1, 3, 3))), norm(block + ".bn1")
        shapes.append((block + ".conv2.weight", (1, 1, 3, 3))), norm(block + ".bn2")
        if stage > 1:  # stride 2: the shortcut is a 1×1 convolution and a BatchNorm
            shapes.append((block + ".downsample.0.weight", (1, 1, 1, 1))), norm(block + ".downsample.1")
    shapes += [("fc.weight", (2, 1)), ("fc.bias", (2,))]
    return shapes


def count(shape):
    total = 1
    for n in shape:
        total *= n
    return total


def resnet_safetensors():
    tensors = []
    for name, shape in narrow_resnet18():
        if name.endswith("num_batches_tracked"):
            tensors.append((name, "I64", shape, [1]))
        else:
            value = 1.0 if name.endswith(("running_var", "bn1.weight", "bn2.weight", "1.weight")) else 0.125
            tensors.append((name, "F32", shape, [value] * count(shape)))
    return safetensors(sorted(tensors))


def resnet_pth():
    """The same state_dict as a zip .pth whose tensors are views of two shared storages."""
    shapes = narrow_resnet18()
    floats = [(name, shape) for name, shape in shapes if not name.endswith("num_batches_tracked")]
    weights = Storage("0", "FloatStorage", [0.125] * sum(count(shape) for _, shape in floats))
    counter = Storage("1", "LongStorage", [1])
    state, offset = ORDERED_DICT(), 0
    for name, shape in shapes:
        if name.endswith("num_batches_tracked"):
            state[name] = TensorView(counter, 0, [], [])
        else:
            strides = [count(shape[axis + 1:]) for axis in range(len(shape))]
            state[name] = TensorView(weights, offset, list(shape), strides)
            offset += count(shape)
    return zip_pth(state, [weights, counter])


def make_safetensors_seeds():
    write("safetensors", "f32.safetensors", safetensors([("a", "F32", (2, 3), [1, 2, 3, 4, 5, 6]),
                                                         ("b", "F32", (3,), [-1, 0, 1])], {"format": "pt"}))
    write("safetensors", "mixed.safetensors", safetensors([
        ("bf16", "BF16", (2,), [1.5, -2]), ("f16", "F16", (2, 1), [0.5, 3]), ("f64", "F64", (1,), [2.25]),
        ("i32", "I32", (3,), [1, -2, 3]), ("i64", "I64", (), [7]), ("empty", "F32", (0, 4), [])]))
    write("safetensors", "model.safetensors", tiny_model(bias=True))
    write("safetensors", "model_nobias.safetensors", tiny_model(bias=False))
    write("safetensors", "model_resnet.safetensors", residual_model())
    write("safetensors", "resnet18_narrow.safetensors", resnet_safetensors())
    # Near-valid: trailing bytes after the last tensor, a header length that is one short.
    valid = safetensors([("a", "F32", (2,), [1, 2])])
    write("safetensors", "trailing.safetensors", valid + b"\x00\x00\x00\x00")
    write("safetensors", "short_header.safetensors", struct.pack("<Q", len(valid) - 8 - 8 - 1) + valid[8:])


# MARK: .pth (zip and legacy) and pickles

def stand_in_torch():
    """Modules named like torch's, holding the few globals a state_dict pickle names, so that
    Python's pickle writes the same GLOBAL opcodes torch.save does."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    collections_module = sys.modules["collections"]

    def _rebuild_tensor_v2(*args):
        raise NotImplementedError

    def _rebuild_parameter(*args):
        raise NotImplementedError

    for function in (_rebuild_tensor_v2, _rebuild_parameter):
        function.__module__, function.__qualname__ = "torch._utils", function.__name__
        setattr(utils, function.__name__, function)
    storage_types = {}
    for name in ("FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage"):
        storage_type = type(name, (), {"__module__": "torch"})
        setattr(torch, name, storage_type)
        storage_types[name] = storage_type
    torch._utils = utils
    sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
    return utils, storage_types, collections_module.OrderedDict


UTILS, STORAGE_TYPES, ORDERED_DICT = stand_in_torch()
STORAGE_FORMATS = {"FloatStorage": "f", "DoubleStorage": "d", "HalfStorage": "e", "LongStorage": "q", "IntStorage": "i"}


class Storage:
    def __init__(self, key, type_name, values):
        self.key, self.type_name, self.values = key, type_name, values

    def raw(self):
        return struct.pack("<%d%s" % (len(self.values), STORAGE_FORMATS[self.type_name]), *self.values)


class TensorView:
    """Pickles as torch does: _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)."""

    def __init__(self, storage, offset, size, stride, parameter=False):
        self.storage, self.offset, self.size, self.stride, self.parameter = storage, offset, size, stride, parameter

    def __reduce__(self):
        tensor = (UTILS._rebuild_tensor_v2, (self.storage, self.offset, tuple(self.size), tuple(self.stride), False,
                                             ORDERED_DICT()))
        if self.parameter:
            return (UTILS._rebuild_parameter, (Rebuilt(tensor), True, ORDERED_DICT()))
        return tensor


class Rebuilt:
    """A value that pickles as the call `reduction` names."""

    def __init__(self, reduction):
        self.reduction = reduction

    def __reduce__(self):
        return self.reduction


class TorchPickler(pickle.Pickler):
    def __init__(self, file, legacy):
        super().__init__(file, protocol=2)
        self.legacy = legacy

    def persistent_id(self, value):
        if isinstance(value, Storage):
            ident = ("storage", STORAGE_TYPES[value.type_name], value.key, "cpu", len(value.values))
            return ident + (None,) if self.legacy else ident
        return None


def dumps(value, legacy=False):
    buffer = io.BytesIO()
    TorchPickler(buffer, legacy).dump(value)
    return buffer.getvalue()


def small_state_dict():
    weights = Storage("0", "FloatStorage", [0.25 * i - 1 for i in range(12)])
    counter = Storage("1", "LongStorage", [5])
    halves = Storage("2", "HalfStorage", [0.5, -1, 2, 4])
    state = ORDERED_DICT()
    state["conv.weight"] = TensorView(weights, 0, [2, 3, 1, 1], [3, 1, 1, 1])
    state["conv.bias"] = TensorView(weights, 6, [2], [1], parameter=True)
    state["fc.weight"] = TensorView(weights, 8, [2, 2], [1, 2])  # a transposed view
    state["bn.num_batches_tracked"] = TensorView(counter, 0, [], [])
    state["half"] = TensorView(halves, 0, [4], [1])
    return state, [weights, counter, halves]


def zip_pth(state, storages, folder="archive", force_zip64=False):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        def add(name, data):
            with archive.open(f"{folder}/{name}", "w", force_zip64=force_zip64) as entry:
                entry.write(data)
        add("data.pkl", dumps(state))
        add("byteorder", b"little")
        for storage in storages:
            add(f"data/{storage.key}", storage.raw())
        add("version", b"3\n")
    return buffer.getvalue()


def legacy_pth(state, storages):
    magic = 0x1950A86A20F9469CFC6C
    facts = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
    out = dumps(magic) + dumps(1001) + dumps(facts) + dumps(state, legacy=True) + dumps([s.key for s in storages])
    for storage in storages:
        out += struct.pack("<q", len(storage.values)) + storage.raw()
    return out


def make_pth_seeds():
    state, storages = small_state_dict()
    small_zip = zip_pth(state, storages)
    write("zip", "small.pth", small_zip)
    write("zip", "zip64.pth", zip_pth(state, storages, folder="model", force_zip64=True))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.comment = b"a comment at the end"
        archive.writestr("a/b.txt", b"hello")
        archive.writestr("a/empty", b"")
    write("zip", "comment.zip", buffer.getvalue())
    write("zip", "truncated.pth", small_zip[:-10])

    write("pickle", "small_zip.pth", small_zip)
    write("pickle", "small_legacy.pth", legacy_pth(state, storages))
    checkpoint = {"epoch": 3, "state_dict": state, "lr": 0.1, "names": ["a", "b"], "flag": None}
    write("pickle", "training_checkpoint.pth", zip_pth(checkpoint, storages))
    write("pickle", "resnet18_narrow.pth", resnet_pth())
    write("pickle", "state_dict.pkl", dumps(state))  # a bare pickle: the harness runs it directly
    write("pickle", "values.pkl", dumps([(1, 2.5, "x", True, None, -(1 << 70), 1 << 40), {"k": [1, 2], 3: (4,)}, (), [], {}]))
    # Near-valid: a storage shorter than its views, a view past its storage.
    short = Storage("0", "FloatStorage", [1, 2])
    bad = ORDERED_DICT(w=TensorView(short, 0, [2, 2], [2, 1]))
    write("pickle", "storage_too_small.pth", legacy_pth(bad, [short]))
    write("pickle", "view_past_storage.pth", zip_pth(ORDERED_DICT(w=TensorView(short, 1, [2], [1])), [short]))


# MARK: Answers files

def make_answers_seeds():
    write("answers", "cam1.json", json.dumps({"exercise": "cam-1", "student": "alice",
                                              "answers": {"q1": [13, 14], "q2": -14, "q3": 26, "q4": "A"}}, indent=2))
    write("answers", "numbers.json", '{"answers": {"q1": 0.5, "q2": -1e-3, "q3": [1, 2.5, -3], "q4": "b",'
                                     ' "q5": 12E+2, "q6": "\\u00e9"}}')
    write("answers", "cam1.txt", "# cam-1, worked on paper\nexercise = cam-1\nstudent = alice\n"
                                 "q1 = 13, 14\nq2 = -14\nq3 = 26\nq4 = A\n")
    write("answers", "fractions.txt", "q1 = [1/2, .5, +1]\r\nq2 = 3/4   # a comment\n\nq3 = (b)\nq4 = \"A\"\n")
    write("answers", "bom.txt", "\ufeffq1 = 1\n")
    # Near-valid: a key twice, a number outside the JSON grammar, nesting one level too deep.
    write("answers", "duplicate.json", '{"student": "a", "student": "b", "answers": {}}')
    write("answers", "hex.json", '{"answers": {"q1": 0x10}}')
    write("answers", "deep.json", '{"answers": {"q1": ' + "[" * 64 + "]" * 64 + "}}")


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    make_png_seeds()
    make_npy_seeds()
    make_safetensors_seeds()
    make_pth_seeds()
    make_answers_seeds()
    for target in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, target))
        size = sum(os.path.getsize(os.path.join(CORPUS, target, f)) for f in files)
        print(f"Fuzz/Corpus/{target}: {len(files)} files, {size} bytes")


if __name__ == "__main__":
    main()
