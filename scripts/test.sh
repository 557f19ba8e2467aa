#!/usr/bin/env bash
# Runs every test: installs libpng-dev and libopenblas-dev if needed, builds tutor, checks that
# the generated lesson pages in docs/ are up to date (under three sets of kernels), runs the
# lessons on full-size random ResNets, runs `swift test`, then fuzzes each file reader for
# TUTOR_FUZZ_SECONDS seconds (default 15; 0 skips it) from seed TUTOR_FUZZ_SEED (default 1, so
# that a commit fuzzes alike on every run; 0 draws one), which with the fuzzers' own build takes
# about 3 minutes (docs/limits.md, "Fuzzing").
#
# Everything is built once, optimised, with -enable-testing so that the tests can use
# `@testable import`: the lesson tests run real networks, which take minutes unoptimised and
# seconds optimised, and the tests that run `tutor` itself run the same release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --build-tests -Xswiftc -enable-testing
.build/release/tutor export-docs --check
# The pages again under other arithmetic, as another processor runs them: OpenBLAS's SSE kernels
# (what a processor without AVX gets) and MiniNet's own SSE loops. OPENBLAS_CORETYPE only
# names x86 kernels.
if [[ $(uname -m) == x86_64 ]]; then
    OPENBLAS_CORETYPE=Nehalem .build/release/tutor export-docs --check
    TUTOR_SIMD=sse .build/release/tutor export-docs --check
fi
bash scripts/fullsize-lessons.sh .build/release/tutor
swift test -c release --skip-build -Xswiftc -enable-testing "$@"
fuzz_seconds=${TUTOR_FUZZ_SECONDS:-15}
if [[ $fuzz_seconds != 0 ]]; then
    TUTOR_FUZZ_SEED=${TUTOR_FUZZ_SEED:-1} bash scripts/fuzz.sh all "$fuzz_seconds"
fi
