"""Zennit 0.5.1 references for MiniNet's LRP composites (LRPCompositeParityTests.swift).

Run from the repository root with the reference environment:

    /root/refenv/bin/python tools/parity/make_lrp_composites_parity.py

Writes Tests/MiniNetTests/Fixtures/lrp-composites/:

    <model>-<composite>.npy   [2, 3, 32, 32]  [0] Zennit's float32 relevance at the input,
                                              [1] float32(ref64 − ref32): the same composite on .double()
                                                  copies of the model and the input (the float64 twin)
    <model>-input.npy         [1, 3, 32, 32]  the normalised input
    manifest.json             targets, bounds, logits, Σ R, float32 spreads and every setting

Models: the lessons' small CNN (models/mininet.safetensors; canonizer SequentialMergeBatchNorm) and
the narrow torchvision ResNet-18/34/50 of Fixtures/resnet (canonizer ResNetCanonizer: BatchNorm folded
into the convolution before it, each residual addition a zennit Sum layer).

Composites (zennit.composites, all with their defaults: epsilon = stabilizer = 1e-6, gamma = 0.25), on
top of Zennit's layer_map_base (ReLU → Pass, Sum → Norm, AdaptiveAvgPool2d → Norm, BatchNorm → Pass;
MaxPool2d and Flatten have no rule, so the plain gradient):

    epsilon               LayerMapComposite(layer_map_base() + Convolution → Epsilon, Linear → Epsilon)
    epsilon-plus          EpsilonPlus:        Convolution → ZPlus, torch.nn.Linear → Epsilon
    epsilon-plus-flat     EpsilonPlusFlat:    first Linear-type layer (conv or dense) → Flat, then as EpsilonPlus
    epsilon-gamma-box     EpsilonGammaBox:    first Convolution → ZBox(low, high), Convolution → Gamma(0.25),
                                              torch.nn.Linear → Epsilon; low = (0 − mean)/std, high = (1 − mean)/std
                                              per channel, the model's own normalisation
    epsilon-alpha2-beta1  EpsilonAlpha2Beta1: Convolution → AlphaBeta(2, 1), torch.nn.Linear → Epsilon

The relevance starts as output · one-hot(target), target = argmax of the logits. The ResNets' epsilon
composite is covered by Fixtures/resnet (64 × 64), so it is not repeated here.

Inputs: the small CNN gets make_lrp_parity.py's noisy square (no max-pool ties); the ResNets get the
committed Fixtures/resnet/input.npy averaged over 2 × 2 blocks (32 × 32, so each fixture stays small),
clipped to the ImageNet box [low, high] that zB assumes the input lies in.

`float32_spread` is, as in tools/fixtures/resnet_fixtures.py, the largest max |ref32' − ref64| over the
stored run and the float32 variants of resnet_reference.float32_runs (8 runs with every parameter and
input rounded once more, PyTorch without oneDNN, channels_last): how far correct float32 results land
from float64. MiniNet must stay within 4 · float32_spread + a float32 floor (ConditionedParity.swift).
"""
import copy
import importlib.metadata
import json
import os
import sys

import numpy as np
import torch
from zennit.attribution import Gradient
from zennit.canonizers import SequentialMergeBatchNorm
from zennit.composites import (EpsilonAlpha2Beta1, EpsilonGammaBox, EpsilonPlus, EpsilonPlusFlat,
                               LayerMapComposite, layer_map_base)
from zennit.rules import Epsilon
from zennit.torchvision import ResNetCanonizer
from zennit.types import Convolution

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
sys.path.insert(0, HERE)
import resnet_reference as reference  # noqa: E402
from make_lrp_parity import picture  # noqa: E402
from torch_model import load_tutor_model  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "Tests", "MiniNetTests", "Fixtures", "lrp-composites")
RESNETS = os.path.join(ROOT, "Tests", "MiniNetTests", "Fixtures", "resnet")
IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
COMPOSITES = ["epsilon", "epsilon-plus", "epsilon-plus-flat", "epsilon-gamma-box", "epsilon-alpha2-beta1"]
ZENNIT_NAMES = {"epsilon": "LayerMapComposite(layer_map_base() + Epsilon on Convolution and Linear)",
                "epsilon-plus": "EpsilonPlus", "epsilon-plus-flat": "EpsilonPlusFlat",
                "epsilon-gamma-box": "EpsilonGammaBox", "epsilon-alpha2-beta1": "EpsilonAlpha2Beta1"}


def bounds(mean, std):
    """(low, high) [1, 3, 1, 1]: the pixel range 0…1 after (x − mean)/std."""
    mean = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return (0 - mean) / std, (1 - mean) / std


def make_composite(name, canonizer, low, high):
    canonizers = [canonizer()]
    if name == "epsilon":
        return LayerMapComposite(layer_map=layer_map_base() + [(Convolution, Epsilon()), (torch.nn.Linear, Epsilon())],
                                 canonizers=canonizers)
    if name == "epsilon-plus":
        return EpsilonPlus(canonizers=canonizers)
    if name == "epsilon-plus-flat":
        return EpsilonPlusFlat(canonizers=canonizers)
    if name == "epsilon-gamma-box":
        return EpsilonGammaBox(low=low, high=high, canonizers=canonizers)
    if name == "epsilon-alpha2-beta1":
        return EpsilonAlpha2Beta1(canonizers=canonizers)
    raise ValueError(name)


