#!/usr/bin/env bash
# One command from a fresh Debian machine to a simulated scene: install, build, run the default scene and render
# it (PNG frames and out/default/render/video.mp4).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
./build/ductile simulate --out out/default --preview "$@"
echo "quickstart: open out/default/render/video.mp4 to watch the run"
