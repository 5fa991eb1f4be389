#!/usr/bin/env bash
# One command from a fresh Debian machine to the whole test suite: install, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
cd build
# tests run two at a time on a 2-core machine: OpenMP threads sleep instead of spinning while they wait
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
ctest --output-on-failure --timeout 900 -j"$(nproc 2>/dev/null || echo 2)"
cd ..
# the same suite under AddressSanitizer + UndefinedBehaviorSanitizer (CPU only, no LibTorch; docs/RELIABILITY.md)
scripts/sanitize.sh build-asan
# bounded fuzzing of every reader, 20 s per harness (skipped with a message when clang is missing)
scripts/fuzz.sh build-fuzz
