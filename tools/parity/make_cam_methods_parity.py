"""Reference maps of the CAM variants from pytorch-grad-cam 1.5.7, for MiniNet's parity tests.

Writes Tests/MiniNetTests/Fixtures/parity/cam-methods-<model>.json, read by
Tests/MiniNetTests/CAMMethodsParityTests.swift, for

    mininet    models/mininet.safetensors on images/shapes/two-shapes.png (preprocessed as
               ImageClassifier.preprocess does: x = bytes/255, then (x − 0.5)/0.25), at
               features.10 (8×8, the layer that feeds global average pooling) for every class and
               features.6 (16×16) for the predicted class
    resnet18, resnet34, resnet50
               the narrow ResNets of Tests/MiniNetTests/Fixtures/resnet (<model>-narrow.safetensors)
               on Fixtures/resnet/input.npy, at layer4[-1] (2×2) and layer3[-1] (4×4), for the
               predicted class

and the methods (MiniNet's ids)

    gradcam++            GradCAMPlusPlus        weights = get_cam_weights
    xgradcam             XGradCAM               weights = get_cam_weights
    hirescam             HiResCAM               (per element; no weights)
    gradcam-elementwise  GradCAMElementWise     (per element; no weights)
    layercam             LayerCAM               (per element; no weights)
    scorecam             ScoreCAM               weights = softmax of the masked scores, batch 16
    eigencam             EigenCAM with the sign rule of get_2d_projection_with_sign_correction

each with ClassifierOutputTarget(class) (the logit). Every result holds

    map      [h, w]   np.maximum(cam, 0) at the layer's resolution, what compute_cam_per_layer
                      does to get_cam_image's output before scaling and resizing
    weights  [K]      for the methods that have get_cam_weights
    final    the library's returned map (scale_cam_image, cv2.resize to the input size,
             scale_cam_image again), only for the first layer and the predicted class, and only at
             the rows and columns listed in `finalRows`/`finalColumns` (every third or fifth, and
             the last), to keep the file small; the sampled positions still meet every phase of
             the bilinear resize.

Eigen-CAM's sign: get_2d_projection (used by EigenCAM) keeps whatever sign LAPACK's SVD gives; the
fixture instead runs EigenCAM with pytorch-grad-cam's own get_2d_projection_with_sign_correction
(flip when |min| > |max|), MiniNet's rule. It also stores `cam`, the signed projection before the
ReLU, `librarySign`, +1 when plain EigenCAM on this machine gave the same sign and −1 when it gave
the opposite one, and `singularValues`, the three largest singular values of the centred
activations (float64), which say how well the principal direction is determined.

Conditioning: every result also records `float32Gap`, how far correct float32 runs of the library
land from its float64 run, relative to the result's size (see `explain` below). Where that is
above 1e-5, a tenth of the 1e-4 criterion, the float32 reference is itself too uncertain for it
(Score-CAM on the narrow ResNet-50: its masks come from activations 50 layers deep, and the score
of a masked input is far more sensitive to the mask than to rounding), and the result carries the
float64 twin `<q>64Minus32` and `<q>Spread` for Tests/MiniNetTests/ConditionedParity.swift.

Numbers are written with the shortest decimal that reads back as the same float32.

Run from the repository root:  /root/refenv/bin/python tools/parity/make_cam_methods_parity.py
"""
import copy
import importlib.metadata
import json
import os
import sys

os.environ.setdefault("TQDM_DISABLE", "1")   # Score-CAM's progress bars

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file
from pytorch_grad_cam import (EigenCAM, GradCAMElementWise, GradCAMPlusPlus, HiResCAM, LayerCAM, ScoreCAM,
                              XGradCAM)
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection, get_2d_projection_with_sign_correction

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
from torch_model import load_tutor_model  # noqa: E402
import resnet_reference  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUTPUT = os.path.join(ROOT, "Tests", "MiniNetTests", "Fixtures", "parity")
RESNETS = os.path.join(ROOT, "Tests", "MiniNetTests", "Fixtures", "resnet")
PICTURE = "images/shapes/two-shapes.png"
SCORE_CAM_BATCH_SIZE = 16  # pytorch-grad-cam's default
GAP_LIMIT = 1e-5           # float32 gaps above this get a float64 twin (a tenth of the 1e-4 criterion)


class SignCorrectedEigenCAM(EigenCAM):
    """EigenCAM whose projection follows get_2d_projection_with_sign_correction (MiniNet's sign rule)."""

    def get_cam_image(self, input_tensor, target_layer, target_category, activations, grads, eigen_smooth):
        self.plain_projection = get_2d_projection(activations)
        return get_2d_projection_with_sign_correction(activations)


