#!/usr/bin/env bash
# One call on a GPU machine (the `device` tool): the CUDA tests (simulator, materials and gradient tape
# against the CPU), a memory check of the CUDA step (and race and barrier checks of the staged P2G), then the
# GPU benchmarks (forward at 0.5 to 33.5 million particles for each variant of the backend; a gradient run),
# printing everything. Results also go to $OUT (or bench/results) as JSON and logs, at most 8 files (what the
# device tool brings back). GPU_VARIANTS (a list of variants, each a comma-joined list of VAR=VALUE settings
# or `default`), GPU_GRIDS, GPU_KERNELS=1 (bench/gpu_kernels.sh), GPU_MEMCHECK=0, GPU_CPU_THREADS=0 (the CPU
# backend at 1, 2, 4, ... and all of the machine's threads, G = 128 or GPU_CPU_GRID, after the GPU stages) and
# GPU_GRADIENT=0 change what runs; GPU_TARGETS (default "ductile ductile_tests") what is built. The CUDA tests
# run twice: with the backend's defaults, and with the other settings on (DUCTILE_CUDA_GRID=sparse
# DUCTILE_CUDA_FUSE=1 DUCTILE_CUDA_PARTITION=device DUCTILE_CUDA_SORT=adaptive). The sparse grid's benchmark
# (the scene in a domain 64 times larger with the default, dense, active and sparse grid) runs unless
# GPU_DOMAIN=0.
#
# Usage: bench/gpu.sh [--bundle FILE [--also-build]] [--quick | --minimal] [BUILD_DIR]
#   --bundle FILE  run the programs of FILE (made here by bench/gpu_bundle.sh) instead of building: for a GPU
#                  machine without ductile's Debian libraries or network
#   --also-build   with --bundle: also build `ductile` from source in BUILD_DIR (below) in the background at the
#                  lowest priority, then, after the variants, run `bench/gpu.sh --minimal BUILD_DIR` with
#                  the fastest variant's settings: the issue's one go, on the GPU stages' spare cores
#   --quick        the forward benchmark at G = 128 and 256 only (else also 160, 400 and 512: 1 to 33.5 M)
#   --minimal      what issue 6 asks for in one go: the build (without --bundle), the comparison with the CPU
#                  and the forward benchmark at 1, 4.2 and 16 million particles (G = 160, 256, 400) with the
#                  backend's defaults; no tests, memcheck, other variants, domain, CPU or gradient runs (each
#                  can be turned back on: GPU_TESTS=1, GPU_MEMCHECK=1, GPU_VARIANTS, GPU_DOMAIN=1,
#                  GPU_CPU_THREADS=1, GPU_GRADIENT=1)
#   otherwise      builds `ductile` and `ductile_tests` from source in BUILD_DIR (default build-gpu) with CUDA for
#                  sm_90 (H100, H200), with ninja when present and every core, and prints the configure + build
#                  seconds. When .gpu/deps/*.deb exist (made on a Debian 12 machine by bench/gpu_deps.sh: Eigen,
#                  nlohmann_json, CLI11, tinyobjloader, zlib, doctest), they are unpacked with `dpkg -x` into
#                  /tmp/ductile-gpu-deps (never into /) and the build uses that prefix, without OpenVDB and
#                  LibTorch (-DDUCTILE_WITH_OPENVDB=OFF -DDUCTILE_WITH_TORCH=OFF): for a GPU machine with
#                  nvcc, g++ and CMake but none of ductile's libraries and no network. With the device tool:
#                  here `bench/gpu_deps.sh`, then run `bash bench/gpu.sh` with carry [".gpu/deps"].
# Each stage has its own time limit, so one hang still leaves the others' results; GPU_DEADLINE (seconds from the
# start; default 570 where $OUT is set, as the device tool sets it and stops a call at 600 s, else none) cuts
# every limit to what is left, skipping stages with under 20 s, so the results so far and the summary print.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bundle="" quick=0 minimal=0 also_build=0 build=build-gpu
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --minimal) minimal=1; shift ;;
    --also-build) also_build=1; shift ;;
    *) build=$1; shift ;;
  esac
done
if [ $minimal = 1 ]; then
  : "${GPU_TESTS:=0}" "${GPU_MEMCHECK:=0}" "${GPU_GRADIENT:=0}" "${GPU_DOMAIN:=0}" "${GPU_CPU_THREADS:=0}"
  : "${GPU_VARIANTS:=default}" "${GPU_GRIDS:=160,256,400}"
