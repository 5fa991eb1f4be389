#!/usr/bin/env bash
# Downloads, HERE (a Debian 12 machine with apt), the Debian packages that a CUDA build of ductile from source
# needs on a GPU machine that has nvcc, g++, CMake and ninja but none of ductile's libraries and no network
# (the `device` tool's machine): Eigen, nlohmann_json, CLI11, tinyobjloader, zlib and doctest, into .gpu/deps/
# (git-ignored). OpenVDB and LibTorch are left out: that build is configured with -DDUCTILE_WITH_OPENVDB=OFF
# -DDUCTILE_WITH_TORCH=OFF. bench/gpu.sh unpacks them there with `dpkg -x` into a prefix under /tmp.
#
# Usage: bench/gpu_deps.sh [DIR]       (default DIR: .gpu/deps)
# Then, with the device tool: run `bash bench/gpu.sh` with carry [".gpu/deps"] (the packages travel with the
# working tree, under its 64 MiB limit; this script prints both sizes).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-.gpu/deps}
# headers and CMake package files (the -dev packages), and the run-time libraries their links point to
packages=(libeigen3-dev nlohmann-json3-dev libcli11-dev libtinyobjloader-dev libtinyobjloader2rc10 zlib1g-dev
  zlib1g doctest-dev)
mkdir -p "$dir"
rm -f "$dir"/*.deb
# apt-get download writes to the current folder; as root it warns that the _apt user cannot write there
(cd "$dir" && apt-get download "${packages[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
for p in "${packages[@]}"; do
  compgen -G "$dir/${p}_*.deb" >/dev/null || { echo "gpu_deps: $p was not downloaded" >&2; exit 1; }
done
deps_kib=$(du -sk "$dir" | cut -f1)
# what travels: tracked files and untracked files that git does not ignore
tree_kib=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | du -ck --files0-from=- 2>/dev/null |
  tail -1 | cut -f1)
echo "gpu_deps: ${#packages[@]} packages in $dir: $((deps_kib / 1024)).$((deps_kib % 1024 * 10 / 1024)) MiB;" \
  "working tree $((tree_kib / 1024)) MiB; together $(((deps_kib + tree_kib) / 1024)) MiB of the 64 MiB that travel"
