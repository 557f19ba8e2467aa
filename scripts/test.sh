#!/usr/bin/env bash
# Runs every test: installs libpng-dev and libopenblas-dev if needed, builds tutor, checks that
# the generated lesson pages in docs/ are up to date, runs the lessons on full-size random ResNets,
# runs `swift test`, then fuzzes each file reader for TUTOR_FUZZ_SECONDS seconds (default 15;
# 0 skips it), which with the fuzzers' own build takes about 3 minutes (docs/limits.md, "Fuzzing").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --product tutor
.build/release/tutor export-docs --check
bash scripts/fullsize-lessons.sh .build/release/tutor
swift test "$@"
fuzz_seconds=${TUTOR_FUZZ_SECONDS:-15}
if [[ $fuzz_seconds != 0 ]]; then
    bash scripts/fuzz.sh all "$fuzz_seconds"
fi
