#!/usr/bin/env bash
# Runs every lesson on full-size torchvision ResNet-18, -34 and -50 with seeded random weights
# (logits in the hundreds, where tolerances that do not grow with the numbers fail). The weights
# come from `tutor bench --save-weights`, so no download and no Python is needed.
#
#   bash scripts/fullsize-lessons.sh [TUTOR] [--all]
#
# Without --all, the ig lesson is left out: it takes two to four minutes per network (620 passes
# at 224×224), too long for CI; its checks run on the narrow ResNets in `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
tutor=${1:-.build/release/tutor}
all=${2:-}
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
failed=0
for model in resnet18 resnet34 resnet50; do
  weights="$folder/$model-random.safetensors"
  "$tutor" bench --model "$model" --save-weights "$weights" >/dev/null
  for lesson in intro cam gradcam ablationcam lrp ig; do
    if [ "$lesson" = ig ] && [ "$all" != --all ]; then continue; fi
    start=$(date +%s)
    if output=$("$tutor" lesson "$lesson" --model "$model" --weights "$weights" 2>&1); then
      echo "✓ $lesson on random $model ($(( $(date +%s) - start )) s): $(echo "$output" | tail -n 1)"
    else
      echo "✗ $lesson on random $model:"
      echo "$output" | grep -A1 "✗" | head -n 20
      failed=$((failed + 1))
    fi
  done
  rm -f "$weights"
done
[ "$failed" -eq 0 ] || { echo "$failed lesson(s) failed on full-size random ResNets" >&2; exit 1; }
