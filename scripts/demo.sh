#!/usr/bin/env bash
# The main job: installs what is missing, builds tutor, trains the small network (a few
# seconds), classifies a picture with it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --product tutor
tutor=.build/release/tutor
mkdir -p out
"$tutor" train --out out/mininet.safetensors
"$tutor" predict images/shapes/triangle.png --weights out/mininet.safetensors
