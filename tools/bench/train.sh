#!/usr/bin/env bash
# Times `tutor train` against the same training loop in PyTorch, in one run, 2 threads each.
# Usage: tools/bench/train.sh PYTHON   (a Python with torch and numpy, e.g. ~/tutor-reference/bin/python)
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${1:-python3}
epochs=${EPOCHS:-10}
swift build -c release --product tutor >/dev/null
tutor=.build/release/tutor
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
"$tutor" dataset --out "$folder" >/dev/null
export OPENBLAS_NUM_THREADS=2 TUTOR_THREADS=2
start=$(date +%s.%N)
"$tutor" train --epochs "$epochs" --out "$folder/model.safetensors" --json 2>/dev/null > "$folder/tutor.json"
end=$(date +%s.%N)
torch_json=$("$python" tools/bench/train_torch.py "$folder" "$epochs" 32 0.003)
"$python" - "$folder/tutor.json" "$torch_json" "$start" "$end" <<'PY'
import json, sys
tutor = json.load(open(sys.argv[1]))
torch = json.loads(sys.argv[2])
print(f"| measure | tutor | PyTorch {torch['torch']} | ratio |")
print("| --- | --- | --- | --- |")
loop = tutor['training_seconds']
print(f"| training loop, {tutor['epochs']} epochs (s) | {loop:.2f} | {torch['seconds']:.2f} | {loop / torch['seconds']:.2f}× |")
print(f"| whole command (s): tutor draws the data set; PyTorch's script loads it from .npy | {tutor['seconds']:.2f} | {torch['total_seconds']:.2f} | {tutor['seconds'] / torch['total_seconds']:.2f}× |")
print(f"| validation accuracy | {tutor['val_accuracy']:.4f} | {torch['val_accuracy']:.4f} | |")
PY
