#!/usr/bin/env bash
# Runs a command once the machine is quiet: no compiler or test binary running and the 1-minute load average
# below a threshold. On a shared 2-core machine other jobs halve a 1-thread run and wreck a 2-thread one
# (OpenMP barriers wait for a thread the kernel has parked), so benchmark numbers are taken this way.
#
#   bench/run_quiet.sh [--max-load 0.8] [--timeout 3600] -- ductile bench --scaling --grid 64,128
set -euo pipefail

max_load=0.8
timeout=3600
while [[ $# -gt 0 ]]; do
  case "$1" in
    --max-load) max_load="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || { echo "usage: $0 [--max-load L] [--timeout S] -- command..." >&2; exit 2; }

busy() {
  # compilers, linkers and test binaries of anyone on the machine
  local name
  for name in cc1plus cc1 nvcc cudafe++ ptxas ld ductile_tests; do
    pgrep -x "$name" > /dev/null && return 0
  done
  awk -v max="$max_load" '{ exit !($1 > max) }' /proc/loadavg
}

start=$(date +%s)
while busy; do
  if (( $(date +%s) - start > timeout )); then
    echo "run_quiet: machine still busy after ${timeout}s (load $(cut -d' ' -f1 /proc/loadavg)); running anyway" >&2
    break
  fi
  sleep 5
done
echo "run_quiet: load $(cut -d' ' -f1 /proc/loadavg) at $(date -u +%H:%M:%S)" >&2
exec "$@"
