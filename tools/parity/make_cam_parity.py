"""Reference Grad-CAM and Ablation-CAM results from pytorch-grad-cam 1.5.7 for the shipped model.

Writes Tests/MiniNetTests/Fixtures/parity/cam-<shape>.json, one file per picture of
images/shapes/<shape>.png, read by Tests/MiniNetTests/CAMParityTests.swift:

    input    [3, 32, 32]  the picture preprocessed as ImageClassifier.preprocess does:
                          x = bytes/255, then (x − 0.5)/0.25 per channel
    logits   [3]          PyTorch's logits
    results  one per (method, layer, class), with ClassifierOutputTarget(class) (the logit):
        weights  [K]      get_cam_weights (α^c_k for GradCAM, (y^c − y^c_k)/y^c for AblationCAM)
        map      [h, w]   ReLU(Σ_k weights_k · A^k) at the layer's resolution, captured before
                          pytorch-grad-cam scales and resizes it (scale_cam_image)

pytorch-grad-cam's AblationLayer replaces an ablated channel by 0 only when the minimum of the
layer's activations is exactly 0, and by (minimum − 1e7) otherwise. The ablated layer here is
features[10], a ReLU, so its minimum is 0 and the channel is set to 0, as in the article and in
MiniNet; the fixture records `activationMinimum` and `ablationValue` to show it.

Run from the repository root:  /root/refenv/bin/python tools/parity/make_cam_parity.py
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image
from pytorch_grad_cam import AblationCAM, GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from torch_model import load_tutor_model  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUTPUT = os.path.join(ROOT, "Tests", "MiniNetTests", "Fixtures", "parity")
SHAPES = ["circle", "square", "triangle"]


def capturing(method_class):
    """A subclass of a pytorch-grad-cam method that keeps the channel weights and the raw map."""

    class Capturing(method_class):
        def get_cam_weights(self, *args, **kwargs):
            self.captured_weights = np.array(super().get_cam_weights(*args, **kwargs), dtype=np.float32)
            return self.captured_weights

        def get_cam_image(self, *args, **kwargs):
            cam = super().get_cam_image(*args, **kwargs)       # Σ_k w_k A^k, [N, h, w]
            self.captured_map = np.maximum(cam, 0)            # what compute_cam_per_layer does next
            return cam

    return Capturing


def preprocess(path):
    """bytes/255, then (x − 0.5)/0.25: ImageClassifier.preprocess for a 32×32 picture. → [3, H, W]"""
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / np.float32(255)
    normalized = (pixels - np.float32(0.5)) / np.float32(0.25)
    return torch.from_numpy(np.ascontiguousarray(normalized.transpose(2, 0, 1)))


def tensor_json(array):
    array = np.asarray(array, dtype=np.float32)
    return {"shape": list(array.shape), "data": [float(v) for v in array.reshape(-1)]}


def main():
    model, spec = load_tutor_model(os.path.join(ROOT, "models", "mininet.safetensors"))
    assert spec["mean"] == [0.5, 0.5, 0.5] and spec["std"] == [0.25, 0.25, 0.25], spec
    configurations = [("GradCAM", GradCAM, "features.10"), ("GradCAM", GradCAM, "features.6"),
                      ("AblationCAM", AblationCAM, "features.10")]
    os.makedirs(OUTPUT, exist_ok=True)
    for shape in SHAPES:
        image = f"images/shapes/{shape}.png"
        input_tensor = preprocess(os.path.join(ROOT, image))[None]       # [1, 3, H, W]
        with torch.no_grad():
            logits = model(input_tensor)[0]
        captured = {}
        hook = model.features[10].register_forward_hook(lambda m, i, o: captured.__setitem__("A", o.detach()))
        with torch.no_grad():
            model(input_tensor)
        hook.remove()
        activation_minimum = float(captured["A"].min())
        results = []
        for name, method_class, layer in configurations:
            target_layer = model.get_submodule(layer)
            for class_index in range(len(spec["classNames"])):
                cam = capturing(method_class)(model=model, target_layers=[target_layer])
                cam(input_tensor=input_tensor, targets=[ClassifierOutputTarget(class_index)])
                results.append({"method": name, "layer": layer, "class": class_index,
                                "weights": [float(v) for v in cam.captured_weights[0]],
                                "map": tensor_json(cam.captured_map[0])})
        fixture = {
            "generator": "tools/parity/make_cam_parity.py, pytorch-grad-cam 1.5.7, torch " + torch.__version__,
            "model": "models/mininet.safetensors",
            "image": image,
            "target": "ClassifierOutputTarget(class): the logit",
            "activationMinimum": activation_minimum,
            "ablationValue": 0.0 if activation_minimum == 0 else activation_minimum - 1e7,
            "input": tensor_json(input_tensor[0].numpy()),
            "logits": [float(v) for v in logits],
            "results": results,
        }
        path = os.path.join(OUTPUT, f"cam-{shape}.json")
        with open(path + ".tmp", "w") as handle:
            json.dump(fixture, handle, separators=(",", ":"))
        os.replace(path + ".tmp", path)
        print(path, os.path.getsize(path), "bytes; activation minimum", activation_minimum)


if __name__ == "__main__":
    main()
