#!/usr/bin/env bash
# Times `tutor train` against the same training loop in PyTorch, 2 threads each: REPEATS pairs
# of runs, tutor's then PyTorch's in turn, so that a slow spell of a shared machine falls on
# both; prints every pair's ratio and the median of the ratios.
# Usage: tools/bench/train.sh PYTHON   (a Python with torch and numpy, e.g. ~/tutor-reference/bin/python)
# Environment: EPOCHS (default 10), REPEATS (pairs of runs, default 3), TUTOR_BINARY (a tutor
#   already built, instead of building one).
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${1:-python3}
epochs=${EPOCHS:-10}
repeats=${REPEATS:-3}
tutor=${TUTOR_BINARY:-}
if [ -z "$tutor" ]; then
    swift build -c release --product tutor >/dev/null
    tutor=.build/release/tutor
fi
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
"$tutor" dataset --out "$folder" >/dev/null
export OPENBLAS_NUM_THREADS=2 TUTOR_THREADS=2
for run in $(seq 1 "$repeats"); do
    "$tutor" train --epochs "$epochs" --out "$folder/model.safetensors" --json 2>/dev/null > "$folder/tutor-$run.json"
    "$python" tools/bench/train_torch.py "$folder" "$epochs" 32 0.003 > "$folder/torch-$run.json"
done
"$python" - "$folder" "$repeats" <<'PY'
import json, statistics, sys
folder, repeats = sys.argv[1], int(sys.argv[2])
pairs = []
for run in range(1, repeats + 1):
    tutor = json.load(open(f"{folder}/tutor-{run}.json"))
    torch = json.load(open(f"{folder}/torch-{run}.json"))
    pairs.append((tutor, torch))
torch_version = pairs[0][1]['torch']
print(f"| run | tutor (s) | PyTorch {torch_version} (s) | ratio |")
print("| --- | ---: | ---: | ---: |")
for run, (tutor, torch) in enumerate(pairs, 1):
    print(f"| {run}: training loop, {tutor['epochs']} epochs | {tutor['training_seconds']:.2f} | {torch['seconds']:.2f} "
          f"| {tutor['training_seconds'] / torch['seconds']:.2f}× |")
ratios = [tutor['training_seconds'] / torch['seconds'] for tutor, torch in pairs]
print(f"| median of the ratios | | | {statistics.median(ratios):.2f}× |")
last_tutor, last_torch = pairs[-1]
print(f"| whole command, last run: tutor draws the data set; PyTorch's script loads it from .npy "
      f"| {last_tutor['seconds']:.2f} | {last_torch['total_seconds']:.2f} "
      f"| {last_tutor['seconds'] / last_torch['total_seconds']:.2f}× |")
print(f"| validation accuracy, last run | {last_tutor['val_accuracy']:.4f} | {last_torch['val_accuracy']:.4f} | |")
PY
