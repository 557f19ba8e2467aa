"""Reference numbers for MiniNet's localisation metrics, control maps and sanity checks.

Writes Tests/MiniNetTests/Fixtures/evaluation-locsan/, read by
Tests/MiniNetTests/EvaluationParityTests.swift:

    localisation.json   maps [H, W] and coverage masks [H, W] made here (seeded), with
                        Quantus's PointingGame, RelevanceMassAccuracy and RelevanceRankAccuracy
                        on the mask coverage >= 0.5 (MiniNet's ObjectMask rule; Quantus itself
                        would take every pixel with coverage > 0, `s_batch.astype(bool)`), the
                        mass both on the positive part max(R, 0) (MiniNet's definition) and on R
                        itself (Quantus's), and TorchRay's pointing-game hit for tolerances 3 and
                        15 at MiniNet's maximum (first in row-major order), by TorchRay's rule
                        written out (torchray.benchmark.pointing_game.PointingGame.evaluate).
    similarity.json     pairs of maps with quantus.functions.similarity_func.correlation_spearman
                        of |a|, |b| and of a, b, and quantus ...similarity_func.ssim (skimage's
                        structural_similarity, data range max − min of both) of the maps after
                        Quantus's preprocessing (normalise_by_max, then abs), plus skimage called
                        directly; and the Sobel edge maps of two pictures of images/shapes/:
                        4·√2 · skimage.filters.sobel(skimage.color.rgb2gray(picture / 255)).
    mprt-<model>.json   quantus.MPRT (layer_order "top_down", cascading) on the shipped small CNN
                        (three pictures of images/shapes/) and on the narrow ResNet-18 of
                        Fixtures/resnet (Fixtures/resnet/input.npy), explaining with the gradient
                        of the target logit summed over the colour channels (MiniNet's
                        `saliency` heatmap). Quantus re-initialises a layer with torch's
                        `reset_parameters()` after torch.manual_seed; here Conv2d.reset_parameters
                        and Linear.reset_parameters are replaced by MiniNet's rule
                        (SanityChecks.reinitialise: He normal / PyTorch uniform from MiniNet's
                        SeededGenerator, re-implemented below bit for bit), so that both run on
                        the same random weights; BatchNorm2d keeps torch's own reset_parameters,
                        which is MiniNet's BatchNorm rule. Three runs: abs=True (Spearman of the
                        absolute maps), abs=False (signed), and abs=True with an SSIM of the 2-D
                        maps as similarity_func (Quantus's default would flatten them). batch_size
                        1, because Quantus's normalise_by_max divides a whole batch by its largest
                        value, which would make the SSIM depend on the batch.

Run from the repository root:  /root/refenv/bin/python tools/parity/make_localisation_parity.py
"""
import importlib.metadata
import json
import math
import os
import sys
import warnings

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file

warnings.filterwarnings("ignore")
os.environ.setdefault("TQDM_DISABLE", "1")

import quantus  # noqa: E402
from quantus.functions.normalise_func import normalise_by_max  # noqa: E402
from quantus.functions.similarity_func import correlation_spearman, ssim  # noqa: E402
import skimage  # noqa: E402
from skimage.color import rgb2gray  # noqa: E402
from skimage.filters import sobel  # noqa: E402
from skimage.metrics import structural_similarity  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
from torch_model import load_tutor_model  # noqa: E402
import resnet_reference  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUTPUT = os.path.join(ROOT, "Tests", "MiniNetTests", "Fixtures", "evaluation-locsan")
RESNETS = os.path.join(ROOT, "Tests", "MiniNetTests", "Fixtures", "resnet")
COVERAGE_THRESHOLD = 0.5      # ObjectMask.coverageThreshold
SEED = 42                     # SanityChecks.cascadingRandomisation's default seed


def f32(values):
    """A list of the float32 values, each the shortest decimal that reads back as itself."""
    return [float(np.format_float_positional(np.float32(v), unique=True)) for v in np.asarray(values).ravel()]


def versions():
    return {name: importlib.metadata.version(name) for name in ("quantus", "scikit-image", "torch", "numpy", "scipy")}


