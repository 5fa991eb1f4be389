#!/usr/bin/env bash
# Bounded fuzzing of every reader (docs/RELIABILITY.md): the libFuzzer harnesses of fuzz/, built in the
# instrumented build of scripts/check_build.sh (clang, ASan, UBSan; shared with scripts/sanitize.sh), each run for
# DUCTILE_FUZZ_SECONDS (default 20) from its seeds (fuzz/corpus/<name>/ plus the bundled scenes and assets) and
# the corpus earlier runs grew, two at a time. Any crash, sanitizer report, leak, timeout (> 10 s per input, 70 s
# for VDB files) or allocation above 2 GB fails the run, and the input that caused it is kept in <build>/findings/.
# Usage: scripts/fuzz.sh [build-dir] (default build-check)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-check}
seconds=${DUCTILE_FUZZ_SECONDS:-20}
harnesses=(fuzz_scene fuzz_ply fuzz_obj fuzz_vdb fuzz_observations fuzz_checkpoint fuzz_gaussians fuzz_weights)
scripts/check_build.sh "$build" "${harnesses[@]}"

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

# one harness for $seconds; its result line goes to <build>/fuzz_<name>.result
run_one() {
  local name=$1 exe="$build/fuzz/fuzz_$1" corpus="$build/corpus/$1" findings="$build/findings/$1"
  local log="$build/fuzz_$1.log" seeds status execs cov ft limit=10
  # a VDB file is read in a child process that may spend up to 60 s before it is stopped (core/io/isolated_read.h);
  # damaged files make OpenVDB allocate about 2 GB there several times, which takes seconds, not a hang
  [ "$name" = vdb ] && limit=70
  mkdir -p "$corpus" "$findings"
  seeds=$(seed_dir "$name")
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$exe" -max_total_time="$seconds" -timeout="$limit" -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "$seeds" >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
  fi
  # the last stats are the harness's own: the VDB reader's child processes print theirs as they exit
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo "?")
  printf '%-14s %10s %8s %8s %8s %s\n' "$name" "$seconds" "$execs" "$cov" "$ft" "$status" >"$build/fuzz_$name.result"
}

# two harnesses at a time (one per core), then the table
jobs=$(nproc 2>/dev/null || echo 2)
running=0
for exe in "${harnesses[@]}"; do
  run_one "${exe#fuzz_}" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true
failed=()
printf '%-14s %10s %8s %8s %8s\n' harness seconds execs cov features
for exe in "${harnesses[@]}"; do
  name=${exe#fuzz_}
  cat "$build/fuzz_$name.result"
  grep -q ' ok$' "$build/fuzz_$name.result" || failed+=("$name")
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
