#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer (docs/RELIABILITY.md), in the
# instrumented build of scripts/check_build.sh (no CUDA, no LibTorch: the GPU tests skip without a GPU anyway, and
# the neural-material tests run in the normal build only). Any sanitizer report, leak included, fails a test.
# Usage: scripts/sanitize.sh [build-dir] (default build-check, shared with scripts/fuzz.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-check}
scripts/check_build.sh "$build"
cd "$build"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
# halt on the first report of either sanitizer, with a stack; leaks are reported too
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# Every test but two long validation runs (the granular column collapse and the dam break: thousands of steps
# of the Drucker-Prager and fluid code that shorter tests also run; about 3 minutes under the sanitizers)
ctest --output-on-failure --timeout 1800 -j"$(nproc 2>/dev/null || echo 2)" \
  -E "^validation: (granular column collapse|dam break surge front)"