METHODS = [("gradcam++", GradCAMPlusPlus), ("xgradcam", XGradCAM), ("hirescam", HiResCAM),
           ("gradcam-elementwise", GradCAMElementWise), ("layercam", LayerCAM), ("scorecam", ScoreCAM),
           ("eigencam", SignCorrectedEigenCAM)]
HAS_WEIGHTS = {"gradcam++", "xgradcam", "scorecam"}


def capturing(method_class):
    """A subclass of a pytorch-grad-cam method that keeps the weights and the signed cam."""

    class Capturing(method_class):
        def get_cam_weights(self, *args, **kwargs):
            weights = super().get_cam_weights(*args, **kwargs)
            self.captured_weights = np.array(weights)
            return weights

        def get_cam_image(self, *args, **kwargs):
            cam = super().get_cam_image(*args, **kwargs)       # [N, h, w], before the ReLU
            self.captured_cam = np.array(cam)
            return cam

    return Capturing


def short(value):
    """The shortest decimal that reads back as the same float32 (as a Python float)."""
    return float(str(np.float32(value)))


def tensor_json(array):
    array = np.asarray(array, dtype=np.float32)
    return {"shape": list(array.shape), "data": [short(v) for v in array.reshape(-1)]}


def sample_positions(size, stride):
    return sorted(set(range(0, size, stride)) | {size - 1})


def singular_values(model, module, x):
    captured = {}
    hook = module.register_forward_hook(lambda m, i, o: captured.__setitem__("A", o.detach().clone()))
    with torch.no_grad():
        model(x)
    hook.remove()
    activations = captured["A"][0].double().numpy()                  # [K, h, w]
    columns = activations.reshape(activations.shape[0], -1).T       # [hw, K]
    centred = columns - columns.mean(axis=0)
    return [float(s) for s in np.linalg.svd(centred, compute_uv=False)[:3]]


def run(method, model, x, layer, class_index, rows):
    """One pytorch-grad-cam run → {"map": [h, w], "weights": [K] or absent, "final": sampled [r, r],
    "cam": signed, "plain": plain EigenCAM projection}, in the precision of `model` and `x`."""
    method_class = dict(METHODS)[method]
    explainer = capturing(method_class)(model=model, target_layers=[model.get_submodule(layer)])
    if method == "scorecam":
        explainer.batch_size = SCORE_CAM_BATCH_SIZE
    final = explainer(input_tensor=x, targets=[ClassifierOutputTarget(class_index)])[0]
    explainer.activations_and_grads.release()
    cam = np.asarray(explainer.captured_cam[0], dtype=np.float64)
    out = {"map": np.maximum(cam, 0), "cam": cam, "final": np.asarray(final, dtype=np.float64)[np.ix_(rows, rows)]}
    if method in HAS_WEIGHTS:
        out["weights"] = np.asarray(explainer.captured_weights[0], dtype=np.float64)
    if method == "eigencam":
        out["plain"] = np.asarray(explainer.plain_projection[0], dtype=np.float64)
    return out


def explain(model, x, layers, classes_for_layer, predicted, final_stride):
    """One result per (method, layer, class).

    Every quantity q (map, weights, final; Eigen-CAM's cam) is also computed by the same library in float64 (on
    .double() copies of the model and the input) and in the float32 variants of
    resnet_reference.float32_runs (the parameters and input rounded once more, 8 seeds; oneDNN off;
    channels_last). `float32Gap` = max over q of float32_spread(q) / max |q64|, with float32_spread
    the largest max |q32 − q64| over the stored run and the variants: how far correct float32
    results land from float64. Where it exceeds GAP_LIMIT (a tenth of the 1e-4 criterion), the
    float32 reference itself is uncertain at the scale of the criterion, and the result also holds
    `<q>64Minus32` = float32(q64 − q32) and `<q>Spread` for a comparison with the float64 twin
    (Tests/MiniNetTests/ConditionedParity.swift)."""
    size = x.shape[-1]
    rows = sample_positions(size, final_stride)
    model64, x64 = copy.deepcopy(model).double(), x.double()
    results = []
    for method, _ in METHODS:
        for layer_index, layer in enumerate(layers):
            classes = [predicted] if method == "eigencam" else classes_for_layer[layer]
            for class_index in classes:
                def one(m, xx):
                    return run(method, m, xx, layer, class_index, rows)
                ref32, ref64 = one(model, x), one(model64, x64)
                variants = [ref32] + resnet_reference.float32_runs(one, model, x)
                with_final = layer_index == 0 and class_index == predicted
                quantities = [q for q in ["map", "weights", "final"] if q in ref32 and (q != "final" or with_final)]
                if method == "eigencam":
                    quantities.append("cam")
                spread = {q: max(float(np.abs(v[q] - ref64[q]).max()) for v in variants) for q in quantities}
                gap = max(spread[q] / max(float(np.abs(ref64[q]).max()), 1e-30) for q in quantities)
                result = {"method": method, "layer": layer, "class": class_index,
                          "map": tensor_json(ref32["map"]), "float32Gap": gap}
                if "weights" in ref32:
                    result["weights"] = [short(v) for v in ref32["weights"]]
                if with_final:
                    result["final"] = tensor_json(ref32["final"])
                if method == "eigencam":
                    result["cam"] = tensor_json(ref32["cam"])
                    sign = 1 if np.array_equal(ref32["plain"], ref32["cam"]) else -1
                    assert np.array_equal(ref32["plain"] * sign, ref32["cam"]), "not a sign flip"
                    result["librarySign"] = sign
                    result["singularValues"] = singular_values(model, model.get_submodule(layer), x)
                if gap > GAP_LIMIT:
                    for q in quantities:
                        result[q + "64Minus32"] = [short(v) for v in (ref64[q] - ref32[q]).reshape(-1)]
                        result[q + "Spread"] = spread[q]
                print(f"{method:20s} {layer:12s} class {class_index}: float32 gap {gap:.2e}"
                      + (" (float64 twin stored)" if gap > GAP_LIMIT else ""), flush=True)
                results.append(result)
    return results, rows