# ─── localisation ──────────────────────────────────────────────────────────────────────────

def coverage_of(inside, height, width, samples=8):
    """Fraction of each pixel's samples² sub-pixel centres for which inside(y, x) holds."""
    offsets = (np.arange(samples) + 0.5) / samples
    ys = (np.arange(height)[:, None] + offsets[None, :]).ravel()
    xs = (np.arange(width)[:, None] + offsets[None, :]).ravel()
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    hits = inside(yy, xx).astype(np.float64)
    return hits.reshape(height, samples, width, samples).mean(axis=(1, 3)).astype(np.float32)


def disc(cy, cx, r):
    return lambda y, x: (y - cy) ** 2 + (x - cx) ** 2 <= r * r


def triangle(a, b, c):
    def inside(y, x):
        def side(p, q):
            return (q[1] - p[1]) * (y - p[0]) - (q[0] - p[0]) * (x - p[1])
        s1, s2, s3 = side(a, b), side(b, c), side(c, a)
        return ((s1 >= 0) & (s2 >= 0) & (s3 >= 0)) | ((s1 <= 0) & (s2 <= 0) & (s3 <= 0))
    return inside


def blob(height, width, cy, cx, sigma):
    y, x = np.mgrid[0:height, 0:width]
    return np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * sigma * sigma))


def localisation_cases():
    rng = np.random.default_rng(16)
    cases = []
    # name, coverage, map
    cov = coverage_of(disc(12.3, 18.6, 7.2), 32, 32)
    cases.append(("blob on a disc", cov, blob(32, 32, 13, 17, 4) + 0.3 * rng.standard_normal((32, 32))))
    cov = coverage_of(triangle((6, 5), (26, 9), (14, 27)), 32, 32)
    cases.append(("blob beside a triangle", cov, blob(32, 32, 26, 26, 3) + 0.2 * rng.standard_normal((32, 32))))
    cases.append(("noise on a triangle", cov, rng.standard_normal((32, 32))))
    cov = coverage_of(lambda y, x: (abs(y - 11.5) <= 6) & (abs(x - 25.2) <= 7.3), 24, 40)
    cases.append(("positive map, 24 × 40 square", cov, np.abs(rng.standard_normal((24, 40))) * blob(24, 40, 10, 24, 6)))
    # The maximum 2 pixels right of the disc's edge: a miss at tolerance 0, a hit at 3 and 15.
    cov = coverage_of(disc(16, 16, 5), 32, 32)
    near = 0.1 * rng.standard_normal((32, 32))
    near[16, 23] = 5
    cases.append(("maximum just outside a disc", cov, near))
    # Two equal maxima, the first (row-major) outside and the second inside: MiniNet misses,
    # Quantus (any maximum) hits.
    tied = 0.1 * rng.standard_normal((32, 32))
    tied[2, 2] = tied[16, 16] = 5
    cases.append(("tied maxima, first outside", cov, tied))
    # Negative relevance on the object: Quantus's mass counts it, MiniNet's does not.
    signed = blob(32, 32, 16, 16, 3) - 1.5 * blob(32, 32, 15, 18, 2) + 0.05 * rng.standard_normal((32, 32))
    cases.append(("negative relevance on the object", cov, signed))
    return cases


def torchray_hit(mask, point, tolerance):
    """torchray.benchmark.pointing_game.PointingGame.evaluate, written out: point = (u, v) = (x, y)."""
    v, u = np.meshgrid((np.arange(mask.shape[0], dtype=np.float32) - point[1]) ** 2,
                       (np.arange(mask.shape[1], dtype=np.float32) - point[0]) ** 2, indexing="ij")
    accept = (v + u) < tolerance ** 2
    return bool((mask & accept).any())


def quantus_scores(metric, heatmap, mask):
    a = heatmap[None, None].astype(np.float32)
    s = mask[None, None].astype(np.float32)
    x = np.zeros_like(a)
    return float(metric(model=None, x_batch=x, y_batch=np.array([0]), a_batch=a, s_batch=s)[0])