fi
out=${OUT:-bench/results}
mkdir -p "$out"
t_start=$(date +%s)
stamp() { echo "[$(($(date +%s) - t_start)) s] $*"; }
deadline=${GPU_DEADLINE:-${OUT:+570}}
# limited SECONDS CMD...: CMD under `timeout`, its limit cut to what is left before the deadline
limited() {
  local want=$1 left
  shift
  if [ -n "$deadline" ]; then
    left=$((deadline - ($(date +%s) - t_start) - 5))
    if [ "$left" -lt 20 ]; then
      stamp "skipped: GPU_DEADLINE=$deadline s is reached ($*)"
      return 124
    fi
    [ "$left" -lt "$want" ] && want=$left
  fi
  timeout "$want" "$@"
}
stamp "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader || true
echo "$(nproc) cores"

# build_here: configures and builds ductile (GPU_TARGETS) from source in $build with CUDA for sm_90, printing the
# configure + build seconds; the log stays out of $out (8 files come back at most), its tail printed on failure
build_here() {
  local config=(-DCMAKE_BUILD_TYPE=Release -DDUCTILE_WITH_CUDA=ON -DDUCTILE_WITH_TORCH=OFF -DDUCTILE_BUILD_PYTHON=OFF
    -DCMAKE_CUDA_ARCHITECTURES=90)
  # a fresh build directory takes ninja when there is one (an existing one keeps its generator)
  [ ! -f "$build/CMakeCache.txt" ] && command -v ninja >/dev/null && config+=(-G Ninja)
  if compgen -G ".gpu/deps/*.deb" >/dev/null; then
    local deps=/tmp/ductile-gpu-deps debs=(.gpu/deps/*.deb) deb member
    stamp "== unpacking ${#debs[@]} packages of .gpu/deps into $deps"
    rm -rf "$deps" && mkdir -p "$deps"
    for deb in "${debs[@]}"; do
      if command -v dpkg >/dev/null; then
        dpkg -x "$deb" "$deps" || return 1
      else  # a .deb is an ar archive whose data.tar.* holds the files
        member=$(ar t "$deb" | grep '^data\.tar') || return 1
        ar p "$deb" "$member" | tar -x -C "$deps" --"${member##*.}" 2>/dev/null ||
          ar p "$deb" "$member" | tar -x -C "$deps" || return 1
      fi
    done
    # links to /lib/... and doctest's CMake file name /usr itself: point them into the prefix
    find "$deps" -type l -lname '/*' | while read -r link; do ln -sfn "$deps$(readlink "$link")" "$link"; done
    grep -rl --include='*.cmake' 'set(_IMPORT_PREFIX "/usr")' "$deps" |
      xargs -r sed -i "s|set(_IMPORT_PREFIX \"/usr\")|set(_IMPORT_PREFIX \"$deps/usr\")|"
    config+=(-DCMAKE_PREFIX_PATH="$deps/usr" -DDUCTILE_WITH_OPENVDB=OFF)
  fi
  stamp "== configure and build $build: cmake ${config[*]}"
  local t_build log=/tmp/ductile-gpu-build.log
  t_build=$(date +%s)
  cmake -S . -B "$build" "${config[@]}" >"$log" 2>&1 || { tail -30 "$log"; return 1; }
  # shellcheck disable=SC2086  # GPU_TARGETS is a list
  cmake --build "$build" -j"$(nproc)" --target ${GPU_TARGETS:-ductile ductile_tests} >>"$log" 2>&1 ||
    { grep -B2 -A12 -m3 'error' "$log" | head -60; tail -5 "$log"; return 1; }
  stamp "configure + build: $(($(date +%s) - t_build)) s on $(nproc) cores"
  ln -sf tests/ductile_tests "$build/ductile_tests" 2>/dev/null
}

# programs: from the bundle, or built here
if [ -n "$bundle" ]; then
  root=/tmp/ductile-gpu
  rm -rf "$root" && mkdir -p "$root"
  tar -C "$root" -xJf "$bundle" 2>/dev/null ||
    python3 -c "import tarfile,sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$bundle" "$root" || exit 1
  bin=$root/bin
  stamp "bundle of commit $(cat $root/commit 2>/dev/null)"
  if [ $also_build = 1 ]; then
    # the build from source beside the GPU stages, at the lowest priority so that they keep their cores: its
    # seconds are an upper bound of a build alone; `ductile` only (the bundle has the tests)
    stamp "== building $build from source in the background (nice 19; log /tmp/ductile-gpu-background.log)"
    (GPU_TARGETS=ductile nice -n 19 bash -c "$(declare -f stamp build_here); t_start=$t_start build=$build build_here" \
      >/tmp/ductile-gpu-background.log 2>&1; echo $? >/tmp/ductile-gpu-background.rc) &
    background_build=$!
  fi
  export LD_LIBRARY_PATH=$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
else
  build_here || exit 1
  bin=$build
fi
"$bin/ductile" version || exit 1
export OMP_WAIT_POLICY=passive

prepared="DUCTILE_CUDA_GRID=sparse DUCTILE_CUDA_FUSE=1 DUCTILE_CUDA_PARTITION=device DUCTILE_CUDA_SORT=adaptive"
# --no-skip: a GPU case that finds no usable GPU fails here instead of skipping (doctest would exit 0)
tests='*cuda*,*GPU if any*,*batched stress_vjp and project_vjp*'
if [ "${GPU_TESTS:-1}" = 1 ]; then
  stamp "== CUDA tests (CPU against GPU), the backend's defaults"
  limited 240 "$bin/ductile_tests" --no-skip -tc="$tests" 2>&1 | tee "$out/gpu_tests.log" | tail -30
  stamp "tests exit ${PIPESTATUS[0]}" | tee -a "$out/gpu_tests.log"
  stamp "== CUDA tests with the other settings, $prepared"
  # shellcheck disable=SC2086  # a list of settings
  limited 240 env $prepared "$bin/ductile_tests" --no-skip -tc="$tests" 2>&1 | tee -a "$out/gpu_tests.log" | tail -30
  stamp "tests exit ${PIPESTATUS[0]}" | tee -a "$out/gpu_tests.log"
fi

if [ "${GPU_KERNELS:-0}" = 1 ]; then stamp "== kernel times"; limited 300 bash bench/gpu_kernels.sh "$bin" 256; fi
stamp "== forward (float, 3D) against the CPU: G = 128 (0.5 million particles), defaults and every prepared step"
limited 200 "$bin/ductile" bench --backend cuda --scenes fluid,fixed_corotated --grid 128 --steps 100 \
  --warmup 10 --compare-cpu --json "$out/gpu_compare.json" 2>&1 | tee "$out/gpu_compare.log"
stamp "compare exit ${PIPESTATUS[0]}"
[ $minimal = 1 ] && prepared_compares=() ||
  prepared_compares=("$prepared DUCTILE_CUDA_P2G=slabs" "${prepared/sparse/active}" "DUCTILE_CUDA_P2G=staged"
    "$prepared DUCTILE_CUDA_P2G=staged")
for settings in "${prepared_compares[@]}"; do
  stamp "compare with $settings"
  # shellcheck disable=SC2086
  limited 200 env $settings "$bin/ductile" bench --backend cuda --scenes fluid,fixed_corotated --grid 128 \
    --steps 100 --warmup 10 --compare-cpu 2>&1 | tee -a "$out/gpu_compare.log"
  stamp "compare exit ${PIPESTATUS[0]}"
done
grids=128,256
[ $quick = 0 ] && grids=128,160,256,400,512
grids=${GPU_GRIDS:-$grids}
# the defaults (active blocks, or the sparse grid above 1 GiB of dense grid; the projection inside G2P), the
# first GPU session's defaults (dense grid, nothing fused), the unsorted P2G, and one or two switches changed
# (the staged P2G, not yet timed on a GPU, first: 8 particles of each cell per chunk, 4, 12, with the stress,
# with the adaptive sort, and both)
variants=${GPU_VARIANTS:-default DUCTILE_CUDA_P2G=staged DUCTILE_CUDA_P2G=staged,DUCTILE_CUDA_STAGED_ROWS=4 \
DUCTILE_CUDA_P2G=staged,DUCTILE_CUDA_STAGED_ROWS=12 DUCTILE_CUDA_P2G=staged,DUCTILE_CUDA_FUSE=1 \
DUCTILE_CUDA_P2G=staged,DUCTILE_CUDA_SORT=adaptive DUCTILE_CUDA_P2G=staged,DUCTILE_CUDA_SORT=adaptive,DUCTILE_CUDA_FUSE=1 \
DUCTILE_CUDA_GRID=dense,DUCTILE_CUDA_FUSE=0 DUCTILE_CUDA_SORT=0 DUCTILE_CUDA_FUSE=1 \
DUCTILE_CUDA_FUSE=0 DUCTILE_CUDA_SORT=adaptive DUCTILE_CUDA_FUSE=1,DUCTILE_CUDA_SORT=adaptive DUCTILE_CUDA_GRID=sparse \
DUCTILE_CUDA_GRID=sparse,DUCTILE_CUDA_FUSE=1 DUCTILE_CUDA_P2G=slabs}
# every variant's JSON, one line each: {"variant": ..., "bench": ...}
: >"$out/gpu_forward.jsonl"
for variant in $variants; do
  settings=${variant//,/ }
  [ "$variant" = default ] && settings=""
  stamp "== forward (float, 3D), $variant: G = $grids (N = G^3 / 4 particles)"
  # shellcheck disable=SC2086
  limited 300 env $settings "$bin/ductile" bench --backend cuda --scenes fluid,fixed_corotated \
    --grid $grids --steps 100 --warmup 10 --json /tmp/ductile-gpu-forward.json 2>&1
  stamp "forward exit ${PIPESTATUS[0]}"
  [ -s /tmp/ductile-gpu-forward.json ] &&
    printf '{"variant": "%s", "bench": %s}\n' "$variant" "$(tr -d '\n' </tmp/ductile-gpu-forward.json)" \
      >>"$out/gpu_forward.jsonl"
  rm -f /tmp/ductile-gpu-forward.json
done

# the variant with the highest rate summed over the scenes at the largest grid (a variant's settings, or default)
fastest_variant() {
  python3 - "$out/gpu_forward.jsonl" <<'PY'
import json, sys
rates = {}
for line in open(sys.argv[1]):
    rec = json.loads(line)
    runs = rec["bench"].get("runs", [])
    if runs and not rec["variant"].startswith("domain-scale"):
        top = max(r["grid"] for r in runs)
        rates[rec["variant"]] = sum(r["particle_steps_per_second"] for r in runs if r["grid"] == top)
print(max(rates, key=rates.get) if rates else "default")
PY
}

if [ -n "${background_build:-}" ]; then
  # the issue's one go (bench/gpu.sh --minimal: build, comparison with the CPU, 1 to 16 million particles) with
  # the programs built here from source, with the fastest variant's settings
  stamp "== waiting for the background build from source"
  while [ ! -s /tmp/ductile-gpu-background.rc ] && [ $(($(date +%s) - t_start)) -lt $((${deadline:-100000} - 60)) ]; do
    sleep 2
  done
  grep -E '^\[|error|Error' /tmp/ductile-gpu-background.log | tail -12
  if [ "$(cat /tmp/ductile-gpu-background.rc 2>/dev/null)" = 0 ]; then
    best=$(fastest_variant)
    settings=${best//,/ }
    [ "$best" = default ] && settings=""
    stamp "== bench/gpu.sh --minimal $build (built from source above) with the fastest variant, $best"
    # shellcheck disable=SC2086  # a list of settings; the bundle's libraries are not the source build's
    env -u LD_LIBRARY_PATH -u GPU_KERNELS $settings GPU_TARGETS=ductile OUT=/tmp/ductile-gpu-minimal \
      GPU_DEADLINE=$((${deadline:-100000} - ($(date +%s) - t_start))) bash bench/gpu.sh --minimal "$build" 2>&1
    stamp "minimal exit $?"
    cp /tmp/ductile-gpu-minimal/gpu_forward.jsonl "$out/gpu_minimal.jsonl" 2>/dev/null
  else
    stamp "the background build did not finish (exit $(cat /tmp/ductile-gpu-background.rc 2>/dev/null))"
    tail -20 /tmp/ductile-gpu-background.log
  fi
fi

if [ "${GPU_MEMCHECK:-1}" = 1 ] && command -v compute-sanitizer >/dev/null; then
  stamp "== compute-sanitizer memcheck: the CUDA step against the CPU (2D and 3D, every P2G variant and grid)"
  # into the tests' log too: the forward stages print more than the device tool's output tail keeps
  limited 180 compute-sanitizer --tool memcheck --error-exitcode 9 "$bin/ductile_tests" --no-skip \
    -tc='cuda backend: every particle-to-grid*,cuda backend: the sparse grid*' 2>&1 |
    tee -a "$out/gpu_tests.log" | tail -15
  stamp "memcheck exit ${PIPESTATUS[0]}" | tee -a "$out/gpu_tests.log"
  # the staged P2G's shared memory and barriers (a small scene: racecheck is slow), with several chunks of rows
  # and strays from the adaptive sort in the second
  for settings in "DUCTILE_CUDA_P2G=staged" \
    "DUCTILE_CUDA_P2G=staged DUCTILE_CUDA_STAGED_ROWS=2 DUCTILE_CUDA_SORT=adaptive DUCTILE_CUDA_FUSE=1"; do
    for tool in racecheck synccheck; do
      stamp "== compute-sanitizer $tool: $settings, fluid, G = 32, 4 steps" | tee -a "$out/gpu_tests.log"
      # shellcheck disable=SC2086  # a list of settings
      limited 120 env $settings compute-sanitizer --tool $tool --error-exitcode 9 "$bin/ductile" bench \
        --backend cuda --scenes fluid --grid 32 --steps 3 --warmup 1 2>&1 | tee -a "$out/gpu_tests.log" | tail -4
      stamp "$tool exit ${PIPESTATUS[0]}" | tee -a "$out/gpu_tests.log"
    done
  done
fi

if [ "${GPU_DOMAIN:-1}" = 1 ]; then
  # the sparse grid's benchmark: the same particles in [0, 4]^3 instead of [0, 1]^3 (64 times the volume)
  for grid in default dense active sparse; do
    stamp "== domain 64 times larger, DUCTILE_CUDA_GRID=$grid: G = 128, 256"
    setting=DUCTILE_CUDA_GRID=$grid
    [ $grid = default ] && setting=-uDUCTILE_CUDA_GRID
    limited 200 env $setting "$bin/ductile" bench --backend cuda --scenes fluid --grid 128,256 \
      --domain-scale 1,4 --steps 50 --warmup 5 --json /tmp/ductile-gpu-forward.json 2>&1
    stamp "domain exit ${PIPESTATUS[0]}"
    [ -s /tmp/ductile-gpu-forward.json ] &&
      printf '{"variant": "domain-scale,DUCTILE_CUDA_GRID=%s", "bench": %s}\n' "$grid" \
        "$(tr -d '\n' </tmp/ductile-gpu-forward.json)" >>"$out/gpu_forward.jsonl"
    rm -f /tmp/ductile-gpu-forward.json
  done
fi

# the forward rates of every variant, one line each (the output above may be longer than what comes back)
summary() {
  [ -s "$out/gpu_forward.jsonl" ] && command -v python3 >/dev/null || return 0
  stamp "== summary: forward particle-steps per second (millions; the run's peak GPU buffers) by variant"
  python3 - "$out/gpu_forward.jsonl" <<'PY' || true
import json, sys
best = {}
for line in open(sys.argv[1]):
    rec = json.loads(line)
    cells = []
    for r in rec["bench"].get("runs", []):
        rate = r.get("particle_steps_per_second", 0) / 1e6
        tag = "%s G=%d" % (r["scene"], r["grid"]) + (" x%g" % r["domain_scale"] if r.get("domain_scale", 1) != 1 else "")
        cells.append("%s %.0f (%.0f MB)" % (tag, rate, r.get("buffers_peak_mb", 0)))
        if not rec["variant"].startswith("domain-scale") and rate > best.get(tag, (0, ""))[0]:
            best[tag] = (rate, rec["variant"])
    print("%s: %s" % (rec["variant"], ", ".join(cells)))
for tag, (rate, variant) in sorted(best.items()):
    print("fastest at %s: %.0f (%s)" % (tag, rate, variant))
PY
}

if [ "${GPU_CPU_THREADS:-1}" = 1 ]; then
  # the CPU backend on this machine's cores (the development machine has two): 1, 2, 4, ... and all threads
  cores=$(nproc) threads=1
  for ((t = 2; t < cores; t *= 2)); do threads+=",$t"; done
  [ "$cores" -gt 1 ] && threads+=",$cores"
  stamp "== CPU backend, $threads threads: fluid and fixed-corotated, G = ${GPU_CPU_GRID:-128}"
  limited 150 "$bin/ductile" bench --backend cpu --scenes fluid,fixed_corotated --grid "${GPU_CPU_GRID:-128}" \
    --steps 20 --warmup 3 --threads "$threads" 2>&1
  stamp "cpu exit ${PIPESTATUS[0]}"
fi

[ "${GPU_GRADIENT:-1}" = 0 ] && { summary; stamp "done"; exit 0; }
stamp "== gradient (tape on the GPU): G = 64, 128"
limited 300 "$bin/ductile" bench --backend cuda --gradient --scenes fluid,fixed_corotated --grid 64,128 \
  --steps 20 --checkpoint all,sqrt --json "$out/gpu_gradient.json" 2>&1 | tee "$out/gpu_gradient.log"
stamp "gradient exit ${PIPESTATUS[0]}"
summary
stamp "done"
