"""Reference input × gradient, SmoothGrad, VarGrad and guided backpropagation from Captum 0.9.

For two models it runs, at the predicted class (target = argmax of the logits):

    input-x-gradient   captum.attr.InputXGradient
    smoothgrad         captum.attr.NoiseTunnel(Saliency), nt_type="smoothgrad", Saliency with abs=False
    vargrad            captum.attr.NoiseTunnel(Saliency), nt_type="vargrad",    Saliency with abs=False
    guided-backprop    captum.attr.GuidedBackprop

on
    mininet    the shipped small CNN (models/mininet.safetensors, rebuilt by tools/fixtures/torch_model.py),
               picture images/shapes/two-shapes.png, 3×32×32
    resnet18   the narrow ResNet-18 of Tests/MiniNetTests/Fixtures/resnet/resnet18-narrow.safetensors
               (tools/fixtures/resnet_fixtures.py), input: the centre 48×48 of Fixtures/resnet/input.npy
               (48 rather than 64 keeps the fixture small; the network is fully convolutional)

and writes Tests/MiniNetTests/Fixtures/parity/gradient-methods-<model>.json and
gradient-methods-<model>-float64.npy, [4, 3, H, W] float32: each method's float64 twin (Captum on
`.double()` copies of the model and the input), rounded once to float32, in the order of "methods"
in the JSON. Input gradients are ill-conditioned in float32 (docs/numerics.md), so the test compares
MiniNet with the float64 twin (Tests/MiniNetTests/ConditionedParity.swift). Captum's own float32 result
is not stored, only its distance from the twin: "float32_distance" = max |ref32 − ref64| and
"float32_spread" = the largest such distance over that run and 8 float32 runs on the parameters and
input rounded once more (tools/fixtures/resnet_reference.py float32_runs, without the other summation
orders, as for IG: PyTorch without oneDNN breaks exact max-pool ties of flat pictures the other way);
"other_float32_order_distance" records the run without oneDNN. Rounding ref64 to float32 moves it by
u/2 · |ref64|, a quarter of one layer's share of the test's floor (2u · depth · max |ref64|).

The noise. SmoothGrad and VarGrad need the same noisy inputs on both sides. This script draws MiniNet's
noise itself (`SmoothGradNoise`, Sources/MiniNet/Explanations/GradientMethods.swift): SplitMix64
streams (Sources/MiniNet/Data/SeededGenerator.swift), Box–Muller pairs with MiniNet's portable log
and cos/sin (Sources/MiniNet/Data/PortableMath.swift), all in IEEE double arithmetic that Python
reproduces operation for operation, then σ = noise · (max x − min x) and x + σ·ε rounded as MiniNet
rounds them (a float32 product, then a float32 sum). Captum's NoiseTunnel is then run with its noise
replaced by these inputs: `NoiseTunnel._add_noise_to_input` (which returns
input.repeat_interleave(n) + N(0, σ²) noise) is patched to return them. With one input and
nt_samples_batch_size left at None, NoiseTunnel makes one batch of the n noisy inputs, runs
Saliency(abs=False) on it, and returns E[g] (smoothgrad) or E[g²] − E[g]² (vargrad) over the n
samples: exactly the mean and variance of Captum's Saliency over the noisy inputs, which the script
also computes directly and checks. The JSON keeps, per sample, the first noisy values and a checksum of
the bits of all of them ("noise_check"), which the test compares with MiniNet's bit for bit.

Run from the repository root: /root/refenv/bin/python tools/parity/make_gradient_methods_parity.py
"""
import copy
import json
import math
import os
import struct
import sys
import warnings

import numpy as np
import torch
from captum.attr import GuidedBackprop, InputXGradient, NoiseTunnel, Saliency
from PIL import Image
from safetensors.torch import load_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "fixtures"))
from torch_model import load_tutor_model  # noqa: E402
import resnet_reference as reference  # noqa: E402