def versions():
    return {name: importlib.metadata.version(name) for name in ["torch", "torchvision", "grad-cam", "numpy", "opencv-python-headless"]}


def write(name, fixture):
    path = os.path.join(OUTPUT, f"cam-methods-{name}.json")
    with open(path + ".tmp", "w") as handle:
        json.dump(fixture, handle, separators=(",", ":"))
    os.replace(path + ".tmp", path)
    print(path, os.path.getsize(path), "bytes")


def preprocess(path):
    """bytes/255, then (x − 0.5)/0.25: ImageClassifier.preprocess for a 32×32 picture. → [3, H, W]"""
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / np.float32(255)
    normalized = (pixels - np.float32(0.5)) / np.float32(0.25)
    return torch.from_numpy(np.ascontiguousarray(normalized.transpose(2, 0, 1)))


def small_cnn():
    model, spec = load_tutor_model(os.path.join(ROOT, "models", "mininet.safetensors"))
    model.eval()
    assert spec["mean"] == [0.5, 0.5, 0.5] and spec["std"] == [0.25, 0.25, 0.25], spec
    x = preprocess(os.path.join(ROOT, PICTURE))[None]
    with torch.no_grad():
        logits = model(x)[0]
    predicted = int(logits.argmax())
    layers = ["features.10", "features.6"]
    classes = {"features.10": list(range(len(spec["classNames"]))), "features.6": [predicted]}
    results, rows = explain(model, x, layers, classes, predicted, final_stride=3)
    write("mininet", {
        "generator": "tools/parity/make_cam_methods_parity.py", "versions": versions(),
        "model": "models/mininet.safetensors", "image": PICTURE, "target": "ClassifierOutputTarget(class): the logit",
        "logits": [short(v) for v in logits], "predicted": predicted,
        "finalRows": rows, "finalColumns": rows, "results": results})


def narrow_resnet(name):
    block, blocks = resnet_reference.ARCHITECTURES[name]
    model = resnet_reference.NarrowResNet(block, blocks, [4, 8, 16, 32], 10)
    model.load_state_dict(load_file(os.path.join(RESNETS, f"{name}-narrow.safetensors")))
    model.eval()
    x = torch.from_numpy(np.load(os.path.join(RESNETS, "input.npy")))
    with torch.no_grad():
        logits = model(x)[0]
    predicted = int(logits.argmax())
    layers = [f"layer4.{len(model.layer4) - 1}", f"layer3.{len(model.layer3) - 1}"]
    classes = {layer: [predicted] for layer in layers}
    results, rows = explain(model, x, layers, classes, predicted, final_stride=5)
    write(name, {
        "generator": "tools/parity/make_cam_methods_parity.py", "versions": versions(),
        "model": f"Tests/MiniNetTests/Fixtures/resnet/{name}-narrow.safetensors", "input": "Tests/MiniNetTests/Fixtures/resnet/input.npy",
        "target": "ClassifierOutputTarget(class): the logit",
        "logits": [short(v) for v in logits], "predicted": predicted,
        "finalRows": rows, "finalColumns": rows, "results": results})


def main():
    torch.set_num_threads(1)
    os.makedirs(OUTPUT, exist_ok=True)

    small_cnn()
    for name in ["resnet18", "resnet34", "resnet50"]:
        narrow_resnet(name)


if __name__ == "__main__":
    main()
