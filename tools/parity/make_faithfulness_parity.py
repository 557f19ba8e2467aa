"""Reference faithfulness metrics for MiniNet's parity tests (Sources/MiniNet/Evaluation/).

Writes Tests/MiniNetTests/Fixtures/evaluation-faith/faithfulness-<model>.json, read by
Tests/MiniNetTests/FaithfulnessParityTests.swift, for

    mininet    models/mininet.safetensors on images/shapes/two-shapes.png (x = bytes/255, then
               (x − 0.5)/0.25, as ImageClassifier.preprocess does), 32 × 32
    resnet18   the narrow ResNet-18 of Tests/MiniNetTests/Fixtures/resnet on input.npy, 64 × 64

Both explain the predicted class c. Two maps, stored in the fixture so that both sides rank the
same float32 numbers:

    gradcam    pytorch-grad-cam's GradCAM at the last convolutional block (features.10, layer4.1),
               ClassifierOutputTarget(c): the map the library returns, in 0…1, with ties (zeros)
    gradient   Σ_channels x ⊙ ∂z_c/∂x, a signed map, for the metrics whose libraries sort with an
               unstable argsort; the few pixels where it is exactly 0 (every ReLU on their paths
               off) get −1e-9 · 1, 2, 3, … in pixel order, and of two equal values the later
               pixel moves one float32 step down, so that it has no ties (asserted)

and the references (the score is the softmax probability P_c unless said otherwise):

    rise       deletion (zeros, i.e. the data set's mean) and insertion (RISE's blur, 11 × 11, σ = 5)
               curves over the `gradient` map with `steps` steps, from RISE's evaluation code
               (Petsiuk et al. 2018, github.com/eclique/RISE, evaluation.py: CausalMetric.single_run
               and auc; the code is not a package, so the loop is re-typed below, unbatched as
               there), and the blur kernel gkern(11, 5) itself
    quantus    Quantus 0.6.0's PixelFlipping over `gradient` (perturb_baseline 0.0, i.e. the
               mean; no normalisation; softmax), features_in_step = H·W/steps: its steps remove
               channel values, not pixels, so every third point removes whole pixels and equals
               a deletion point; and ROAD: quantus.ROAD itself raises IndexError on 3-channel
               pictures (it ranks the attribution broadcast to [C, H, W] but imputes over H·W
               indices; the script asserts that), so its selection, ⌊H·W·p/100⌋ most relevant
               pixels of `gradient`, and its function noisy_linear_imputation (noise 0) are
               called directly for p in `quantusPercentages`; the scores and whether the
               prediction is still c (what quantus.ROAD reports)
    gradcam    pytorch-grad-cam 1.5.7's metrics over the `gradcam` map:
               CamMultImageConfidenceChange, DropInConfidence, IncreaseInConfidence;
               ROADMostRelevantFirst and ROADLeastRelevantFirst at percentiles 10 … 90 with the
               imputer's noise set to 0, ROADCombined (noise 0); and ROADMostRelevantFirst(80),
               ROADLeastRelevantFirst(20) with the library's noise 0.01, whose randn is replaced by
               MiniNet's ImputationNoise(seed 2026) numbers for the same removal (stream
               ROAD.noiseStream: 1 << 32 for LeRF, plus the percent removed × 1000); once more
               with ClassifierOutputTarget (the logit) for MoRF

A percentile p of pytorch-grad-cam removes 100 − p percent: MiniNet's `percent` is 100 − p.

Run from the repository root:  /root/refenv/bin/python tools/parity/make_faithfulness_parity.py
(needs quantus 0.6.0 in that venv: pip install quantus==0.6.0).
"""
import contextlib
import importlib.metadata
import json
import os
import sys
import warnings

os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file
from scipy.ndimage import gaussian_filter
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.metrics import road as pgc_road
from pytorch_grad_cam.metrics.cam_mult_image import (CamMultImageConfidenceChange, DropInConfidence,
                                                     IncreaseInConfidence)
from pytorch_grad_cam.metrics.road import ROADCombined, ROADLeastRelevantFirst, ROADMostRelevantFirst
from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget, ClassifierOutputTarget

