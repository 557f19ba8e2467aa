#!/usr/bin/env bash
# Runs every test: installs libpng-dev and libopenblas-dev if needed, builds tutor, checks that
# the generated lesson pages in docs/ are up to date, runs the lessons on full-size random ResNets,
# then runs `swift test`.
#
# Everything is built once, optimised, with -enable-testing so that the tests can use
# `@testable import`: the lesson tests run real networks, which take minutes unoptimised and
# seconds optimised, and the tests that run `tutor` itself run the same release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --build-tests -Xswiftc -enable-testing
.build/release/tutor export-docs --check
bash scripts/fullsize-lessons.sh .build/release/tutor
swift test -c release --skip-build -Xswiftc -enable-testing "$@"
