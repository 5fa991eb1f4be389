#!/usr/bin/env bash
# Trains the bundled robots with gradients (Adam) and with the CMA-ES baseline given the same number of
# simulated episode steps, and prints a Markdown table of distance (or speed) and wall time (docs/ROBOTS.md).
#   scripts/robot_demo.sh [BUILD_DIR] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=${2:-out/robots}
mkdir -p "$out"
echo "| robot | metric | start | Adam (iterations) | Adam wall [s] | CMA-ES, same simulated steps | CMA-ES wall [s] | loss: start / Adam / CMA-ES |"
echo "|---|---|---|---|---|---|---|---|"
for robot in walker_2d quadruped_2d quadruped_3d crawler_3d; do
  scene=scenes/robot_$robot.json
  "$build/ductile" optimize "$scene" --out "$out/${robot}_adam" -q >"$out/${robot}_adam.json"
  iters=$(python3 -c "import json;print(json.load(open('$out/${robot}_adam.json'))['iterations'])")
  "$build/ductile" optimize "$scene" --out "$out/${robot}_cmaes" --method cmaes --iterations "$iters" -q \
    >"$out/${robot}_cmaes.json"
  python3 - "$robot" "$out/${robot}_adam.json" "$out/${robot}_cmaes.json" <<'PY'
import json, sys
robot, a, c = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
def metric(s):
    r = s['rollout']
    return "/".join(f"{m:.4f}" for m in r.get('metric_per_goal', [r['metric']]))
def loss(s):
    return s['rollout'].get('mean_loss', s['rollout']['loss'])
print(f"| {robot} | {a['metric_name']} | {a['first']['metric']:.4f} | {metric(a)} ({a['iterations']}) "
      f"| {a['wall_seconds']:.0f} | {metric(c)} | {c['wall_seconds']:.0f} "
      f"| {a['first']['loss']:.4g} / {loss(a):.4g} / {loss(c):.4g} |")
PY
done