warnings.filterwarnings("ignore")
import quantus  # noqa: E402
from quantus.functions.perturb_func import noisy_linear_imputation  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))
sys.path.insert(0, HERE)
from torch_model import load_tutor_model  # noqa: E402
import resnet_reference  # noqa: E402
from make_gradient_methods_parity import standard_normals  # noqa: E402  (MiniNet's SeededGenerator)

ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUTPUT = os.path.join(ROOT, "Tests", "MiniNetTests", "Fixtures", "evaluation-faith")
RESNETS = os.path.join(ROOT, "Tests", "MiniNetTests", "Fixtures", "resnet")
PICTURE = "images/shapes/two-shapes.png"
STEPS = 16
PERCENTILES = [10, 20, 30, 40, 50, 60, 70, 80, 90]     # pytorch-grad-cam's
QUANTUS_PERCENTAGES = [5, 25, 45, 65, 85]               # a few of quantus.ROAD's range(1, 100, 2)
NOISE_SEED = 2026
NOISE_SIGMA = 0.01                                      # both libraries' default


def short(value):
    """The shortest decimal that reads back as the same float32 (as a Python float)."""
    return float(str(np.float32(value)))


def floats(array):
    return [short(v) for v in np.asarray(array, dtype=np.float32).reshape(-1)]


def probability(model, batch, c):
    with torch.no_grad():
        return torch.softmax(model(batch), dim=-1)[:, c].numpy()


# ------------------------------------------------------------------------------------- maps

def gradcam_map(model, x, layer, c):
    with GradCAM(model=model, target_layers=[model.get_submodule(layer)]) as cam:
        return np.asarray(cam(input_tensor=x, targets=[ClassifierOutputTarget(c)])[0], dtype=np.float32)


def gradient_map(model, x, c):
    """Σ_channels x ⊙ ∂z_c/∂x [H, W], float32, its zeros made distinct."""
    x = x.clone().requires_grad_(True)
    model(x)[0, c].backward()
    result = (x * x.grad).sum(dim=1)[0].detach().numpy().astype(np.float32)
    flat = result.reshape(-1)
    zeros = np.flatnonzero(flat == 0)              # where every path's ReLU is off
    flat[zeros] = -1e-9 * np.arange(1, zeros.size + 1, dtype=np.float32)
    while True:                                    # equal values: the later pixel one float32 step lower
        values, first = np.unique(flat, return_index=True)
        later = np.setdiff1d(np.arange(flat.size), first)
        if later.size == 0:
            break
        flat[later] = np.nextafter(flat[later], np.float32(-np.inf))
    assert len(np.unique(result)) == result.size, "the gradient map has ties"
    return result


# ------------------------------------------------------------------------------------ RISE

