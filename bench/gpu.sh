#!/usr/bin/env bash
# One call on a GPU machine (the `device` tool): build from source against the torch found there, run the CUDA
# tests (simulator and gradient tape against the CPU), then the GPU benchmarks (forward at 1 to 16 million
# particles, and a gradient run), printing everything. Results also go to $OUT (or bench/results) as JSON.
# Usage: bench/gpu.sh [BUILD_DIR]      (about 5 minutes on one H200, most of it the build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-gpu}
out=${OUT:-bench/results}
mkdir -p "$out"
echo "== machine"; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
nproc
# build: CUDA on, architecture of the visible GPU; no tests of the CPU-only kind are rebuilt twice
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DDUCTILE_WITH_CUDA=ON >/dev/null
cmake --build "$build" -j"$(nproc)" 2>&1 | tail -3
"$build/ductile" version
echo "== CUDA tests"
(cd "$build" && OMP_WAIT_POLICY=passive ctest --output-on-failure -R "cuda|CUDA" --timeout 300) || echo "CUDA TESTS FAILED"
echo "== forward: G = 160, 256, 400 (about 1, 4 and 16 million particles)"
"$build/ductile" bench --backend cuda --scenes fluid,fixed_corotated --grid 160,256,400 --steps 50 \
  --json "$out/gpu_forward.json" || echo "FORWARD BENCH FAILED"
echo "== gradient: G = 128"
"$build/ductile" bench --backend cuda --gradient --scenes fluid --grid 128 --steps 50 --checkpoint all,sqrt \
  --json "$out/gpu_gradient.json" || echo "GRADIENT BENCH FAILED"
