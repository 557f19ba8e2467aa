"""LRP reference relevances from Zennit 0.5.1 for LRPParityTests.swift.

Run from the repository root with the reference environment:

    /root/refenv/bin/python tools/parity/make_lrp_parity.py

Configuration (matched by MiniNet's `LRPRuleMap(linear: .epsilon(1e-6), averagePool: .epsilon(1e-6))`
with `canonize: true`):
- canonizer: SequentialMergeBatchNorm (BatchNorm2d folded into the Conv2d before it);
- Conv2d and Linear: Epsilon(epsilon=1e-6), i.e. z + 1e-6·sign(z), sign(0) = +1;
- ReLU: Pass (relevance passes through unchanged);
- AdaptiveAvgPool2d: Norm() (Zennit's default for average pooling in its layer maps): the
  epsilon rule with stabiliser 1e-6 on a linear layer with weights 1/Z;
- MaxPool2d and Flatten: no rule, so Zennit uses the plain gradient: the winner of each
  window receives the relevance, Flatten reshapes.
The relevance at the output is one-hot · y^c. The pictures are drawn here (a square and a
disc) so that the fixture is self-contained; the input stored is already normalised.

Seeded noise (±0.08) is added to the pictures on purpose: in a flat region every window of a
max pool holds exactly equal values, and which of them "wins" then depends on the last bit of
the convolution's rounding, which differs between PyTorch and MiniNet. The relevance totals
would still agree, but single pixels would not. With noise there are no ties.
"""
import json
import os
import sys

import numpy as np
import torch
from zennit.canonizers import SequentialMergeBatchNorm
from zennit.composites import LayerMapComposite
from zennit.rules import Epsilon, Norm, Pass
from zennit.types import Activation, AvgPool, Convolution, Linear
from zennit.attribution import Gradient

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from torch_model import load_tutor_model  # noqa: E402

EPSILON = 1e-6


def compact(values):
    """Float32 values with 8 significant digits (enough to round-trip a float32 closely)."""
    return [float("%.8g" % v) for v in values]


def picture(kind, size):
    """[3, size, size] in 0…1: a coloured shape on a grey background."""
    image = np.full((3, size, size), 0.45, dtype=np.float32)
    yy, xx = np.mgrid[0:size, 0:size]
    if kind == "square":
        mask = (yy >= 9) & (yy < 23) & (xx >= 8) & (xx < 22)
        colour = (0.9, 0.2, 0.1)
    else:
        mask = (yy - 15.5) ** 2 + (xx - 17.0) ** 2 < 7.5 ** 2
        colour = (0.1, 0.3, 0.85)
    for channel in range(3):
        image[channel][mask] = colour[channel]
    noise = np.random.default_rng(2026 if kind == "square" else 7).uniform(-0.08, 0.08, image.shape)
    return np.clip(image + noise.astype(np.float32), 0, 1)


def main():
    model, spec = load_tutor_model("models/mininet.safetensors")
    size = spec["inputSize"][1]
    mean = np.array(spec["mean"], dtype=np.float32)[:, None, None]
    std = np.array(spec["std"], dtype=np.float32)[:, None, None]
    composite = LayerMapComposite(
        layer_map=[(Activation, Pass()), (AvgPool, Norm()), (Convolution, Epsilon(EPSILON)), (Linear, Epsilon(EPSILON))],
        canonizers=[SequentialMergeBatchNorm()],
    )
    out_dir = "Tests/MiniNetTests/Fixtures/parity"
    os.makedirs(out_dir, exist_ok=True)
    for kind in ["square", "disc"]:
        normalized = ((picture(kind, size) - mean) / std).astype(np.float32)
        x = torch.from_numpy(normalized[None].copy()).requires_grad_(True)
        with torch.no_grad():
            logits = model(x)[0]
        target = int(logits.argmax())
        one_hot = torch.zeros(1, logits.numel())
        one_hot[0, target] = 1.0
        with Gradient(model=model, composite=composite) as attributor:
            output, relevance = attributor(x, lambda out: out * one_hot)
        fixture = {
            "source": "zennit 0.5.1, tools/parity/make_lrp_parity.py",
            "model": "models/mininet.safetensors",
            "rule": "Epsilon", "epsilon": EPSILON, "average_pool_rule": "Norm", "canonizer": "SequentialMergeBatchNorm",
            "target": target,
            "logits": [float(v) for v in logits],
            "canonized_logits": [float(v) for v in output[0].detach()],
            "input_shape": list(normalized.shape),
            "input": compact(normalized.ravel()),
            "relevance": compact(relevance[0].detach().numpy().ravel()),
        }
        path = os.path.join(out_dir, f"lrp-epsilon-{kind}.json")
        with open(path, "w") as handle:
            json.dump(fixture, handle, separators=(",", ":"))
        print(path, os.path.getsize(path), "bytes; Σ R =", float(relevance.sum()), "y^c =", float(logits[target]))


if __name__ == "__main__":
    main()
