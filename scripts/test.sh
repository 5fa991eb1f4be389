#!/usr/bin/env bash
# One command from a fresh Debian machine to the whole test suite: install, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
cd build
# tests run two at a time on a 2-core machine: OpenMP threads sleep instead of spinning while they wait
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
ctest --output-on-failure --timeout 900 -j"$(nproc 2>/dev/null || echo 2)"
# The sanitizer suite (scripts/sanitize.sh) and the bounded fuzzing (scripts/fuzz.sh) are separate commands for
# now: each builds the whole library again, which on two cores would take the test command past its
# 30-minute budget (docs/RELIABILITY.md).