def gkern(klen, nsig):
    """RISE's gkern: gaussian_filter of a centred impulse, one kernel per channel (float32)."""
    impulse = np.zeros((klen, klen))
    impulse[klen // 2, klen // 2] = 1
    k = gaussian_filter(impulse, nsig)
    kern = np.zeros((3, 3, klen, klen))
    for channel in range(3):
        kern[channel, channel] = k
    return torch.from_numpy(kern.astype("float32"))


def rise_auc(arr):
    return (arr.sum() - arr[0] / 2 - arr[-1] / 2) / (arr.shape[0] - 1)


def rise_single_run(model, img_tensor, explanation, mode, step, substrate_fn, c):
    """CausalMetric.single_run, re-typed (model = the network followed by softmax, on the CPU)."""
    hw = explanation.size
    n_steps = (hw + step - 1) // step
    if mode == "del":
        start, finish = img_tensor.clone(), substrate_fn(img_tensor)
    else:
        start, finish = substrate_fn(img_tensor), img_tensor.clone()
    scores = np.empty(n_steps + 1)
    salient_order = np.flip(np.argsort(explanation.reshape(-1, hw), axis=1), axis=-1)
    for i in range(n_steps + 1):
        scores[i] = probability(model, start, c)[0]
        if i < n_steps:
            coords = salient_order[:, step * i:step * (i + 1)]
            start.numpy().reshape(1, 3, hw)[0, :, coords] = finish.numpy().reshape(1, 3, hw)[0, :, coords]
    return scores, rise_auc(scores)


def rise(model, x, explanation, c):
    kern = gkern(11, 5)
    blur = lambda image: torch.nn.functional.conv2d(image, kern, padding=11 // 2)  # noqa: E731
    step = explanation.size // STEPS
    deletion, deletion_auc = rise_single_run(model, x, explanation, "del", step, torch.zeros_like, c)
    insertion, insertion_auc = rise_single_run(model, x, explanation, "ins", step, blur, c)
    return {"kernel": floats(kern[0, 0]), "deletion": floats(deletion), "deletionAUC": float(deletion_auc),
            "insertion": floats(insertion), "insertionAUC": float(insertion_auc)}


# ---------------------------------------------------------------------------------- Quantus

def quantus_references(model, x, explanation, c):
    n = explanation.size
    features_in_step = n // STEPS
    x_batch, y_batch = x.numpy(), np.array([c])
    a_batch = explanation[None, None]
    flipping = quantus.PixelFlipping(features_in_step=features_in_step, perturb_baseline=0.0, normalise=False,
                                     abs=False, disable_warnings=True)
    curve = np.asarray(flipping(model=model, x_batch=x_batch, y_batch=y_batch, a_batch=a_batch, device="cpu",
                                softmax=True))[0]
    road = quantus.ROAD(percentages=QUANTUS_PERCENTAGES, noise=0.0, disable_warnings=True)
    try:
        road(model=model, x_batch=x_batch, y_batch=y_batch, a_batch=a_batch, device="cpu")
        raise AssertionError("quantus.ROAD ran on a 3-channel picture: revisit the fixture's note")
    except IndexError as error:
        road_error = f"IndexError: {error}"
    # What quantus.ROAD.evaluate_batch does for one picture, ranking the H × W map.
    order = np.argsort(-explanation.reshape(-1))
    scores, predicted = [], []
    for p in QUANTUS_PERCENTAGES:
        top = order[:int(n * p / 100)]
        imputed = noisy_linear_imputation(arr=x_batch[0], indices=top, noise=0.0)
        with torch.no_grad():
            logits = model(torch.from_numpy(np.asarray(imputed, dtype=np.float32))[None])
        scores.append(float(torch.softmax(logits, dim=-1)[0, c]))
        predicted.append(int(logits.argmax()))
    return {"featuresInStep": features_in_step, "pixelFlipping": floats(curve),
            "roadError": road_error, "roadPercentages": QUANTUS_PERCENTAGES, "roadScores": floats(scores),
            "roadPredicted": predicted, "roadStillCorrect": [int(p == c) for p in predicted]}


# ------------------------------------------------------------------------ pytorch-grad-cam

def noise_stream(lerf, percent):
    """ROAD.noiseStream(order:percent:)."""
    return ((1 << 32) if lerf else 0) | int(round(percent * 1000))


@contextlib.contextmanager
def mininet_noise(stream):
    """torch.randn_like inside NoisyLinearImputer replaced by ImputationNoise(seed: NOISE_SEED)'s ε of `stream`."""
    original = pgc_road.torch.randn_like

    def randn_like(tensor):
        count = tensor.numel()
        return torch.from_numpy(standard_normals(NOISE_SEED, stream, count).reshape(tuple(tensor.shape)))

    pgc_road.torch.randn_like = randn_like
    try:
        yield
    finally:
        pgc_road.torch.randn_like = original


def without_noise(metric):
    metric.perturbation.imputer.noise = 0
    return metric


def gradcam_references(model, x, cam, c):
    cams = cam[None]
    soft = [ClassifierOutputSoftmaxTarget(c)]
    result = {
        "confidenceChange": float(CamMultImageConfidenceChange()(x, cams, soft, model)[0]),
        "dropInConfidence": float(DropInConfidence()(x, cams, soft, model)[0]),
        "increaseInConfidence": float(IncreaseInConfidence()(x, cams, soft, model)[0]),
        "confidenceChangeLogit": float(CamMultImageConfidenceChange()(x, cams, [ClassifierOutputTarget(c)], model)[0]),
        "percentiles": PERCENTILES,
    }
    morf = [float(without_noise(ROADMostRelevantFirst(p))(x, cams, soft, model)[0]) for p in PERCENTILES]
    lerf = [float(without_noise(ROADLeastRelevantFirst(p))(x, cams, soft, model)[0]) for p in PERCENTILES]
    morf_logit = [float(without_noise(ROADMostRelevantFirst(p))(x, cams, [ClassifierOutputTarget(c)], model)[0])
                  for p in PERCENTILES]
    combined = ROADCombined(PERCENTILES)
    for averager in (combined.morf_averager, combined.lerf_averager):
        averager.imputer = lambda p, make=averager.imputer: without_noise(make(p))
    result.update({"roadMoRF": floats(morf), "roadLeRF": floats(lerf), "roadMoRFLogit": floats(morf_logit),
                   "roadCombined": float(combined(x, cams, soft, model)[0])})
    with mininet_noise(noise_stream(False, 100 - 80)):
        result["roadMoRF80Noisy"] = float(ROADMostRelevantFirst(80)(x, cams, soft, model)[0])
    with mininet_noise(noise_stream(True, 100 - 20)):
        result["roadLeRF20Noisy"] = float(ROADLeastRelevantFirst(20)(x, cams, soft, model)[0])
    result["noise"] = {"seed": NOISE_SEED, "sigma": NOISE_SIGMA}
    return result


# --------------------------------------------------------------------------------- fixtures

def versions():
    return {name: importlib.metadata.version(name) for name in ["torch", "grad-cam", "quantus", "numpy", "scipy"]}


def references(name, model, x, layer, source):
    with torch.no_grad():
        logits = model(x)[0]
    c = int(logits.argmax())
    cam = gradcam_map(model, x, layer, c)
    gradient = gradient_map(model, x, c)
    fixture = {
        "generator": "tools/parity/make_faithfulness_parity.py", "versions": versions(), **source,
        "class": c, "logits": floats(logits), "steps": STEPS, "layer": layer,
        "gradcamMap": floats(cam), "gradientMap": floats(gradient),
        "rise": rise(model, x.clone(), gradient, c),
        "quantus": quantus_references(model, x, gradient, c),
        "gradcam": gradcam_references(model, x, cam, c),
    }
    os.makedirs(OUTPUT, exist_ok=True)
    path = os.path.join(OUTPUT, f"faithfulness-{name}.json")
    with open(path + ".tmp", "w") as handle:
        json.dump(fixture, handle, separators=(",", ":"))
    os.replace(path + ".tmp", path)
    print(path, os.path.getsize(path), "bytes")


def preprocess(path):
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / np.float32(255)
    normalized = (pixels - np.float32(0.5)) / np.float32(0.25)
    return torch.from_numpy(np.ascontiguousarray(normalized.transpose(2, 0, 1)))


def main():
    torch.set_num_threads(1)
    model, spec = load_tutor_model(os.path.join(ROOT, "models", "mininet.safetensors"))
    model.eval()
    references("mininet", model, preprocess(os.path.join(ROOT, PICTURE))[None], "features.10",
               {"model": "models/mininet.safetensors", "image": PICTURE})

    block, blocks = resnet_reference.ARCHITECTURES["resnet18"]
    resnet = resnet_reference.NarrowResNet(block, blocks, [4, 8, 16, 32], 10)
    resnet.load_state_dict(load_file(os.path.join(RESNETS, "resnet18-narrow.safetensors")))
    resnet.eval()
    x = torch.from_numpy(np.load(os.path.join(RESNETS, "input.npy")))
    references("resnet18", resnet, x, "layer4.1",
               {"model": "Tests/MiniNetTests/Fixtures/resnet/resnet18-narrow.safetensors",
                "input": "Tests/MiniNetTests/Fixtures/resnet/input.npy"})


if __name__ == "__main__":
    main()
