#!/usr/bin/env bash
# The fluid benchmark scene run by ductile and by its peers in one go, with the ratios: Taichi's CPU backend
# (bench/taichi_mpm3d.py) and NVIDIA Warp's CPU device (bench/warp_mpm3d.py), the same scene (N = G^3/4, G,
# dt, J-fluid, steps). The peers come from bench/setup_peers.sh's virtual environment; one that is missing
# or fails is reported and skipped.
#
#   bench/setup_peers.sh
#   bench/peers.sh [--grid 64] [--steps 20] [--threads 2] [--ductile build/ductile] [--venv build-peers/venv]
#                  [--json-dir DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
grid=64 steps=20 threads=2 ductile=build/ductile venv=build-peers/venv jdir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --grid) grid="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --ductile) ductile="$2"; shift 2 ;;
    --venv) venv="$2"; shift 2 ;;
    --json-dir) jdir="$2"; shift 2 ;;
    *) echo "peers.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x "$ductile" ]] || { echo "peers.sh: no ductile executable at $ductile (--ductile)" >&2; exit 1; }
py="$venv/bin/python"
[[ -x "$py" ]] || { echo "peers.sh: no peer environment at $venv: run bench/setup_peers.sh first" >&2; exit 1; }
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
"$ductile" bench --scenes fluid --grid "$grid" --steps "$steps" --threads "$threads" --json "$tmp/ductile.json" ||
  { echo "peers.sh: ductile bench failed" >&2; exit 1; }
rate() { "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); r=d['runs'][0] if 'runs' in d else d; print(r['particle_steps_per_second'])" "$1"; }
ours=$(rate "$tmp/ductile.json")
declare -A peer
for name in taichi warp; do
  if "$py" "bench/${name}_mpm3d.py" --grid "$grid" --steps "$steps" --threads "$threads" --json "$tmp/$name.json"; then
    peer[$name]=$(rate "$tmp/$name.json")
  else
    echo "peers.sh: the $name benchmark did not run (see above); skipped" >&2
  fi
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "\nfluid G=%s N=%s, %s steps, %s threads (warp: one thread, its CPU device has no threading)\n" \
  "$grid" "$((grid * grid * grid / 4))" "$steps" "$threads"
printf "  %-8s %10.2f M p-steps/s\n" ductile "$("$py" -c "print($ours/1e6)")"
for name in taichi warp; do
  [[ -n "${peer[$name]:-}" ]] || continue
  printf "  %-8s %10.2f M p-steps/s   ductile / %s = %.2fx\n" "$name" "$("$py" -c "print(${peer[$name]}/1e6)")" \
    "$name" "$("$py" -c "print($ours/${peer[$name]})")"
done
if [[ -n "$jdir" ]]; then
  mkdir -p "$jdir" && cp "$tmp"/*.json "$jdir"/
fi
