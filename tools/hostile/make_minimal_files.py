#!/usr/bin/env python3
"""Writes one minimal hostile file for every failure class of issue 11 ("Hostile input").

    python3 tools/hostile/make_minimal_files.py [FOLDER]              # default: out/hostile
    python3 tools/hostile/make_minimal_files.py FOLDER --check .build/release/tutor

Each file is the smallest input that showed its failure in the fuzzing campaign of issue 11
(a trap, a memory blow-up, a hang, silent acceptance, a bad message, a spreadsheet formula).
docs/limits.md ("Regression files") maps each class to its file here and to the regression
test in the Swift test suite, which builds the same input in Swift (so `swift test` needs no
Python). With --check, every file is given to the tutor binary named, with the command line
in CASES, and the answer checked: no signal, no hang, the expected exit status and at most
the expected number of lines on standard error.

Standard library only; the helpers that write PNG, .npy, safetensors and .pth files are those
of tools/fuzz/make_seeds.py.
"""
import json
import os
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fuzz"))
import make_seeds as seeds  # noqa: E402  (after the path is set)

ROOT = seeds.ROOT


# MARK: Builders

def model(change, bias=True):
    """The small tutor model file of the seeds (3×4×4 input), with `change` applied to its spec."""
    data = seeds.tiny_model(bias)
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    spec = json.loads(header["__metadata__"]["tutor.model"])
    change(spec)
    header["__metadata__"]["tutor.model"] = json.dumps(spec, separators=(",", ":"))
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data[8 + length:]


def set_in(path, value):
    """A spec change: spec[path[0]][path[1]]… = value."""
    def change(spec):
        target = spec
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def input_npy(bad):
    """An input for the shipped network (models/mininet.safetensors: 3×32×32) with `bad` at flat index 5."""
    values = [0.0] * (3 * 32 * 32)
    values[5] = bad
    return seeds.npy("<f4", (3, 32, 32), struct.pack("<%df" % len(values), *values))


def legacy_views(views, storage):
    """A legacy .pth whose state_dict holds views (name, size, stride) of one float32 storage."""
    store = seeds.Storage("0", "FloatStorage", storage)
    state = seeds.ORDERED_DICT()
    for name, size, stride in views:
        state[name] = seeds.TensorView(store, 0, size, stride)
    return seeds.legacy_pth(state, [store])


def legacy_with_version(version_pickle):
    """A legacy .pth cut after its version pickle, which is `version_pickle` (raw opcodes)."""
    return seeds.dumps(0x1950A86A20F9469CFC6C) + version_pickle


def shared_tuple_pickle(levels):
    """t₀ = (), tₖ₊₁ = (tₖ, tₖ): tₖ on the stack is paired with itself fetched from the memo,
    so the value is 2^levels leaves deep in a pickle of 5 bytes per level."""
    out = b"\x80\x02" + b")" + b"q\x00"                     # PROTO 2, EMPTY_TUPLE, BINPUT 0
    out += (b"h\x00" + b"\x86" + b"q\x00") * levels         # BINGET 0, TUPLE2, BINPUT 0
    return out + b"."


def png_bomb(side):
    """A 1-bit greyscale PNG of side × side black pixels: tens of KB that decode to side² bytes."""
    row = b"\x00" * (1 + side // 8)
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + seeds.png_chunk(b"IHDR", header) + seeds.png_chunk(b"IDAT", data)
            + seeds.png_chunk(b"IEND", b""))


def resnet_claiming_planes():
    """The narrow ResNet-18 of the seeds, but layer1.0.conv1 an empty tensor claiming 5000 planes."""
    tensors = []
    for name, shape in seeds.narrow_resnet18():
        if name == "layer1.0.conv1.weight":
            tensors.append((name, "F32", (5000, 0, 3, 3), []))
        elif name.endswith("num_batches_tracked"):
            tensors.append((name, "I64", shape, [1]))
        else:
            tensors.append((name, "F32", shape, [0.5] * seeds.count(shape)))
    return seeds.safetensors(sorted(tensors))


