#!/usr/bin/env bash
# Installs what is missing on a Debian machine (Debian packages, the torch wheel from PyPI) and builds ductile.
# Idempotent: packages already present are skipped. Usage: scripts/setup.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}

# Debian packages: compilers, CMake, and the libraries of the design card.
packages=(build-essential cmake ccache pkg-config libeigen3-dev libopenvdb-dev libboost-iostreams-dev
          libtinyobjloader-dev zlib1g-dev doctest-dev nlohmann-json3-dev libcli11-dev libtbb-dev ffmpeg python3 python3-pip)
missing=()
packages+=(clang libomp-dev)  # the instrumented build of the test command: sanitizers, libFuzzer, OpenMP (scripts/check_build.sh)
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

# LibTorch comes with the torch wheel; install it once (large), skip when present.
python=${PYTHON:-python3}
if ! "$python" -c "import torch" >/dev/null 2>&1; then
  echo "setup: installing the torch package from PyPI (large, once)"
  "$python" -m pip install --quiet torch numpy || "$python" -m pip install --quiet --break-system-packages torch numpy
fi

# The Python module (docs/PYTHON.md) builds with pybind11 and is tested with pytest: both from PyPI when missing.
for module in pybind11 pytest; do
  if ! "$python" -c "import $module" >/dev/null 2>&1; then
    echo "setup: installing $module from PyPI"
    "$python" -m pip install --quiet "$module" || "$python" -m pip install --quiet --break-system-packages "$module"
  fi
done

# Configure and build (CUDA backend when nvcc exists at /usr/local/cuda or on PATH).
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE="$(command -v "$python")" >/dev/null
cmake --build "$build_dir" -j"$jobs"
echo "setup: built $build_dir/ductile"