def relevance(model, x, target, name, canonizer, low, high):
    """(relevance [1, 3, H, W], the canonized network's logits [1, L])."""
    x = x.clone().requires_grad_(True)
    composite = make_composite(name, canonizer, low.to(x.dtype), high.to(x.dtype))
    with Gradient(model=model, composite=composite) as attributor:
        output, result = attributor(
            x, lambda out: out * torch.nn.functional.one_hot(torch.tensor([target]), out.shape[1]).to(out.dtype))
    return result.detach(), output.detach()


def narrow_resnet(name):
    block, layers = reference.ARCHITECTURES[name]
    model = reference.NarrowResNet(block, layers, [4, 8, 16, 32], 10)
    model.load_state_dict(torch.load(os.path.join(RESNETS, f"{name}-narrow.pth"), map_location="cpu", weights_only=True))
    return model.eval()


def resnet_input(low, high):
    """input.npy [1, 3, 64, 64] averaged over 2 × 2 blocks, clipped to [low, high]: [1, 3, 32, 32]."""
    x = torch.from_numpy(np.load(os.path.join(RESNETS, "input.npy")))
    x = torch.nn.functional.avg_pool2d(x, 2)
    return torch.maximum(torch.minimum(x, high), low).to(torch.float32).contiguous()


def save(name, array):
    path = os.path.join(OUT, name)
    np.save(path, np.ascontiguousarray(array, dtype=np.float32))
    return os.path.getsize(path)


def models():
    """(name, model, input [1, 3, 32, 32], canonizer, mean, std, depth, composites)."""
    small, spec = load_tutor_model(os.path.join(ROOT, "models", "mininet.safetensors"))
    size = spec["inputSize"][1]
    mean = np.array(spec["mean"], dtype=np.float32)[:, None, None]
    std = np.array(spec["std"], dtype=np.float32)[:, None, None]
    square = torch.from_numpy(((picture("square", size) - mean) / std).astype(np.float32)[None].copy())
    yield "mininet", small, square, SequentialMergeBatchNorm, spec["mean"], spec["std"], 4, COMPOSITES
    low, high = bounds(IMAGENET_MEAN, IMAGENET_STD)
    for name, depth in [("resnet18", 18), ("resnet34", 34), ("resnet50", 50)]:
        yield name, narrow_resnet(name), resnet_input(low, high), ResNetCanonizer, IMAGENET_MEAN, IMAGENET_STD, depth, COMPOSITES[1:]


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = {"source": "tools/parity/make_lrp_composites_parity.py",
                "versions": reference.versions(),
                "settings": {"epsilon": 1e-6, "stabilizer": 1e-6, "gamma": 0.25, "alpha": 2, "beta": 1,
                             "start": "output * one_hot(target), target = argmax of the logits",
                             "layer_map_base": "ReLU → Pass, Sum → Norm(1e-6), AdaptiveAvgPool2d → Norm(1e-6), "
                                               "BatchNorm → Pass; MaxPool2d, Flatten: gradient"},
                "composites": ZENNIT_NAMES, "models": {}, "files": []}
    for name, model, x, canonizer, mean, std, depth, composites in models():
        low, high = bounds(mean, std)
        with torch.no_grad():
            logits = model(x)
        target = int(logits.argmax())
        size = save(f"{name}-input.npy", x.numpy())
        manifest["models"][name] = {"input": f"{name}-input.npy", "input_bytes": size, "target": target,
                                    "logits": [float(v) for v in logits[0]], "depth": depth,
                                    "canonizer": canonizer.__name__, "mean": mean, "std": std,
                                    "low": [float(v) for v in low.flatten()], "high": [float(v) for v in high.flatten()]}
        double = copy.deepcopy(model).double()
        for composite in composites:
            ref32, canonized = relevance(model, x, target, composite, canonizer, low, high)
            ref64, _ = relevance(double, x.double(), target, composite, canonizer, low, high)
            runs = reference.float32_runs(lambda m, v: relevance(m, v, target, composite, canonizer, low, high)[0], model, x)
            spread = reference.largest_distance([ref32] + runs, ref64)
            twin = (ref64 - ref32.double()).to(torch.float32)
            file = f"{name}-{composite}.npy"
            size = save(file, torch.cat([ref32, twin]).numpy())
            entry = {"file": file, "bytes": size, "model": name, "composite": composite, "zennit": ZENNIT_NAMES[composite],
                     "target": target, "canonized_logit": float(canonized[0, target]),
                     "relevance_sum": float(ref32.double().sum()), "relevance_sum_float64": float(ref64.sum()),
                     "relevance_abs_sum_float64": float(ref64.abs().sum()),
                     "max_abs_float64": float(ref64.abs().max()),
                     "float32_distance": float((ref32.double() - ref64).abs().max()),
                     "float32_spread": spread}
            manifest["files"].append(entry)
            print(f"{file}: {size} bytes, y^c {entry['canonized_logit']:.5g}, Σ R {entry['relevance_sum']:.5g}, "
                  f"max |R| {entry['max_abs_float64']:.4g}, spread/max {spread / max(entry['max_abs_float64'], 1e-30):.2g}")
    with open(os.path.join(OUT, "manifest.json"), "w") as handle:
        json.dump(manifest, handle, indent=1)
        handle.write("\n")


if __name__ == "__main__":
    main()
