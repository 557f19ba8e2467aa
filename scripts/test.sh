#!/usr/bin/env bash
# Runs every test: installs libpng-dev and libopenblas-dev if needed, then `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --product tutor
swift test "$@"