def make_localisation():
    results = []
    for name, coverage, heatmap in localisation_cases():
        heatmap = np.asarray(f32(heatmap), dtype=np.float32).reshape(coverage.shape)
        mask = coverage >= COVERAGE_THRESHOLD
        flat = heatmap.ravel()
        best = int(np.argmax(flat))              # first maximum in row-major order
        point = (best % heatmap.shape[1], best // heatmap.shape[1])
        results.append({
            "name": name,
            "shape": list(heatmap.shape),
            "map": f32(heatmap),
            "coverage": f32(coverage),
            "maskSize": int(mask.sum()),
            "quantusPointingGame": quantus_scores(quantus.PointingGame(disable_warnings=True), heatmap, mask),
            "quantusRelevanceMassPositivePart": quantus_scores(
                quantus.RelevanceMassAccuracy(disable_warnings=True), np.maximum(heatmap, 0), mask),
            "quantusRelevanceMassSigned": quantus_scores(quantus.RelevanceMassAccuracy(disable_warnings=True), heatmap, mask),
            "quantusRelevanceRank": quantus_scores(quantus.RelevanceRankAccuracy(disable_warnings=True), heatmap, mask),
            "torchRayHits": {str(t): torchray_hit(mask, point, t) for t in (3, 15)},
        })
    return {"versions": versions(), "coverageThreshold": COVERAGE_THRESHOLD, "cases": results}


# ─── similarity and Sobel ─────────────────────────────────────────────────────────────────

def quantus_normalised(a):
    """Quantus's preprocessing of one map (batch of one): normalise_by_max, then abs."""
    return np.abs(normalise_by_max(a[None].astype(np.float64)))[0]


def similarity_pairs():
    rng = np.random.default_rng(2018)
    base = rng.standard_normal((32, 32))
    return [
        ("two random maps", rng.standard_normal((32, 32)), rng.standard_normal((32, 32))),
        ("a map and a noisy copy", base, base + 0.3 * rng.standard_normal((32, 32))),
        ("a map and its smooth part", base, blob(32, 32, 10, 12, 6) * 2 + 0.1 * base),
        ("24 × 40 maps", rng.standard_normal((24, 40)), rng.standard_normal((24, 40))),
        ("7 × 9, the smallest size", rng.standard_normal((7, 9)), rng.standard_normal((7, 9))),
        ("a non-negative CAM and a flat map", blob(32, 32, 16, 16, 5), np.full((32, 32), 0.25) + 1e-3 * rng.standard_normal((32, 32))),
        ("an all-zero map and a map", np.zeros((32, 32)), rng.standard_normal((32, 32))),
    ]


def spearman_of(a, b):
    """Quantus's correlation_spearman of one pair; NaN for a constant map (where Quantus 0.6.0 itself
    fails: scipy then returns a plain float, which has no `.shape`)."""
    if np.all(a == a[0, 0]) or np.all(b == b[0, 0]):
        return float("nan")
    return correlation_spearman(a, b, batched=True)[0]


def make_similarity():
    pairs = []
    for name, a, b in similarity_pairs():
        a = np.asarray(f32(a), dtype=np.float32).reshape(a.shape)
        b = np.asarray(f32(b), dtype=np.float32).reshape(b.shape)
        na, nb = quantus_normalised(a), quantus_normalised(b)
        flat = lambda m: m.reshape(1, -1).astype(np.float64)  # noqa: E731
        spearman_abs = spearman_of(flat(np.abs(a)), flat(np.abs(b)))
        spearman = spearman_of(flat(a), flat(b))
        data_range = float(max(na.max(), nb.max()) - min(na.min(), nb.min()))
        pairs.append({
            "name": name, "shape": list(a.shape), "a": f32(a), "b": f32(b),
            "rankCorrelationOfAbsolute": None if np.isnan(spearman_abs) else float(spearman_abs),
            "rankCorrelation": None if np.isnan(spearman) else float(spearman),
            "structuralSimilarity": float(ssim(na, nb)),
            "skimageStructuralSimilarity": float(structural_similarity(na, nb, data_range=data_range)),
            # SSIM of the raw maps, with their own joint range: Similarity.structuralSimilarity(a, b).
            "rawStructuralSimilarity": float(structural_similarity(
                a.astype(np.float64), b.astype(np.float64),
                data_range=float(max(a.max(), b.max()) - min(a.min(), b.min())))),
        })
    sobels = []
    for picture in ("two-shapes", "triangle"):
        rgb = np.asarray(Image.open(os.path.join(ROOT, "images", "shapes", f"{picture}.png")).convert("RGB")) / 255.0
        edges = 4 * math.sqrt(2) * sobel(rgb2gray(rgb))
        sobels.append({"picture": f"images/shapes/{picture}.png", "shape": list(edges.shape), "edges": f32(edges)})
    return {"versions": versions(), "pairs": pairs, "sobel": sobels}


# ─── MPRT with MiniNet's re-initialisation ──────────────────────────────────────────────────

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def portable_log(x):
    """PortableMath.log, operation for operation."""
    bits = int(np.float64(x).view(np.uint64))
    exponent = float(((bits >> 52) & 0x7FF) - 1023)
    mantissa = float(np.uint64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000).view(np.float64))
    if mantissa > 1.414213562373095:
        mantissa *= 0.5
        exponent += 1
    s = (mantissa - 1) / (mantissa + 1)
    s2 = s * s
    series = 1.0 / 13
    for k in (11, 9, 7, 5, 3):
        series = 1.0 / k + s2 * series
    series = 1 + s2 * series
    return exponent * 0.693147180559945309417232121458 + 2 * s * series