def header_cut_into_padding():
    """A valid safetensors file whose header length is cut short by its trailing spaces: the
    JSON still parses, and every tensor would be read from bytes shifted by the cut."""
    data = seeds.safetensors([("a", "F32", (2,), [1, 2]), ("b", "F32", (1,), [3])])
    length = struct.unpack("<Q", data[:8])[0]
    header = data[8:8 + length]
    padding = len(header) - len(header.rstrip(b" "))
    if padding == 0:  # make room: 8 more spaces keep the data aligned
        header += b" " * 8
        padding = 8
    body = data[8 + length:]
    return struct.pack("<Q", len(header) - padding) + header + body


def safetensors_with_hole():
    """Two tensors with 4 unused bytes between them (data_offsets [0, 8] and [12, 16])."""
    header = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "b": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]}}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + struct.pack("<4f", 1, 2, 0, 3)


def many_keys(count):
    """A text answers file of `count` keys, under the 1 MiB file limit."""
    return "".join(f"k{i}=1\n" for i in range(count))


# MARK: The classes

# (id, failure seen in issue 11, file name, contents or a special kind, tutor command with FILE
#  for the file's path and OUT for a fresh output path, expected exit status (None: any but a
#  signal), most lines expected on stderr). Ids: c crash, m memory, h hang, s silent
#  acceptance, e message, x spreadsheet, in the order issue 11 lists them.
MODEL = "models/mininet.safetensors"
PICTURE = "images/shapes/circle.png"
CASES = [
    ("c1", "arithmetic overflow on a view with a huge stride (.pth)", "c1-huge-stride.pth",
     legacy_views([("w", [2, 1, 2], [1, 2**63 - 1, 2])], [1, 2, 3, 4]),
     ["predict", PICTURE, "--weights", "FILE"], 1, 1),
    ("c2", "stack overflow on deeply nested JSON (answers)", "c2-deep.json",
     '{"answers": {"q1": ' + "[" * 100_000 + "]" * 100_000 + "}}",
     ["homework", "check", "cam-1", "--student", "alice", "--answers", "FILE"], 2, 1),
    ("c3a", "NaN reaching the picture writer: NaN input .npy with --overlay", "c3a-nan-input.npy",
     input_npy(float("nan")), ["explain", "--input-npy", "FILE", "--overlay", "OUT.png"], 1, 1),
    ("c3b", "NaN reaching the picture writer: denormal normalisation std (lesson ig)", "c3b-denormal-std.safetensors",
     model(set_in(["std", 1], 1e-40)), ["lesson", "ig", "--weights", "FILE"], 1, 1),
    ("c4a", "model input of 1 channel (Classifier/Conv2d preconditions)", "c4a-one-channel.safetensors",
     model(lambda spec: spec.update(inputSize=[1, 4, 4], mean=[0.5], std=[0.25])),
     ["predict", PICTURE, "--weights", "FILE"], 1, 1),
    ("c4b", "model input that is not square", "c4b-not-square.safetensors",
     model(set_in(["inputSize"], [3, 4, 2])), ["predict", PICTURE, "--weights", "FILE"], 1, 1),
    ("m1a", "layers allocated from declared sizes: kernel size 2^20", "m1a-kernel-2pow20.safetensors",
     model(set_in(["layers", 0, "kernel_size"], 1 << 20)), ["predict", PICTURE, "--weights", "FILE"], 1, 1),
    ("m1b", "layers allocated from declared sizes: empty tensor claiming 5000 planes (ResNet)",
     "m1b-empty-tensor-5000-planes.safetensors", resnet_claiming_planes(),
     ["predict", PICTURE, "--weights", "FILE"], 1, 1),
    ("m2", "zero-stride view: one stored float as 2^31 elements (.pth)", "m2-zero-stride.pth",
     legacy_views([("w", [1 << 16, 1 << 15], [0, 0])], [1]), ["predict", PICTURE, "--weights", "FILE"], 1, 1),
    ("m3a", "model metadata declaring a 3x4096x4096 input", "m3a-input-4096.safetensors",
     model(set_in(["inputSize"], [3, 4096, 4096])), ["predict", PICTURE, "--weights", "FILE"], 1, 1),
    ("m3b", "model metadata declaring padding 1023", "m3b-padding-1023.safetensors",
     model(set_in(["layers", 0, "padding"], 1023)), ["predict", PICTURE, "--weights", "FILE"], 1, 1),
    ("m4", "PNG bomb: 16384x16384 1-bit picture", "m4-bomb-16384.png", png_bomb(16384),
     ["predict", "FILE"], 1, 1),
    ("h1", "FIFO given as the picture (or --weights) blocks forever", "h1-fifo.png", "fifo",
     ["predict", "FILE"], 1, 1),
    ("h2", "deeply shared tuple as legacy version: exponential error message", "h2-shared-tuple.pth",
     legacy_with_version(shared_tuple_pickle(90)), ["predict", PICTURE, "--weights", "FILE"], 1, 1),
    ("h3", "answer parsing quadratic in the number of keys", "h3-many-keys.txt", many_keys(100_000),
     ["homework", "check", "cam-1", "--student", "alice", "--answers", "FILE"], 2, 1),
    ("s1a", "safetensors header length cut into the padding (weights shifted)", "s1a-header-into-padding.safetensors",
     header_cut_into_padding(), ["predict", PICTURE, "--model", "resnet18", "--weights", "FILE"], 1, 1),
    ("s1b", "safetensors with trailing bytes after the data", "s1b-trailing-bytes.safetensors",
     seeds.safetensors([("a", "F32", (2,), [1, 2])]) + b"\0\0\0\0",
     ["predict", PICTURE, "--model", "resnet18", "--weights", "FILE"], 1, 1),
    ("s1c", "safetensors with a hole between tensors", "s1c-hole.safetensors", safetensors_with_hole(),
     ["predict", PICTURE, "--model", "resnet18", "--weights", "FILE"], 1, 1),
    ("s2", "NaN input .npy: NaN logits and exit 0", "s2-nan-input.npy", input_npy(float("nan")),
     ["predict", "--input-npy", "FILE"], 1, 1),
    ("s3", "BatchNorm eps of -1e6 loads", "s3-batchnorm-eps.safetensors",
     model(set_in(["layers", 1, "eps"], -1e6)), ["predict", PICTURE, "--weights", "FILE"], 1, 1),
    ("s4", "answers file naming its student twice is graded", "s4-student-twice.json",
     '{"exercise": "cam-1", "student": "alice", "student": "alice", "answers": {}}',
     ["homework", "check", "cam-1", "--student", "alice", "--answers", "FILE"], 2, 1),
    ("s5a", "JSON number 0x10 accepted (as 16)", "s5a-hex.json", '{"answers": {"q1": 0x10}}',
     ["homework", "check", "cam-1", "--student", "alice", "--answers", "FILE"], 2, 1),
    ("s5b", "JSON number 01 accepted", "s5b-leading-zero.json", '{"answers": {"q1": 01}}',
     ["homework", "check", "cam-1", "--student", "alice", "--answers", "FILE"], 2, 1),
    ("s5c", "JSON number +1 accepted", "s5c-plus.json", '{"answers": {"q1": +1}}',
     ["homework", "check", "cam-1", "--student", "alice", "--answers", "FILE"], 2, 1),
    ("s5d", "JSON number .5 accepted", "s5d-leading-dot.json", '{"answers": {"q1": .5}}',
     ["homework", "check", "cam-1", "--student", "alice", "--answers", "FILE"], 2, 1),
    ("e1", "infinite input .npy with --method ig: exit 1 and nothing on stderr", "e1-infinite-input.npy",
     input_npy(float("inf")), ["explain", "--input-npy", "FILE", "--method", "ig", "--json"], 1, 1),
    ("e2", "--class -1 says \"Missing value\" (no file: a flag)", None, None,
     ["explain", PICTURE, "--class", "-1"], 64, 1),
    ("e3", "a dict as legacy version prints Swift internals", "e3-dict-version.pth",
     legacy_with_version(b"\x80\x02}."), ["predict", PICTURE, "--weights", "FILE"], 1, 1),
    ("e4", "a student id with a newline cuts its own error message (grade)", "e4-submissions", "newline-names",
     ["homework", "grade", "cam-1", "--submissions", "FILE", "--csv", "OUT.csv"], 1, 1),
    ("x1", "grade sheet cells that a spreadsheet runs as formulas", "x1-submissions", "formula-names",
     ["homework", "grade", "cam-1", "--submissions", "FILE", "--csv", "OUT.csv"], 1, 3),
]


