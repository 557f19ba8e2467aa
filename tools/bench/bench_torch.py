"""Times PyTorch and its explanation libraries on a full-size ResNet, for comparison with `tutor`.

    /root/refenv/bin/python tools/bench/bench_torch.py MODEL_FILE IMAGE.npy [--model resnet34]
        [--threads 2] [--runs 3] [--ig-runs 1] [--ig-batch 20] [--scorecam-batch 16]
        [--smoothgrad-batch 8] [--deletion-batch 16] [--only KEY,KEY,…]
    /root/refenv/bin/python tools/bench/bench_torch.py --list      # the keys, one a line

MODEL_FILE: a torchvision resnet18/34/50 state_dict (.pth or .safetensors), e.g. from
tools/bench/make_resnet_weights.py. IMAGE.npy: an already normalised picture, [3, H, W] or
[1, 3, H, W]; it is resized (bilinear, antialiased) to 224×224 if it is not that size already.

Each measurement is the median wall-clock time of --runs calls (--ig-runs for IG), after one
warm-up call; eval mode; target = the predicted class; the CAM methods at model.layer4[-1] with
ClassifierOutputTarget(class) (the logit), each the library's whole call (forward, backward if the
method uses it, map, resize to 224×224, min-max scaling). The keys are those of `tutor bench
--json` (the method's id of `tutor explain --method`, `-` as `_`, `++` as `_plus_plus`):

    forward                  model(x) under torch.no_grad()
    gradcam                  pytorch-grad-cam GradCAM
    ablationcam              AblationCAM, its default batch size 32, all channels
    gradcam_plus_plus        GradCAMPlusPlus
    xgradcam                 XGradCAM
    hirescam                 HiResCAM
    gradcam_elementwise      GradCAMElementWise
    layercam                 LayerCAM
    scorecam                 ScoreCAM, batch_size = --scorecam-batch (the library's default 16)
    eigencam                 EigenCAM
    lrp_epsilon              Zennit Gradient with ResNetCanonizer and the ε composite of
                             tools/fixtures/resnet_reference.py (lrp_composite)
    lrp_epsilon_plus, lrp_epsilon_plus_flat, lrp_epsilon_gamma_box, lrp_epsilon_alpha2_beta1
                             Zennit Gradient with ResNetCanonizer and EpsilonPlus, EpsilonPlusFlat,
                             EpsilonGammaBox (low, high = ImageNet's (0 − mean)/std, (1 − mean)/std)
                             and EpsilonAlpha2Beta1, with their defaults; every LRP call includes
                             applying and removing the canonizer and the hooks
    ig200                    Captum IntegratedGradients, zero baseline, gausslegendre, 200 steps,
                             internal batch --ig-batch; the warm-up is a single internal batch
    saliency                 Captum Saliency, abs=False
    input_x_gradient         Captum InputXGradient
    smoothgrad, vargrad      Captum NoiseTunnel(Saliency(abs=False)), nt_type "smoothgrad" and
                             "vargrad", 50 samples, stdevs σ = 0.15 · (max x − min x) (tutor's
                             --noise, a fraction of the input's range), nt_samples_batch_size =
                             --smoothgrad-batch
    guided_backprop          Captum GuidedBackprop
    deletion                 the deletion curve (Petsiuk et al. 2018) of pytorch-grad-cam's GradCAM map
                             (made once, outside the clock), 100 steps: pytorch-grad-cam has no
                             deletion curve, so its closest machinery computes the same 101 scores,
                             PerturbationConfidenceMetric(multiply_tensor_with_cam), i.e.
                             CamMultImageConfidenceChange with return_diff=False, called on batches
                             of --deletion-batch copies of x, each with the "cam" 1 − (the pixels
                             deleted at that step), and ClassifierOutputSoftmaxTarget: x times that
                             mask is x with the deleted pixels set to 0, the fill of
                             `tutor bench`'s deletion (the data set's mean); the pixel order is a
                             stable argsort of −map, the counts ⌊k·N/100⌋, as tutor's
The explainer objects are created once, outside the timed calls (Captum's and pytorch-grad-cam's
cost nothing to make). Zennit's composite is registered once before a measure's calls and removed
after them, as tutor merges BatchNorm once and keeps the merged network while the weights stay.

Peak memory: resource.getrusage(RUSAGE_SELF).ru_maxrss (kibibytes on Linux) / 1024, i.e. the
largest resident set of the whole Python process (interpreter, torch libraries, model, every
method). `peak_memory_mb` is over the whole run; `peak_memory_mb_by_measure` is the peak during
each measure: before its warm-up, writing 5 to /proc/self/clear_refs resets the high-water mark to
the current resident set (as `tutor bench` does). `other_cores_busy_by_measure` says how many cores
other processes kept busy during each measure, on average (from /proc/stat), to tell which
measures to repeat on a shared machine. Prints one JSON object.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time
import warnings

os.environ.setdefault("TQDM_DISABLE", "1")   # Score-CAM's progress bars

import numpy as np  # noqa: E402
import torch  # noqa: E402
from captum.attr import GuidedBackprop, InputXGradient, NoiseTunnel, Saliency  # noqa: E402
from pytorch_grad_cam import (AblationCAM, EigenCAM, GradCAM, GradCAMElementWise, GradCAMPlusPlus,  # noqa: E402
                              HiResCAM, LayerCAM, ScoreCAM, XGradCAM)
from pytorch_grad_cam.metrics.perturbation_confidence import PerturbationConfidenceMetric  # noqa: E402
from pytorch_grad_cam.metrics.cam_mult_image import multiply_tensor_with_cam  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget, ClassifierOutputTarget  # noqa: E402
from zennit.attribution import Gradient  # noqa: E402
from zennit.composites import EpsilonAlpha2Beta1, EpsilonGammaBox, EpsilonPlus, EpsilonPlusFlat  # noqa: E402
from zennit.torchvision import ResNetCanonizer  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
import resnet_reference as reference  # noqa: E402

# Captum's notes that it set requires_grad and hooked the ReLUs, once per call.
warnings.filterwarnings("ignore", message="Input Tensor 0 did not already require gradients")
warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
# The measures, in `tutor bench`'s order (tutor's cam and lrp_0 have no peer).
KEYS = ["forward", "gradcam", "ablationcam", "gradcam_plus_plus", "xgradcam", "hirescam", "gradcam_elementwise",
        "layercam", "scorecam", "eigencam", "lrp_epsilon", "lrp_epsilon_plus", "lrp_epsilon_plus_flat",
        "lrp_epsilon_gamma_box", "lrp_epsilon_alpha2_beta1", "ig200", "saliency", "input_x_gradient", "smoothgrad",
        "vargrad", "guided_backprop", "deletion"]
SMOOTHGRAD_SAMPLES = 50      # tutor explain's --samples default (the SmoothGrad paper's)
SMOOTHGRAD_NOISE = 0.15      # tutor explain's --noise default: σ as a fraction of max x − min x
DELETION_STEPS = 100         # tutor bench's deletion measure


def peak_megabytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak():
    """Resets the high-water mark of the resident set (and so ru_maxrss) to the current resident set."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def cpu_usage():
    """(seconds every core was busy since boot, this process's user + system seconds, wall clock), as
    `tutor bench` reads them, or None without /proc/stat."""
    try:
        with open("/proc/stat") as handle:
            ticks = [float(value) for value in handle.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]   # user nice system irq softirq steal
    times = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), times.user + times.system, time.perf_counter()