def portable_cos(x):
    """PortableMath.cosAndSin(x).cos, operation for operation (Swift's rounded(): ties away from 0)."""
    v = x * (2 / math.pi)
    q = math.floor(v)
    if v - q >= 0.5:
        q += 1
    t = x - q * (math.pi / 2)
    t2 = t * t
    cosine = 1 - t2 * (1.0 / 132)
    for d in (90, 56, 30, 12, 2):
        cosine = 1 - t2 * (1.0 / d) * cosine
    sine = 1 - t2 * (1.0 / 156)
    for d in (110, 72, 42, 20, 6):
        sine = 1 - t2 * (1.0 / d) * sine
    sine *= t
    return [cosine, -sine, -cosine, sine][int(q) % 4]


class SeededGenerator:
    """MiniNet's SeededGenerator (SplitMix64) and the draws SanityChecks.reinitialise uses."""

    def __init__(self, seed, stream):
        self.state = mix(seed ^ mix((stream + GAMMA) & MASK64))

    def next(self):
        self.state = (self.state + GAMMA) & MASK64
        return mix(self.state)

    def next_uniform(self):
        return np.float32(self.next() >> 40) * np.float32(2.0 ** -24)

    def uniform(self, low, high):
        low, high = np.float32(low), np.float32(high)
        return np.float32(low + np.float32(np.float32(high - low) * self.next_uniform()))

    def normal(self):
        u1 = 1 - float(self.next() >> 11) * 2.0 ** -53
        u2 = float(self.next() >> 11) * 2.0 ** -53
        radius = math.sqrt(-2 * portable_log(u1))
        return np.float32(radius * portable_cos(2 * math.pi * u2))


def fnv1a(name):
    h = 0xCBF29CE484222325
    for byte in name.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & MASK64
    return h


def tutor_reset_parameters(self):
    """SanityChecks.reinitialise for Conv2d and Linear, from the layer's own stream."""
    generator = SeededGenerator(SEED, fnv1a(self.tutor_name))
    with torch.no_grad():
        if isinstance(self, torch.nn.Conv2d):
            fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
            std = np.sqrt(np.float32(2) / np.float32(fan_in))
            values = [generator.normal() * std for _ in range(self.weight.numel())]
        else:
            bound = np.float32(1) / np.sqrt(np.float32(self.in_features))
            values = [generator.uniform(-bound, bound) for _ in range(self.weight.numel())]
        self.weight.copy_(torch.tensor(np.array(values, dtype=np.float32)).reshape(self.weight.shape))
        if self.bias is not None:
            self.bias.zero_()


