#!/usr/bin/env bash
# Bounded fuzzing of every reader (docs/RELIABILITY.md): builds the libFuzzer harnesses of fuzz/ with clang,
# ASan and UBSan in their own build directory, then runs each for DUCTILE_FUZZ_SECONDS (default 20) from its
# seeds (fuzz/corpus/<name>/ plus the bundled scenes and assets) and the corpus earlier runs grew. Any crash,
# sanitizer report, leak, timeout (> 10 s per input) or allocation above 2 GB fails the run, and the input that
# caused it is kept in <build>/findings/. Usage: scripts/fuzz.sh [build-dir] (default build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
seconds=${DUCTILE_FUZZ_SECONDS:-20}
cxx=${DUCTILE_FUZZ_CXX:-clang++}
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "fuzz: SKIPPED: $cxx not found (scripts/setup.sh installs clang, whose libFuzzer the harnesses need)"
  exit 0
fi
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" -DDUCTILE_FUZZ=ON \
  -DDUCTILE_SANITIZE=address,undefined -DDUCTILE_WITH_CUDA=OFF -DDUCTILE_WITH_TORCH=OFF \
  -DDUCTILE_BUILD_TESTS=OFF -DDUCTILE_BUILD_PYTHON=OFF >/dev/null
cmake --build "$build" -j"$jobs"

# seeds: handmade ones, and the bundled files each reader is meant for
seed_dir() {
  local name=$1 dir="$build/seeds/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  cp fuzz/corpus/"$name"/* "$dir"/ 2>/dev/null || true
  case $name in
    scene) cp scenes/*.json "$dir"/ ;;
    obj) cp assets/meshes/*.obj "$dir"/ ;;
    vdb) cp assets/levelsets/*.vdb "$dir"/ ;;
    gaussians) cp assets/splats/*.ply "$dir"/ 2>/dev/null || true ;;
  esac
  echo "$dir"
}

failed=()
printf '%-14s %10s %8s %8s %8s\n' harness seconds execs cov features
for exe in "$build"/fuzz/fuzz_*; do
  [ -x "$exe" ] || continue
  name=$(basename "$exe"); name=${name#fuzz_}
  corpus="$build/corpus/$name"
  findings="$build/findings/$name"
  mkdir -p "$corpus" "$findings"
  log="$build/fuzz_$name.log"
  seeds=$(seed_dir "$name")
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "$seeds" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$name")
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  printf '%-14s %10s %8s %8s %8s %s\n' "$name" "$seconds" "$execs" "$cov" "$ft" "$status"
done
if [ ${#failed[@]} -gt 0 ]; then
  for name in "${failed[@]}"; do
    echo "---- fuzz_$name: last lines of $build/fuzz_$name.log (inputs in $build/findings/$name/)"
    tail -n 40 "$build/fuzz_$name.log"
  done
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: every harness ran ${seconds} s without a finding"
