#!/usr/bin/env bash
# The instrumented build shared by the sanitizer suite (scripts/sanitize.sh) and the bounded fuzzing
# (scripts/fuzz.sh), docs/RELIABILITY.md: clang, AddressSanitizer + UndefinedBehaviorSanitizer everywhere,
# libFuzzer coverage in the library, without CUDA, LibTorch and Python. Files compile at -O0 except the hot
# library sources (simulator, tape, kernels, materials) at -O1 with a higher inlining threshold (UBSan's
# pointer-overflow checks make even Mat::operator() too large for -O1's default one). The programs link the
# library before their own -O0 objects (CMakeLists.txt), so they run the hot files' copies of shared inline
# code (docs/RELIABILITY.md). Usage: scripts/check_build.sh BUILD_DIR [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?build directory}
shift
cxx=${DUCTILE_CHECK_CXX:-clang++}
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "check build: $cxx not found (scripts/setup.sh installs clang)" >&2
  exit 1
fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS_DEBUG="-O0" \
  -DDUCTILE_HOT_FLAGS="-O1 -mllvm -inline-threshold=600" \
  -DDUCTILE_SANITIZE=address,undefined -DDUCTILE_FUZZ=ON \
  -DDUCTILE_WITH_CUDA=OFF -DDUCTILE_WITH_TORCH=OFF -DDUCTILE_BUILD_PYTHON=OFF >/dev/null
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" "${targets[@]}"
