#!/usr/bin/env bash
# Packs a CUDA-enabled build's programs and the shared libraries they load (all but the C library's own) into
# one compressed archive, for a GPU machine that has the CUDA driver but none of ductile's Debian libraries
# (OpenVDB, TBB, tinyobjloader, ...) and no network. `bench/gpu.sh --bundle FILE` runs from it.
# Usage: bench/gpu_bundle.sh BUILD_DIR [OUT_FILE]     (default OUT_FILE: .gpu/bundle.tar.xz)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: bench/gpu_bundle.sh BUILD_DIR [OUT_FILE]}
out=${2:-.gpu/bundle.tar.xz}
grep -q '^DUCTILE_WITH_CUDA:STRING=ON' "$build/CMakeCache.txt" ||
  { echo "gpu_bundle: $build is not configured with -DDUCTILE_WITH_CUDA=ON" >&2; exit 2; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$(dirname "$out")"
programs=("$build/ductile")
[ -x "$build/tests/ductile_tests" ] && programs+=("$build/tests/ductile_tests")
cp "${programs[@]}" "$stage/bin/"
# every library the programs load, except the C library's (libc, libm, the loader, ...), which the target has
for lib in $(ldd "${programs[@]}" | awk '/=> \//{print $3}' | sort -u); do
  case "$(basename "$lib")" in
    libc.so* | libm.so* | libdl.so* | libpthread.so* | librt.so* | ld-linux*) ;;
    *) cp -L "$lib" "$stage/lib/" ;;
  esac
done
strip --strip-unneeded "$stage"/bin/* "$stage"/lib/* 2>/dev/null || true
git describe --always --dirty >"$stage/commit" 2>/dev/null || true
tar -C "$stage" -cf - . | xz -T2 -6 >"$out.tmp"
mv "$out.tmp" "$out"
echo "gpu_bundle: $out ($(du -h "$out" | cut -f1)) from $build at $(cat "$stage/commit" 2>/dev/null)"
