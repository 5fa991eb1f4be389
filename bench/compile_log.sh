#!/usr/bin/env bash
# A compiler launcher that appends "SECONDS SOURCE" for every compile to $COMPILE_LOG (default
# /tmp/ductile-compile.log): where a build's time goes (docs/BENCHMARKS.md, "Build time"). ductile's CMake
# takes the launcher through DUCTILE_CCACHE:
#   cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDUCTILE_CCACHE=$PWD/bench/compile_log.sh
#   cmake --build build -j2 && sort -rn /tmp/ductile-compile.log | head
start=$(date +%s.%N)
"$@"
rc=$?
end=$(date +%s.%N)
source=""
for arg in "$@"; do
  case "$arg" in *.cpp | *.cu | *.cc | *.cxx) source=$arg ;; esac
done
awk -v s="$start" -v e="$end" -v f="$source" 'BEGIN { printf "%.3f %s\n", e - s, f }' \
  >>"${COMPILE_LOG:-/tmp/ductile-compile.log}"
exit $rc