def saliency_map(model, inputs, targets, **kwargs):
    """The gradient of the target logit, summed over the colour channels: [N, 1, H, W]."""
    x = torch.tensor(inputs, dtype=torch.float32, requires_grad=True)
    logits = model(x)
    logits[torch.arange(len(targets)), torch.as_tensor(targets)].sum().backward()
    return x.grad.sum(dim=1, keepdim=True).numpy()


def ssim_2d(height, width):
    def similarity(a, b, batched=True, **kwargs):
        return np.array([ssim(x.reshape(height, width), y.reshape(height, width)) for x, y in zip(a, b)])
    return similarity


def run_mprt(model, inputs, targets, **options):
    original = (torch.nn.Conv2d.reset_parameters, torch.nn.Linear.reset_parameters)
    torch.nn.Conv2d.reset_parameters = tutor_reset_parameters
    torch.nn.Linear.reset_parameters = tutor_reset_parameters
    try:
        metric = quantus.MPRT(layer_order="top_down", disable_warnings=True, **options)
        scores = metric(model=model, x_batch=inputs, y_batch=targets, a_batch=None, explain_func=saliency_map,
                        batch_size=1, device="cpu")
    finally:
        torch.nn.Conv2d.reset_parameters, torch.nn.Linear.reset_parameters = original
    return scores


def make_mprt(name, model, inputs, targets):
    for module_name, module in model.named_modules():
        module.tutor_name = module_name
    height, width = inputs.shape[2:]
    absolute = run_mprt(model, inputs, targets)
    signed = run_mprt(model, inputs, targets, abs=False)
    structural = run_mprt(model, inputs, targets, similarity_func=ssim_2d(height, width))
    layers = [layer for layer in absolute if layer != "original"]
    with torch.no_grad():
        logits = model(torch.tensor(inputs))
    return {
        "versions": versions(), "model": name, "seed": SEED,
        "inputShape": list(inputs.shape[1:]), "targets": [int(t) for t in targets],
        # The narrow ResNet's input is Fixtures/resnet/input.npy; the small CNN's are stored here.
        "inputs": [f32(x) for x in inputs] if name == "mininet" else None,
        "logits": [f32(row) for row in logits.numpy()],
        "layers": layers,
        "rankCorrelationOfAbsolute": [[float(v) for v in absolute[layer]] for layer in layers],
        "rankCorrelation": [[float(v) for v in signed[layer]] for layer in layers],
        "structuralSimilarity": [[float(v) for v in structural[layer]] for layer in layers],
    }


def mininet_inputs():
    pictures = []
    for picture in ("circle", "square", "triangle"):
        rgb = np.asarray(Image.open(os.path.join(ROOT, "images", "shapes", f"{picture}.png")).convert("RGB"))
        x = rgb.astype(np.float32) / 255
        pictures.append(((x - 0.5) / 0.25).transpose(2, 0, 1))
    return np.stack(pictures).astype(np.float32)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUTPUT, exist_ok=True)

    def write(filename, content):
        with open(os.path.join(OUTPUT, filename), "w") as handle:
            json.dump(content, handle, separators=(",", ":"))
        print("wrote", filename)

    write("localisation.json", make_localisation())
    write("similarity.json", make_similarity())

    model, _ = load_tutor_model(os.path.join(ROOT, "models", "mininet.safetensors"))
    inputs = mininet_inputs()
    with torch.no_grad():
        targets = model(torch.tensor(inputs)).argmax(dim=1).numpy()
    write("mprt-mininet.json", make_mprt("mininet", model, inputs, targets))

    block, blocks = resnet_reference.ARCHITECTURES["resnet18"]
    resnet = resnet_reference.NarrowResNet(block, blocks, [4, 8, 16, 32], 10)
    resnet.load_state_dict(load_file(os.path.join(RESNETS, "resnet18-narrow.safetensors")))
    resnet.eval()
    x = np.load(os.path.join(RESNETS, "input.npy")).astype(np.float32)
    with torch.no_grad():
        target = resnet(torch.tensor(x)).argmax(dim=1).numpy()
    write("mprt-resnet18.json", make_mprt("resnet18", resnet, x, target))


if __name__ == "__main__":
    main()
