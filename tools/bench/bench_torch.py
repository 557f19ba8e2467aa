"""Times PyTorch and its explanation libraries on a full-size ResNet, for comparison with `tutor`.

    /root/refenv/bin/python tools/bench/bench_torch.py MODEL_FILE IMAGE.npy [--model resnet34]
        [--threads 2] [--runs 3] [--ig-runs 1] [--ig-batch 20]

MODEL_FILE: a torchvision resnet18/34/50 state_dict (.pth or .safetensors), e.g. from
tools/bench/make_resnet_weights.py. IMAGE.npy: an already normalised picture, [3, H, W] or
[1, 3, H, W]; it is resized (bilinear, antialiased) to 224×224 if it is not that size already.

Each measurement is the median wall-clock time of --runs calls (--ig-runs for IG), after one
warm-up call; eval mode; target = the predicted class; settings of tools/fixtures/resnet_reference.py:
    forward      model(x) under torch.no_grad()
    gradcam      GradCAM(model, [model.layer4[-1]])(x, [ClassifierOutputTarget(c)]), the library's
                 whole call (forward, backward, map, resize to 224×224, min-max scaling)
    ablationcam  AblationCAM at layer4[-1], its default batch size 32, all channels, whole call
    ig200        Captum IntegratedGradients, zero baseline, gausslegendre, 200 steps, internal batch
                 --ig-batch; the warm-up is a single internal batch (n_steps = --ig-batch)
    lrp_epsilon  zennit Gradient with ResNetCanonizer and the ε composite, including applying and
                 removing the canonizer and hooks
The explainer objects are created once, outside the timed calls.

Peak memory: resource.getrusage(RUSAGE_SELF).ru_maxrss (kibibytes on Linux) / 1024, i.e. the
largest resident set of the whole Python process (interpreter, torch libraries, model, every
method) since it started; `peak_memory_mb_after` gives it after each phase (it never decreases).
Prints one JSON object.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch
from pytorch_grad_cam import AblationCAM, GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import resnet_reference as reference  # noqa: E402


def peak_megabytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_seconds(call, runs, warm_up=None):
    (warm_up or call)()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def load_picture(path):
    picture = torch.from_numpy(np.load(path).astype(np.float32))
    if picture.dim() == 3:
        picture = picture[None]
    if picture.dim() != 4 or picture.shape[:2] != (1, 3):
        raise SystemExit(f"{path}: expected [3, H, W] or [1, 3, H, W], got {list(picture.shape)}")
    if picture.shape[2:] != (224, 224):
        picture = torch.nn.functional.interpolate(picture, size=(224, 224), mode="bilinear",
                                                  align_corners=False, antialias=True)
    return picture.contiguous()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_file")
    parser.add_argument("image")
    parser.add_argument("--model", default="resnet34", choices=sorted(reference.ARCHITECTURES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ig-runs", type=int, default=1)
    parser.add_argument("--ig-batch", type=int, default=20)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    load_before = os.getloadavg()

    model = reference.load_torchvision(arguments.model, arguments.model_file)
    x = load_picture(arguments.image)
    with torch.no_grad():
        target = int(model(x).argmax())
    targets = [ClassifierOutputTarget(target)]
    seconds, memory = {}, {"loaded": peak_megabytes()}

    def forward():
        with torch.no_grad():
            model(x)
    seconds["forward"] = median_seconds(forward, arguments.runs)
    memory["forward"] = peak_megabytes()

    with GradCAM(model=model, target_layers=[model.layer4[-1]]) as gradcam:
        seconds["gradcam"] = median_seconds(lambda: gradcam(input_tensor=x, targets=targets), arguments.runs)
    memory["gradcam"] = peak_megabytes()

    with AblationCAM(model=model, target_layers=[model.layer4[-1]]) as ablationcam:
        seconds["ablationcam"] = median_seconds(lambda: ablationcam(input_tensor=x, targets=targets), arguments.runs)
    memory["ablationcam"] = peak_megabytes()

    def integrated(steps):
        return lambda: reference.integrated_gradients(model, x, target, "gausslegendre", steps, arguments.ig_batch)
    seconds["ig200"] = median_seconds(integrated(200), arguments.ig_runs, warm_up=integrated(arguments.ig_batch))
    memory["ig200"] = peak_megabytes()

    seconds["lrp_epsilon"] = median_seconds(lambda: reference.lrp_epsilon(model, x, target), arguments.runs)
    memory["lrp_epsilon"] = peak_megabytes()

    versions = reference.versions()
    print(json.dumps({
        "peer": f"PyTorch {torch.__version__} (torchvision {versions['torchvision']}, pytorch-grad-cam "
                f"{versions['grad-cam']}, Captum {versions['captum']}, Zennit {versions['zennit']})",
        "model": arguments.model,
        "model_file": arguments.model_file,
        "input": [1, 3, 224, 224],
        "target": target,
        "threads": arguments.threads,
        "runs": {"default": arguments.runs, "ig200": arguments.ig_runs, "statistic": "median after one warm-up"},
        "ig_internal_batch_size": arguments.ig_batch,
        "ablation_batch_size": reference.ABLATION_BATCH_SIZE,
        "seconds": seconds,
        "peak_memory_mb": peak_megabytes(),
        "peak_memory_mb_after": memory,
        "memory_convention": "ru_maxrss of the whole process in KiB / 1024 (MiB), monotonic since start",
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cpus": os.cpu_count(),
    }, indent=1))


if __name__ == "__main__":
    main()
