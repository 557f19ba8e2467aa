#!/usr/bin/env bash
# The main job: installs what is missing, builds tutor, trains the small network (about half
# a minute, with a progress bar), classifies a picture with it, and runs the Grad-CAM lesson.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --product tutor
tutor=.build/release/tutor
mkdir -p out
"$tutor" train --out out/mininet.safetensors
"$tutor" predict images/shapes/triangle.png --weights out/mininet.safetensors
"$tutor" lesson gradcam
