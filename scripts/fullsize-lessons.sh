#!/usr/bin/env bash
# Runs every lesson on full-size torchvision ResNet-18, -34 and -50 with seeded random weights
# (logits in the hundreds, where tolerances that do not grow with the numbers fail). The weights
# come from `tutor bench --save-weights`, so no download and no Python is needed.
#
#   bash scripts/fullsize-lessons.sh [TUTOR] [--all]
#
# Without --all, ig is left out on the ResNet-50, its slowest lesson there (220 passes at
# 224×224: 19 s on 2 cores, against 54 s for everything with --all on the 2-core machine of
# docs/performance.md's twentieth session).
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
  for lesson in intro cam gradcam ablationcam lrp lrprules ig morecams evaluate; do
    case "$lesson" in
      ig) [ "$all" = --all ] || [ "$model" != resnet50 ] || continue ;;
    esac
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
