#!/usr/bin/env bash
# One command from a fresh Debian machine to the whole test suite: install, build, run every test; then the same
# suite under AddressSanitizer + UndefinedBehaviorSanitizer and a bounded fuzzing of every reader, both in one
# instrumented clang build (docs/RELIABILITY.md). About 30 minutes from a fresh clone on the 2-core development
# machine.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS=0
scripts/setup.sh build
echo "test: setup and build took ${SECONDS} s"
(
  cd build
  # tests run two at a time on a 2-core machine: OpenMP threads sleep instead of spinning while they wait
  export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
  ctest --output-on-failure --timeout 900 -j"$(nproc 2>/dev/null || echo 2)"
)
echo "test: the suite passed at ${SECONDS} s; now under the sanitizers"
scripts/sanitize.sh build-check
echo "test: the sanitizer suite passed at ${SECONDS} s; now the fuzzing"
scripts/fuzz.sh build-check
echo "test: everything passed in ${SECONDS} s"
