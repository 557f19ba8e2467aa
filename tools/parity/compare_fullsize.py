"""Compares `tutor explain` on a full-size ResNet with the references of resnet_fullsize.py.

    python tools/parity/resnet_fullsize.py WEIGHTS IMAGE.png --model resnet34 --out REF
    python tools/parity/compare_fullsize.py WEIGHTS IMAGE.png REF [--tutor .build/release/tutor]

Runs `tutor explain IMAGE --weights WEIGHTS --class <the reference's target>` for Grad-CAM,
Ablation-CAM, LRP-epsilon and IG (Gauss–Legendre, 200 steps), saves the raw results next to
the references (tutor-*.npy) and prints, for each, max |tutor − reference| / max |reference|.

Expect about 1e-6 for the logits and Grad-CAM and 1e-5 for Ablation-CAM. Input gradients
(IG, LRP) on a deep float32 network differ by more: ReLUs whose input is within rounding of 0
switch differently in any two float32 implementations (PyTorch's float32 input gradient
differs from its own float64 one by about 1e-2 on a random ResNet-34). LRP runs with
`--batchnorm-merge zennit`, BatchNorm merged the way Zennit's canonizer merges it (the BatchNorm
it leaves behind keeps dividing by sqrt(1 + eps)).
"""
import argparse
import json
import os
import subprocess

import numpy as np


def relative(actual, expected):
    actual = np.asarray(actual, np.float64).ravel()
    expected = np.asarray(expected, np.float64).ravel()
    return float(np.abs(actual - expected).max() / max(np.abs(expected).max(), 1e-30))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights")
    parser.add_argument("image")
    parser.add_argument("reference", help="the --out folder of resnet_fullsize.py")
    parser.add_argument("--tutor", default=".build/release/tutor")
    arguments = parser.parse_args()
    reference = arguments.reference
    summary = json.load(open(os.path.join(reference, "summary.json")))
    target = str(summary["target"])
    runs = [("gradcam", "gradcam-map.npy", "gradcam-weights.npy", []),
            ("ablationcam", "ablationcam-map.npy", "ablationcam-weights.npy", []),
            ("lrp-epsilon", "lrp-epsilon.npy", None, ["--batchnorm-merge", "zennit"]),
            ("ig", "ig200.npy", None, ["--steps", "200", "--integration", "gauss-legendre"])]
    for method, map_file, weights_file, extra in runs:
        output = os.path.join(reference, f"tutor-{method}.npy")
        result = subprocess.run([arguments.tutor, "explain", arguments.image, "--weights", arguments.weights,
                                 "--method", method, "--class", target, "--save-npy", output, "--json"] + extra,
                                check=True, capture_output=True, text=True)
        report = json.loads(result.stdout)
        line = f"{method:12s} map {relative(np.load(output), np.load(os.path.join(reference, map_file))):.2e}"
        if weights_file:
            line += f"   weights {relative(report['weights'], np.load(os.path.join(reference, weights_file))):.2e}"
        if method == "gradcam":
            line += f"   logits {relative(report['logits'], np.load(os.path.join(reference, 'logits.npy'))):.2e}"
        print(line)


if __name__ == "__main__":
    main()