OUT = os.path.join(ROOT, "Tests", "MiniNetTests", "Fixtures", "parity")
METHODS = ["input-x-gradient", "smoothgrad", "vargrad", "guided-backprop"]
SAMPLES = 4          # few samples: the noise is shared, so parity needs no more
NOISE = 0.15         # σ / (x_max − x_min), the default of `tutor explain`
SEED = 7
RESNET_CROP = 48     # the centre of the 64×64 Fixtures/resnet/input.npy
NOISE_CHECK_VALUES = 6

# ------------------------------------------------------------------------ MiniNet's generator

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


def mix(z):
    """SplitMix64's finalizer (SeededGenerator.mix)."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


LN2 = 0.693147180559945309417232121458


def portable_log(x):
    """PortableMath.log, operation for operation."""
    bits = struct.unpack("<Q", struct.pack("<d", x))[0]
    exponent = float(((bits >> 52) & 0x7FF) - 1023)
    mantissa = struct.unpack("<d", struct.pack("<Q", (bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000))[0]
    if mantissa > 1.414213562373095:
        mantissa *= 0.5
        exponent += 1
    s = (mantissa - 1) / (mantissa + 1)
    s2 = s * s
    series = 1.0 / 13
    for k in (11, 9, 7, 5, 3):
        series = 1.0 / k + s2 * series
    series = 1 + s2 * series
    return exponent * LN2 + 2 * s * series


def portable_cos_sin(x):
    """PortableMath.cosAndSin for x ≥ 0 (Swift's rounded() rounds half away from zero)."""
    v = x * (2 / math.pi)
    quarter_turns = math.floor(v)
    if v - quarter_turns >= 0.5:
        quarter_turns += 1
    t = x - quarter_turns * (math.pi / 2)
    t2 = t * t
    cosine = 1 - t2 * (1.0 / 132)
    for k in (90, 56, 30, 12, 2):
        cosine = 1 - t2 * (1.0 / k) * cosine
    sine = 1 - t2 * (1.0 / 156)
    for k in (110, 72, 42, 20, 6):
        sine = 1 - t2 * (1.0 / k) * sine
    sine *= t
    quadrant = int(quarter_turns) % 4
    return [(cosine, sine), (-sine, cosine), (-cosine, -sine), (sine, -cosine)][quadrant]


class SeededGenerator:
    """SeededGenerator(seed:stream:) and its normalPair()."""

    def __init__(self, seed, stream):
        self.state = mix(seed ^ mix((stream + GAMMA) & MASK))

    def next(self):
        self.state = (self.state + GAMMA) & MASK
        return mix(self.state)

    def normal_pair(self):
        u1 = 1 - float(self.next() >> 11) * 2.0 ** -53
        u2 = float(self.next() >> 11) * 2.0 ** -53
        radius = math.sqrt(-2 * portable_log(u1))
        cosine, sine = portable_cos_sin(2 * math.pi * u2)
        return np.float32(radius * cosine), np.float32(radius * sine)


def standard_normals(seed, sample, count):
    """SmoothGradNoise.standardNormals(sample:count:): float32 [count]."""
    generator = SeededGenerator(seed, sample)
    values = np.zeros(count, dtype=np.float32)
    for index in range(0, count, 2):
        first, second = generator.normal_pair()
        values[index] = first
        if index + 1 < count:
            values[index + 1] = second
    return values


def noisy_inputs(x, fraction, seed, samples):
    """[samples, C, H, W] float32: SmoothGradNoise(fraction:of:seed:).noisyInput(x, sample: m), and σ."""
    flat = x.reshape(-1).astype(np.float32)
    sigma = np.float32(fraction * float(np.float32(flat.max()) - np.float32(flat.min())))
    rows = []
    for m in range(samples):
        step = sigma * standard_normals(seed, m, flat.size)          # float32 product
        rows.append((flat + step).astype(np.float32))               # float32 sum
    return np.stack(rows).reshape((samples,) + x.shape), float(sigma)


# ------------------------------------------------------------------------------ the methods

class SharedNoise:
    """Replaces NoiseTunnel's Gaussian draw by fixed noisy inputs while active."""

    def __init__(self, noisy):
        self.noisy = noisy

    def __enter__(self):
        self.original = NoiseTunnel.__dict__["_add_noise_to_input"]
        noisy = self.noisy

        def add_noise(input, stdev, nt_samples_partition):
            assert input.shape[0] == 1 and nt_samples_partition == noisy.shape[0]
            return noisy.to(input.dtype).clone()

        NoiseTunnel._add_noise_to_input = staticmethod(add_noise)
        return self

    def __exit__(self, *exc):
        NoiseTunnel._add_noise_to_input = self.original


def noise_tunnel(model, x, noisy, target, nt_type, sigma):
    """Captum's NoiseTunnel(Saliency(abs=False)) on the shared noisy inputs: [1, C, H, W]."""
    with SharedNoise(noisy):
        return NoiseTunnel(Saliency(model)).attribute(
            x, nt_type=nt_type, nt_samples=noisy.shape[0], stdevs=sigma, target=target, abs=False).detach()


def saliency_statistics(model, noisy, target):
    """What NoiseTunnel computes, directly: (E[g], E[g²] − E[g]²) of Saliency(abs=False) over the
    noisy inputs, [1, C, H, W] each."""
    gradients = Saliency(model).attribute(noisy.clone(), target=target, abs=False).detach()
    mean = gradients.sum(dim=0, keepdim=True) / noisy.shape[0]
    squares = (gradients ** 2).sum(dim=0, keepdim=True) / noisy.shape[0]
    return mean, squares - mean * mean


def run_method(method, model, x, noisy, target, sigma):
    if method == "input-x-gradient":
        return InputXGradient(model).attribute(x.clone(), target=target).detach()
    if method == "guided-backprop":
        return GuidedBackprop(model).attribute(x.clone(), target=target).detach()
    return noise_tunnel(model, x, noisy, target, method, sigma)


def spread_run(method, target):
    """run(model, v) for float32_runs: v is the input (one picture), or the noisy batch for the noise
    tunnel, whose statistics are then computed directly (saliency_statistics)."""
    def run(model, v):
        if method in ("smoothgrad", "vargrad"):
            mean, variance = saliency_statistics(model, v, target)
            return mean if method == "smoothgrad" else variance
        return run_method(method, model, v, None, target, None)
    return run


def bits_checksum(values):
    """Σ_i (i + 1) · bits(v_i) mod 2⁶⁴ over the float32 bit patterns: equal only for the same bits in
    the same places (GradientMethodsParityTests computes the same)."""
    bits = values.astype(np.float32).view(np.uint32)
    return sum((index + 1) * int(b) for index, b in enumerate(bits)) % (1 << 64)


def references(name, model, x, source):
    """Writes the fixture of one model; x is [1, C, H, W] float32."""
    model.eval()
    double = copy.deepcopy(model).double()
    with torch.no_grad():
        logits = model(x)[0]
    target = int(logits.argmax())
    noisy_array, sigma = noisy_inputs(x[0].numpy(), NOISE, SEED, SAMPLES)
    noisy = torch.from_numpy(noisy_array)
    # NoiseTunnel on the shared noise is the mean and variance of Saliency over the noisy inputs.
    tunnel = {nt: noise_tunnel(model, x, noisy, target, nt, sigma) for nt in ("smoothgrad", "vargrad")}
    direct = saliency_statistics(model, noisy, target)
    tunnel_vs_direct = max(float((tunnel["smoothgrad"] - direct[0]).abs().max()),
                           float((tunnel["vargrad"] - direct[1]).abs().max()))
    assert tunnel_vs_direct <= 1e-6 * max(1.0, float(direct[0].abs().max()), float(direct[1].abs().max())), tunnel_vs_direct
    twins, runs = [], []
    for method in METHODS:
        single = run_method(method, model, x, noisy, target, sigma)
        double_result = run_method(method, double, x.double(), noisy.double(), target, sigma).numpy()[0]
        with torch.backends.mkldnn.flags(enabled=False):
            other = run_method(method, model, x, noisy, target, sigma)
        # The spread runs round the input once more: the picture, or for the noise tunnel the noisy batch.
        spread = reference.largest_distance(
            [r[0] for r in reference.float32_runs(spread_run(method, target), model,
                                                   noisy if method in ("smoothgrad", "vargrad") else x,
                                                   other_orders=False)],
            double_result)
        distance = float(np.abs(single.numpy()[0].astype(np.float64) - double_result).max())
        twins.append(double_result.astype(np.float32))
        runs.append({"method": method, "shape": list(double_result.shape),
                     "float32_distance": distance, "float32_spread": max(distance, spread),
                     "max_abs_float64": float(np.abs(double_result).max()),
                     "other_float32_order_distance": float(np.abs(other.numpy()[0].astype(np.float64) - double_result).max())})
    twin_file = f"gradient-methods-{name}-float64.npy"
    np.save(os.path.join(OUT, twin_file), np.stack(twins))
    flat = noisy_array.reshape(SAMPLES, -1)
    fixture = {
        "model": name, "input": source, "target": target, "logits": [float(v) for v in logits],
        "samples": SAMPLES, "noise": NOISE, "seed": SEED, "sigma": sigma,
        "noise_check": [{"first": [float(v) for v in row[:NOISE_CHECK_VALUES]], "bits_checksum": bits_checksum(row)}
                        for row in flat],
        "noise_tunnel_vs_saliency_statistics": tunnel_vs_direct,
        "float64": twin_file, "methods": runs,
        "versions": reference.versions(),
    }
    path = os.path.join(OUT, f"gradient-methods-{name}.json")
    with open(path + ".tmp", "w") as handle:
        json.dump(fixture, handle, indent=1)
    os.replace(path + ".tmp", path)
    print(path, "target", target, "σ", sigma, "NoiseTunnel vs direct", tunnel_vs_direct)
    for run in runs:
        print("  ", run["method"], {k: f"{run[k]:.3g}" for k in ("float32_distance", "float32_spread", "max_abs_float64",
                                                                  "other_float32_order_distance")},
              "d_ref/max", f"{run['float32_spread'] / run['max_abs_float64']:.2g}")


def main():
    warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU activations")
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)

    model, spec = load_tutor_model(os.path.join(ROOT, "models", "mininet.safetensors"))
    mean = torch.tensor(spec["mean"], dtype=torch.float32).view(-1, 1, 1)
    std = torch.tensor(spec["std"], dtype=torch.float32).view(-1, 1, 1)
    picture = "images/shapes/two-shapes.png"
    pixels = np.asarray(Image.open(os.path.join(ROOT, picture)).convert("RGB"), dtype=np.uint8)
    image = torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255
    references("mininet", model, ((image - mean) / std).unsqueeze(0), {"picture": picture})

    resnet_dir = os.path.join(ROOT, "Tests", "MiniNetTests", "Fixtures", "resnet")
    block, layers = reference.ARCHITECTURES["resnet18"]
    resnet = reference.NarrowResNet(block, layers, [4, 8, 16, 32], 10)
    resnet.load_state_dict(load_file(os.path.join(resnet_dir, "resnet18-narrow.safetensors")))
    full = np.load(os.path.join(resnet_dir, "input.npy"))
    offset = (full.shape[-1] - RESNET_CROP) // 2
    crop = np.ascontiguousarray(full[:, :, offset:offset + RESNET_CROP, offset:offset + RESNET_CROP])
    references("resnet18", resnet, torch.from_numpy(crop),
               {"file": "Fixtures/resnet/input.npy", "crop": [offset, offset, RESNET_CROP, RESNET_CROP]})


if __name__ == "__main__":
    main()