def other_cores_busy(before, after):
    """How many cores other processes kept busy between the two readings, on average."""
    wall = after[2] - before[2]
    return max(0.0, (after[0] - before[0]) - (after[1] - before[1])) / wall if wall > 0 else 0.0


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


def one_hot_output(target):
    """Zennit's initial relevance: the output times one-hot(target), i.e. y^c at the target only."""
    return lambda out: out * torch.nn.functional.one_hot(torch.tensor([target]), out.shape[1]).to(out.dtype)


def zennit_kept(model, x, target, make_composite, runs):
    """make() of a Zennit measure: the composite registered once, outside the timed calls
    (canonizer merged, hooks on), as tutor keeps its merged network between calls; each call is
    a forward and a backward pass with the hooks; the cleanup removes them (and undoes the merge)."""
    def make():
        context = Gradient(model=model, composite=make_composite())
        attributor = context.__enter__()

        def call():
            attributor(x.clone().requires_grad_(True), one_hot_output(target))
        return call, runs, None, lambda: context.__exit__(None, None, None)
    return make


def deletion_curve(model, x, target, arguments, areas):
    """make() of the deletion measure: the Grad-CAM map once, then a call that scores the
    DELETION_STEPS + 1 pictures with pytorch-grad-cam's perturbation metric, --deletion-batch at a
    time, and keeps the area under the curve (trapezoids over the fractions of pixels deleted)."""
    def make():
        with GradCAM(model=model, target_layers=[model.layer4[-1]]) as explainer:
            cam = explainer(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0]
        height, width = cam.shape
        pixels, steps, batch = cam.size, DELETION_STEPS, arguments.deletion_batch
        order = np.argsort(-cam.reshape(-1), kind="stable")
        counts = np.array([k * pixels // steps for k in range(steps + 1)])
        metric = PerturbationConfidenceMetric(multiply_tensor_with_cam)

        def call():
            scores = []
            for start in range(0, steps + 1, batch):
                ks = range(start, min(start + batch, steps + 1))
                keep = np.ones((len(ks), pixels), dtype=np.float32)
                for row, k in enumerate(ks):
                    keep[row, order[:counts[k]]] = 0
                scores.append(metric(x.expand(len(ks), -1, -1, -1), keep.reshape(len(ks), height, width),
                                     [ClassifierOutputSoftmaxTarget(target)] * len(ks), model, return_diff=False))
            scores = np.concatenate(scores).astype(np.float64)
            fractions = counts / pixels
            areas["deletion"] = float(np.sum(np.diff(fractions) * (scores[1:] + scores[:-1]) / 2))
        return call, arguments.runs, None, None
    return make


def measures(model, x, target, arguments, areas):
    """[(key, tool, make)] in `tutor bench`'s order; make() → (call, runs, warm_up or None, cleanup or None).
    The deletion measure writes its area into `areas`."""
    targets = [ClassifierOutputTarget(target)]
    layers = [model.layer4[-1]]

    def forward():
        with torch.no_grad():
            model(x)

    def cam(method, **attributes):
        def make():
            explainer = method(model=model, target_layers=layers)
            for name, value in attributes.items():
                setattr(explainer, name, value)
            return (lambda: explainer(input_tensor=x, targets=targets)), arguments.runs, None, \
                (lambda: explainer.__exit__(None, None, None))
        return make

    def plain(call, runs=None, warm_up=None):
        return lambda: (call, runs or arguments.runs, warm_up, None)

    low = ((0 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)).view(1, 3, 1, 1)
    high = ((1 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)).view(1, 3, 1, 1)
    composites = [
        ("lrp_epsilon", "Zennit ε composite", reference.lrp_composite),
        ("lrp_epsilon_plus", "Zennit EpsilonPlus", lambda: EpsilonPlus(canonizers=[ResNetCanonizer()])),
        ("lrp_epsilon_plus_flat", "Zennit EpsilonPlusFlat", lambda: EpsilonPlusFlat(canonizers=[ResNetCanonizer()])),
        ("lrp_epsilon_gamma_box", "Zennit EpsilonGammaBox",
         lambda: EpsilonGammaBox(low=low, high=high, canonizers=[ResNetCanonizer()])),
        ("lrp_epsilon_alpha2_beta1", "Zennit EpsilonAlpha2Beta1", lambda: EpsilonAlpha2Beta1(canonizers=[ResNetCanonizer()])),
    ]

    def integrated(steps):
        return lambda: reference.integrated_gradients(model, x, target, "gausslegendre", steps, arguments.ig_batch)

    sigma = SMOOTHGRAD_NOISE * float(x.max() - x.min())

    def noise_tunnel(nt_type):
        tunnel = NoiseTunnel(Saliency(model))
        return lambda: tunnel.attribute(x, nt_type=nt_type, nt_samples=SMOOTHGRAD_SAMPLES,
                                        nt_samples_batch_size=arguments.smoothgrad_batch, stdevs=sigma,
                                        target=target, abs=False)

    saliency, input_x_gradient, guided = Saliency(model), InputXGradient(model), GuidedBackprop(model)
    return [
        ("forward", "PyTorch", plain(forward)),
        ("gradcam", "pytorch-grad-cam GradCAM", cam(GradCAM)),
        ("ablationcam", f"pytorch-grad-cam AblationCAM (batch {reference.ABLATION_BATCH_SIZE})", cam(AblationCAM)),
        ("gradcam_plus_plus", "pytorch-grad-cam GradCAMPlusPlus", cam(GradCAMPlusPlus)),
        ("xgradcam", "pytorch-grad-cam XGradCAM", cam(XGradCAM)),
        ("hirescam", "pytorch-grad-cam HiResCAM", cam(HiResCAM)),
        ("gradcam_elementwise", "pytorch-grad-cam GradCAMElementWise", cam(GradCAMElementWise)),
        ("layercam", "pytorch-grad-cam LayerCAM", cam(LayerCAM)),
        ("scorecam", f"pytorch-grad-cam ScoreCAM (batch {arguments.scorecam_batch})",
         cam(ScoreCAM, batch_size=arguments.scorecam_batch)),
        ("eigencam", "pytorch-grad-cam EigenCAM", cam(EigenCAM)),
    ] + [(key, tool, zennit_kept(model, x, target, make, arguments.runs)) for key, tool, make in composites] + [
        ("ig200", f"Captum IntegratedGradients (internal batch {arguments.ig_batch})",
         plain(integrated(200), arguments.ig_runs, integrated(arguments.ig_batch))),
        ("saliency", "Captum Saliency", plain(lambda: saliency.attribute(x, target=target, abs=False))),
        ("input_x_gradient", "Captum InputXGradient", plain(lambda: input_x_gradient.attribute(x, target=target))),
        ("smoothgrad", f"Captum NoiseTunnel(Saliency) smoothgrad (batch {arguments.smoothgrad_batch})",
         plain(noise_tunnel("smoothgrad"))),
        ("vargrad", f"Captum NoiseTunnel(Saliency) vargrad (batch {arguments.smoothgrad_batch})",
         plain(noise_tunnel("vargrad"))),
        ("guided_backprop", "Captum GuidedBackprop", plain(lambda: guided.attribute(x, target=target))),
        ("deletion", f"pytorch-grad-cam PerturbationConfidenceMetric(multiply_tensor_with_cam), "
                     f"{DELETION_STEPS} steps (batch {arguments.deletion_batch})",
         deletion_curve(model, x, target, arguments, areas)),
    ]


def sgemm_rate(size=2048, runs=5):
    """GFLOP/s of torch.mm on two size × size float32 matrices (2n³ FLOPs), median after one
    warm-up: the same limit tutor bench measures on its own OpenBLAS (BenchLimit.swift)."""
    a = torch.rand(size, size) + 0.125
    b = torch.rand(size, size) + 0.125
    return 2 * size ** 3 / median_seconds(lambda: torch.mm(a, b), runs, None) / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_file", nargs="?")
    parser.add_argument("image", nargs="?")
    parser.add_argument("--model", default="resnet34", choices=sorted(reference.ARCHITECTURES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ig-runs", type=int, default=1)
    parser.add_argument("--ig-batch", type=int, default=20)
    parser.add_argument("--scorecam-batch", type=int, default=16)
    parser.add_argument("--smoothgrad-batch", type=int, default=8)
    parser.add_argument("--deletion-batch", type=int, default=16, help="tutor bench's --deletion-batch default")
    parser.add_argument("--only", default="", help="comma-separated keys (or 'ig' for ig200); default: every measure")
    parser.add_argument("--list", action="store_true", help="print the measures' keys, one a line, and stop")
    arguments = parser.parse_args()
    if arguments.list:
        print("\n".join(KEYS))
        return
    if not arguments.model_file or not arguments.image:
        parser.error("MODEL_FILE and IMAGE are needed")
    torch.set_num_threads(arguments.threads)
    load_before = os.getloadavg()

    model = reference.load_torchvision(arguments.model, arguments.model_file)
    x = load_picture(arguments.image)
    with torch.no_grad():
        target = int(model(x).argmax())
    areas = {}
    everything = measures(model, x, target, arguments, areas)
    assert [key for key, _, _ in everything] == KEYS, "KEYS lists the measures in their order"
    wanted = {"ig200" if key == "ig" else key for key in arguments.only.replace(" ", ",").split(",") if key}
    unknown = wanted - {key for key, _, _ in everything}
    if unknown:
        raise SystemExit(f"--only: unknown {', '.join(sorted(unknown))}; the keys are "
                         f"{', '.join(key for key, _, _ in everything)}")
    seconds, memory, tools, other_work = {}, {}, {}, {}
    whole_run_peak, resets = peak_megabytes(), True
    for key, tool, make in everything:
        if wanted and key not in wanted:
            continue
        call, runs, warm_up, cleanup = make()
        whole_run_peak = max(whole_run_peak, peak_megabytes())
        resets = reset_peak() and resets
        usage_before = cpu_usage()
        print(f"bench_torch: {key} ({tool})", file=sys.stderr, flush=True)
        seconds[key] = median_seconds(call, runs, warm_up)
        if cleanup:
            cleanup()
        memory[key] = peak_megabytes()
        usage_after = cpu_usage()
        if usage_before and usage_after:
            other_work[key] = other_cores_busy(usage_before, usage_after)
        whole_run_peak = max(whole_run_peak, memory[key])
        tools[key] = tool

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
        "scorecam_batch_size": arguments.scorecam_batch,
        "smoothgrad_batch_size": arguments.smoothgrad_batch,
        "smoothgrad_samples": SMOOTHGRAD_SAMPLES,
        "smoothgrad_noise": SMOOTHGRAD_NOISE,
        "deletion_batch_size": arguments.deletion_batch,
        "deletion_steps": DELETION_STEPS,
        "deletion_area": areas.get("deletion"),
        "tools": tools,
        "sgemm_gflops_per_second": sgemm_rate(),
        "sgemm_size": 2048,
        "seconds": seconds,
        "peak_memory_mb": max(whole_run_peak, peak_megabytes()),
        "peak_memory_mb_by_measure": memory,
        "memory_convention": "ru_maxrss of the whole process in KiB / 1024 (MiB), monotonic since start",
        "memory_by_measure_convention":
            "ru_maxrss of the whole process after writing 5 to /proc/self/clear_refs before the measure's warm-up: "
            "its largest resident set during that measure" if resets else
            "ru_maxrss of the whole process after the measure (the reset through /proc/self/clear_refs failed: "
            "monotonic since start)",
        "other_cores_busy_by_measure": other_work,
        "other_work_convention": "cores busy with other processes during the measure, on average: (busy time of "
                                 "every core in /proc/stat − this process's user and system time) / wall-clock time",
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cpus": os.cpu_count(),
    }, indent=1))


if __name__ == "__main__":
    main()
