"""Reference Integrated Gradients from Captum 0.9 for the IG parity tests.

For each 32×32 picture of images/shapes/ it runs captum.attr.IntegratedGradients on the shipped
model (models/mininet.safetensors, rebuilt in PyTorch by tools/fixtures/torch_model.py) with the
zero baseline and the predicted class, for two quadrature settings, and writes
Tests/MiniNetTests/Fixtures/parity/ig-<picture>.json:

    {"image": "images/shapes/circle.png", "target": 0, "logits": [...],
     "runs": [{"method": "gauss-legendre", "captum_method": "gausslegendre", "steps": 50,
               "alphas": [...], "weights": [...], "delta": ..., "sensitivity": {"baseline": ..., "input": ...}, "shape": [3, 32, 32],
               "attributions": [...]}, ...]}

Each run also has the float64 twin of its attributions (Captum on `.double()` copies of the model
and the input), written next to the JSON as "float64_twin": ig-<picture>-<method>-f64-minus-f32.npy,
float32(ref64 − ref32) with ref32 as stored in the JSON, [3, 32, 32]; the run records "float32_distance" = max |ref32 − ref64|, "float32_spread" = the largest such distance over
this run and 8 float32 runs on the parameters and input rounded once more (see
tools/fixtures/resnet_reference.py float32_runs), "max_abs_float64", and
"other_float32_order_distance" = max |alt32 − ref64| for Captum in float32 with oneDNN's
convolutions switched off (another summation order). IGParityTests compares MiniNet with ref64
relative to float32_distance (ConditionedParity.swift, docs/numerics.md).

Run from the repository root: /root/refenv/bin/python tools/parity/make_ig_parity.py
"""
import copy
import json
import os
import sys

import numpy as np
import torch
from captum.attr import IntegratedGradients
from captum.attr._utils.approximation_methods import approximation_parameters
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools", "fixtures"))
from torch_model import load_tutor_model  # noqa: E402
from resnet_reference import float32_runs, largest_distance  # noqa: E402

PICTURES = ["circle", "square", "triangle", "two-shapes"]
# (our name, Captum's name, steps)
RUNS = [("gauss-legendre", "gausslegendre", 50), ("riemann-trapezoid", "riemann_trapezoid", 20)]


def short(value):
    """8 significant digits: far below the 1e-4 tolerance, and half the file size."""
    return float(f"{value:.8g}")


def main():
    torch.set_num_threads(1)
    model, spec = load_tutor_model(os.path.join(ROOT, "models", "mininet.safetensors"))
    mean = torch.tensor(spec["mean"], dtype=torch.float32).view(-1, 1, 1)
    std = torch.tensor(spec["std"], dtype=torch.float32).view(-1, 1, 1)
    out_dir = os.path.join(ROOT, "Tests", "MiniNetTests", "Fixtures", "parity")
    os.makedirs(out_dir, exist_ok=True)
    ig = IntegratedGradients(model)
    ig64 = IntegratedGradients(copy.deepcopy(model).double())
    for name in PICTURES:
        relative = f"images/shapes/{name}.png"
        pixels = np.asarray(Image.open(os.path.join(ROOT, relative)).convert("RGB"), dtype=np.uint8)
        image = torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255
        x = ((image - mean) / std).unsqueeze(0)
        with torch.no_grad():
            logits = model(x)[0]
        target = int(logits.argmax())
        runs = []
        for ours, captum_name, steps in RUNS:
            attributions, delta = ig.attribute(x, baselines=torch.zeros_like(x), target=target, n_steps=steps,
                                               method=captum_name, return_convergence_delta=True)
            # How well-posed the comparison is: Captum's own change when the baseline or the
            # input moves by ~1e-6. Where max-pooling windows tie up to rounding (near the
            # baseline), the gradient flips between the tied pixels on rounding noise, and no
            # Float32 reimplementation can be expected to match closer than this.
            generator = torch.Generator().manual_seed(0)
            nudge = 1e-6 * torch.randn(x.shape, generator=generator)
            moved_baseline = ig.attribute(x, baselines=nudge, target=target, n_steps=steps, method=captum_name)
            moved_input = ig.attribute(x + nudge, baselines=torch.zeros_like(x), target=target, n_steps=steps,
                                       method=captum_name)
            sensitivity = {"baseline": float((moved_baseline - attributions).abs().max()),
                           "input": float((moved_input - attributions).abs().max())}
            attributions64 = ig64.attribute(x.double(), baselines=torch.zeros_like(x.double()), target=target,
                                            n_steps=steps, method=captum_name)
            with torch.backends.mkldnn.flags(enabled=False):
                other = ig.attribute(x, baselines=torch.zeros_like(x), target=target, n_steps=steps, method=captum_name)
            spread = largest_distance(float32_runs(
                lambda m, v: IntegratedGradients(m).attribute(v, baselines=torch.zeros_like(v), target=target, n_steps=steps,
                                                              method=captum_name).detach(),
                model, x, other_orders=False), attributions64)
            stored = [short(v) for v in attributions[0].detach().flatten().tolist()]
            twin = attributions64[0].flatten().numpy() - np.asarray(stored, dtype=np.float32).astype(np.float64)
            twin_file = f"ig-{name}-{ours}-f64-minus-f32.npy"
            np.save(os.path.join(out_dir, twin_file), twin.astype(np.float32).reshape(attributions.shape[1:]))
            step_sizes, alphas = approximation_parameters(captum_name)
            runs.append({"method": ours, "captum_method": captum_name, "steps": steps,
                         "alphas": alphas(steps), "weights": step_sizes(steps),
                         "delta": float(delta[0]), "sensitivity": sensitivity, "shape": list(attributions.shape[1:]),
                         "attributions": stored,
                         "float64_twin": twin_file,
                         "float32_distance": float(np.abs(twin).max()),
                         "float32_spread": max(float(np.abs(twin).max()), spread),
                         "max_abs_float64": float(attributions64.abs().max()),
                         "other_float32_order_distance": float((other.detach().double() - attributions64).abs().max())})
        fixture = {"image": relative, "target": target, "logits": [float(v) for v in logits], "runs": runs}
        path = os.path.join(out_dir, f"ig-{name}.json")
        with open(path + ".tmp", "w") as handle:
            json.dump(fixture, handle)
        os.replace(path + ".tmp", path)
        print(path, os.path.getsize(path), "bytes, target", target,
              "sensitivity", [run["sensitivity"] for run in runs],
              [{k: run[k] for k in ("float32_distance", "float32_spread", "max_abs_float64",
                                     "other_float32_order_distance")} for run in runs])


if __name__ == "__main__":
    main()
