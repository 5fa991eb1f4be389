#!/usr/bin/env bash
# Per-kernel GPU times of a few simulation steps under Nsight Compute (`ncu`, on a machine whose runtime lets
# it read the counters), for each P2G variant of the CUDA backend; and which shared-memory atomics the
# compiled P2G uses. Usage: bench/gpu_kernels.sh BIN_DIR [GRID]   (BIN_DIR holds ductile; GRID default 256)
set -uo pipefail
bin=${1:?usage: bench/gpu_kernels.sh BIN_DIR [GRID]}
grid=${2:-256}
if command -v cuobjdump >/dev/null; then
  echo "== shared-memory atomics in the binary's SASS"
  cuobjdump --dump-sass "$bin/ductile" 2>/dev/null | grep -oE "ATOMS\.[A-Z0-9.]+" | sort | uniq -c
fi
command -v ncu >/dev/null || { echo "no ncu"; exit 0; }
log=${OUT:-/tmp}/gpu_kernels.txt
: >"$log"
for variant in ${GPU_KERNEL_VARIANTS:-DUCTILE_CUDA_P2G=cells DUCTILE_CUDA_P2G=staged}; do
  echo "== $variant: fluid, G = $grid, 3 steps after 1 (kernel; its duration min, max, mean)" | tee -a "$log"
  # shellcheck disable=SC2086  # a list of settings
  env $variant timeout 120 ncu --clock-control none --metrics gpu__time_duration.sum --print-summary per-kernel \
    "$bin/ductile" bench --backend cuda --scenes fluid --grid "$grid" --steps 3 --warmup 1 >/tmp/ncu.txt 2>&1
  cat /tmp/ncu.txt >>"$log"
  # (no interval expressions: mawk has none)
  awk '/\([0-9]+, [0-9]+, [0-9]+\)x\(/ {name = substr($0, 1, 100)} /gpu__time_duration.sum/ {print name "\n      " $0}' /tmp/ncu.txt
done
echo "== the P2G kernels (default and staged) and G2P in detail (the third launch of each: particles sorted)"
# (G2P is a cuda_for_kernel of G2PLaunch: matched in the demangled name)
DUCTILE_CUDA_P2G=staged timeout 120 ncu --clock-control none --kernel-name-base demangled -k regex:"p2g_staged" \
  --launch-skip 2 --launch-count 1 --section SpeedOfLight --section Occupancy --section LaunchStats \
  --section WarpStateStats "$bin/ductile" bench --backend cuda --scenes fluid --grid "$grid" --steps 3 --warmup 1 \
  >/tmp/ncu_staged.txt 2>&1
timeout 120 ncu --clock-control none --kernel-name-base demangled -k regex:"p2g_cells|G2PLaunch" \
  --launch-skip 4 --launch-count 2 \
  --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section MemoryWorkloadAnalysis \
  "$bin/ductile" bench --backend cuda --scenes fluid --grid "$grid" --steps 3 --warmup 1 >/tmp/ncu.txt 2>&1
cat /tmp/ncu_staged.txt /tmp/ncu.txt >>"$log"
cat /tmp/ncu_staged.txt /tmp/ncu.txt | grep -E "p2g_cells|p2g_staged|G2PLaunch|Duration|Throughput|Registers Per|Achieved Occupancy|Theoretical Occupancy|Block Limit|Warp Cycles Per Issued|Shared Memory Configuration Size|Dynamic Shared|L1/TEX Hit|L2 Hit|Mem Busy|Max Bandwidth" | cut -c1-140
# The step's timeline (nsys, where installed): the kernels' total GPU time against the wall clock of the same
# steps, and the host's CUDA calls (the wait for the status word, the launches), for the gap between the
# kernels' sum and the step (0.16 ms of 1.28 ms at G = 256 in the second GPU session)
if command -v nsys >/dev/null; then
  for variant in ${GPU_KERNEL_VARIANTS:-DUCTILE_CUDA_P2G=cells DUCTILE_CUDA_P2G=staged}; do
    echo "== nsys: $variant, fluid, G = $grid, 20 steps after 5" | tee -a "$log"
    rm -f /tmp/ductile-nsys.nsys-rep /tmp/ductile-nsys.sqlite
    # shellcheck disable=SC2086  # a list of settings
    env $variant timeout 120 nsys profile --trace=cuda --sample=none --cpuctxsw=none -o /tmp/ductile-nsys \
      "$bin/ductile" bench --backend cuda --scenes fluid --grid "$grid" --steps 20 --warmup 5 >/tmp/nsys.txt 2>&1
    grep -E "p-steps|^fluid" /tmp/nsys.txt | head -3
    timeout 120 nsys stats --report cuda_gpu_kern_sum,cuda_api_sum --format csv /tmp/ductile-nsys.nsys-rep \
      >/tmp/nsys_stats.txt 2>&1
    cat /tmp/nsys_stats.txt >>"$log"
    # the kernel and API totals, largest first (time %, total ns, calls, ..., name), cut to a line each
    grep -E '^"?[0-9]' /tmp/nsys_stats.txt | cut -c1-160 | head -40
  done
else
  echo "no nsys"
fi
