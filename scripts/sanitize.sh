#!/usr/bin/env bash
# The test suite under AddressSanitizer and UndefinedBehaviorSanitizer (docs/RELIABILITY.md): its own build
# directory, -O1 -g, without CUDA and LibTorch (the neural-material tests skip; LibTorch is not built with the
# sanitizers and its headers would double the build time), every ctest test, any sanitizer report fails it.
# Usage: scripts/sanitize.sh [build-dir] (default build-asan)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-asan}
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DDUCTILE_SANITIZE=address,undefined -DDUCTILE_WITH_CUDA=OFF -DDUCTILE_WITH_TORCH=OFF -DDUCTILE_BUILD_PYTHON=OFF >/dev/null
cmake --build "$build" -j"$jobs" --target ductile ductile_tests
cd "$build"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
# halt on the first report of either sanitizer, with a stack; leaks are reported too
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# tests too slow under the sanitizers may run a reduced size when this is set (documented in their source;
# none does yet: docs/RELIABILITY.md)
export DUCTILE_SANITIZER_BUILD=1
ctest --output-on-failure --timeout 1800 -j"$jobs"
