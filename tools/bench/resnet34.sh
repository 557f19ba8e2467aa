#!/usr/bin/env bash
# Times a ResNet-34 (224×224, batch 1, eval) built from MiniNet's layers against torchvision's,
# 2 threads each: forward, and forward + backward to the input without parameter gradients.
# Usage: tools/bench/resnet34.sh PYTHON [REPEATS]   (a Python with torch and torchvision)
# The Swift side is tools/bench/resnet34.swift, compiled against the release build's objects
# (no Package.swift target needed).
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${1:-python3}
repeats=${2:-10}
swift build -c release --product tutor >/dev/null
release=.build/release
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
swiftc -O -module-name ResNet34Bench tools/bench/resnet34.swift \
    -I "$release/Modules" \
    -Xcc -fmodule-map-file="$release/CBLAS.build/module.modulemap" -Xcc -I -Xcc Sources/CBLAS/include \
    -Xcc -fmodule-map-file="$release/CPNG.build/module.modulemap" -Xcc -I -Xcc Sources/CPNG/include \
    "$release"/MiniNet.build/*.o "$release"/CBLAS.build/*.o "$release"/CPNG.build/*.o \
    -lopenblas -lpng -o "$folder/resnet34"
export OPENBLAS_NUM_THREADS=2
mini=$(REPEATS=$repeats "$folder/resnet34")
torch=$("$python" tools/bench/resnet34_torch.py "$repeats")
"$python" - "$mini" "$torch" <<'PY'
import json, sys
mini, torch = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"| ResNet-34, 224×224, batch 1 (median / min s) | MiniNet | PyTorch {torch['torch']} | ratio (median) |")
print("| --- | --- | --- | --- |")
for label, key in [("forward", "forward"), ("forward + backward to input", "forward_backward")]:
    m, t = mini[key + "_median"], torch[key + "_median"]
    print(f"| {label} | {m:.3f} / {mini[key + '_min']:.3f} | {t:.3f} / {torch[key + '_min']:.3f} | {m / t:.2f}× |")
m = mini["forward_backward_median"] - mini["forward_median"]
t = torch["forward_backward_median"] - torch["forward_median"]
print(f"| backward alone (difference of medians) | {m:.3f} | {t:.3f} | {m / t:.2f}× |")
PY
