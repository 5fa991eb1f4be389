#!/usr/bin/env bash
# The benchmark's own set-up: a virtual environment with the peer simulators that `bench/peers.sh` runs
# beside `ductile bench` (taichi and warp-lang from PyPI). Benchmark-only: nothing here is needed to build or
# test ductile, and scripts/setup.sh never installs them. A peer that does not install is reported and
# skipped; the other is still installed.
#
#   bench/setup_peers.sh [VENV]      (default: build-peers/venv, ignored by git like every build*/ folder)
set -uo pipefail
cd "$(dirname "$0")/.."
venv="${1:-build-peers/venv}"
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv" || { echo "setup_peers: cannot create the virtual environment $venv" >&2; exit 1; }
fi
"$venv/bin/pip" install -q --upgrade pip > /dev/null 2>&1 || true
status=0
for pkg in "numpy" "taichi==1.7.4" "warp-lang"; do
  if "$venv/bin/pip" install -q "$pkg"; then
    echo "setup_peers: installed $pkg"
  else
    echo "setup_peers: could not install $pkg (its benchmark will be skipped)" >&2
    status=1
  fi
done
"$venv/bin/python" - <<'PY'
import importlib
for name in ("taichi", "warp"):
    try:
        m = importlib.import_module(name)
        print(f"setup_peers: {name} {getattr(m, '__version__', '?')} imports")
    except Exception as e:  # noqa: BLE001 - report any failure to import
        print(f"setup_peers: {name} does not import: {e}")
PY
exit $status
