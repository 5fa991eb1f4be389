#!/usr/bin/env bash
# One command from a fresh Debian machine to a simulated scene: install, build, run the default scene.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
./build/ductile simulate --out out/default "$@"
