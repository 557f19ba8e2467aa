#!/usr/bin/env bash
# Runs every test: installs libpng-dev and libopenblas-dev if needed, builds tutor, checks that
# the generated lesson pages in docs/ are up to date, runs the lessons on full-size random ResNets,
# then runs `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --product tutor
.build/release/tutor export-docs --check
bash scripts/fullsize-lessons.sh .build/release/tutor
swift test "$@"