def write_case(folder, name, contents):
    path = os.path.join(folder, name)
    if contents == "fifo":
        if os.path.exists(path):
            os.remove(path)
        os.mkfifo(path)
    elif contents in ("newline-names", "formula-names"):
        os.makedirs(path, exist_ok=True)
        names = (["alice\nforged line: all correct.txt"] if contents == "newline-names"
                 else ['=HYPERLINK("http:x","y").txt', "@SUM(1+1).txt", "+1+2.txt"])
        for file_name in names:
            with open(os.path.join(path, file_name), "w") as f:
                f.write("q1 = 1\n")
    else:
        with open(path, "wb") as f:
            f.write(contents.encode() if isinstance(contents, str) else contents)
    return path


def check(tutor, folder, case, path):
    """Runs the case's command; returns (problem or None, tutor's first line on stderr)."""
    identifier, _, _, _, command, status, max_lines = case
    out = os.path.join(folder, f"{identifier}-output")
    arguments = [a.replace("FILE", path or "").replace("OUT", out) for a in command]
    try:
        result = subprocess.run([tutor] + arguments, cwd=ROOT, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "no answer within 120 s", ""
    lines = result.stderr.decode(errors="replace").splitlines()
    first = lines[0] if lines else ""
    if result.returncode < 0:
        return f"killed by signal {-result.returncode}", first
    if status is not None and result.returncode != status:
        return f"exit status {result.returncode}, expected {status}", first
    if not 1 <= len(lines) <= max_lines:
        return f"{len(lines)} lines on stderr, expected 1 to {max_lines}", first
    if identifier == "x1":
        with open(out + ".csv") as sheet:
            rows = sheet.read().splitlines()[1:]
        if len(rows) != 3 or any(row.lstrip('"')[:1] != "'" for row in rows):
            return f"grade sheet rows that a spreadsheet would run: {rows}", first
    return None, first


def main():
    arguments = sys.argv[1:]
    tutor = None
    if "--check" in arguments:
        index = arguments.index("--check")
        tutor = os.path.abspath(arguments[index + 1])
        del arguments[index:index + 2]
    folder = os.path.abspath(arguments[0] if arguments else os.path.join(ROOT, "out", "hostile"))
    os.makedirs(folder, exist_ok=True)
    failures = 0
    for case in CASES:
        identifier, failure, name, contents, command = case[:5]
        path = write_case(folder, name, contents) if name else None
        line = f"{identifier:4} {name or '(a flag)':42} tutor {' '.join(command)}"
        if tutor:
            problem, answer = check(tutor, folder, case, path)
            failures += problem is not None
            line += f"\n     {'ok' if problem is None else 'FAILED: ' + problem}: {answer[:150]}"
        print(line)
    if tutor:
        print(f"{len(CASES) - failures} of {len(CASES)} answered with one clear refusal" if failures == 0
              else f"{failures} of {len(CASES)} did not answer as expected")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
