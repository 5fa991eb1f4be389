// The particle-to-grid kernels of the CUDA backend over particles sorted by block and cell
// (kernels/cuda_sort.cuh): a shared-memory tile per run of particles (p2g_tiled) or per-cell register sums
// (p2g_cells, kernels/cuda_cell_sums.h). Each takes the particle's Kirchhoff stress from a policy: the stress
// stage's buffer (StoredStress) or the material's own function evaluated in the kernel (ModelStress, the
// fused stage), writes the grid where kernels/cuda_grid.h says (dense or the sparse grid's pool), and lists
// the grid blocks it writes outside its run's tile when blocks are listed (kernels/cuda_active_blocks.h).
// launch_p2g_cells and launch_p2g_tiled size their launches; the simulator's backend and the gradient tape's
// both call them.
#pragma once

#include <algorithm>
#include <atomic>

#include "core/cuda_check.h"
#include "kernels/cuda_active_blocks.h"
#include "kernels/cuda_blocks.h"
#include "kernels/cuda_cell_sums.h"
#include "kernels/cuda_grid.h"
#include "kernels/cuda_sort.cuh"
#include "kernels/p2g.h"
#include "materials/analytic.h"

namespace ductile {

struct AtomicAdd {
  template <class T>
  __device__ void operator()(T* dst, T val) const {
    atomicAdd(dst, val);
  }
};

// The active-block set's atomics on the device (load: a fresh read each time, for the wait on a block that
// another thread is listing).
struct DeviceAtomics {
  __device__ uint32_t cas(uint32_t* p, uint32_t expected, uint32_t desired) const {
    return atomicCAS(p, expected, desired);
  }
  __device__ uint32_t add(uint32_t* p, uint32_t v) const { return atomicAdd(p, v); }
  __device__ void exch(uint32_t* p, uint32_t v) const { atomicExch(p, v); }
  __device__ uint32_t load(const uint32_t* p) const { return *static_cast<const volatile uint32_t*>(p); }
};

// The stress stage's result, read from P2G::tau.
template <class T, int D>
struct StoredStress {
  __device__ Mat<T, D> operator()(const P2G<T, D>& k, int i) const { return load_mat<T, D>(k.tau, k.p.n, i); }
};

// The material's stress computed in the kernel from F, C and the plastic state, checked as the stress stage
// checks it (materials/analytic.h, StressKernel).
template <class Model, class T, int D>
struct ModelStress {
  ParamPack<T> prm;
  __device__ Mat<T, D> operator()(const P2G<T, D>& k, int i) const {
    const int n = k.p.n;
    const Mat<T, D> s = Model::template stress<T, D>(prm.v, load_mat<T, D>(k.p.F, n, i),
                                                     load_mat<T, D>(k.p.C, n, i), k.p.plastic[i]);
    if (!all_finite(s)) raise_status(k.status, kStatusNonFinite, i, kStageStress);
    return s;
  }
};

// The material's return mapping on the trial F inside G2P, checked as the projection stage checks it
// (ProjectKernel); o is the particle's slot in the output, which the projection stage's status names.
template <class Model, class T, int D>
struct ModelProjection {
  ParamPack<T> prm;
  T dt;
  Status* status;
  __device__ void operator()(int o, Mat<T, D>& F, T& plastic) const {
    Model::template project<T, D>(prm.v, dt, F, plastic);
    if (!all_finite(F) || !isfinite(plastic))
      raise_status(status, kStatusNonFinite, o, kStageProject);
    else if (!(det(F) > T(0)))
      raise_status(status, kStatusInverted, o, kStageProject);
  }
};

// A particle whose stencil is not where its run's tile expects it (it moved out of its cell since the
// particles were sorted): straight to the grid, listing the blocks it writes (where blocks are listed),
// counted in *strays (where given).
template <class T, int D>
__device__ DUCTILE_INLINE void scatter_outside(const P2GParticle<T, D>& pp, const CudaGrid<T, D>& grid,
                                               uint32_t* strays) {
  if (strays) atomicAdd(strays, 1u);
  if (grid.set.flag) grid.set.claim_stencil(pp.base, DeviceAtomics{});
  grid.scatter(pp, AtomicAdd{}, DeviceAtomics{});
}

// No stray kept by the caller (cell_particle's default).
struct KeepNoStray {
  template <class T, int D>
  __device__ bool operator()(int, const P2GParticle<T, D>&) const {
    return false;
  }
};

// Particle j of the run that starts at sorted slot `start` (particle order[start + j], or start + j), with
// its stress, and whether it goes to the sums of `cell`: one whose stencil leaves the grid does not, and is
// reported; one whose stencil starts elsewhere goes to the grid directly unless keep(j, pp) takes it (and
// counts it in *strays). Only the primary reader of a particle reports, keeps or scatters it.
template <class T, int D, class Stress, class Keep = KeepNoStray>
__device__ DUCTILE_INLINE bool cell_particle(const P2G<T, D>& k, const Stress& stress,
                                             const CudaGrid<T, D>& grid, const int32_t* order, int start,
                                             int j, const int* cell, bool primary, uint32_t* strays,
                                             P2GParticle<T, D>& pp, Keep&& keep = Keep{}) {
  const int i = order ? order[start + j] : start + j;
  pp = k.particle(i, stress(k, i));
  if (!stencil_inside(k.g.spec, pp.base)) {
    if (primary && k.status) raise_status(k.status, kStatusOutOfDomain, i, kStageP2G);
    return false;
  }
  bool same = true;
  for (int d = 0; d < D; ++d) same = same && pp.base[d] == cell[d];
  if (!same && primary && !keep(j, pp)) scatter_outside(pp, grid, strays);
  return same;
}

constexpr int kTileThreads = 128;

// One run of particles (sharing grid block `key`) per iteration: scatter into the shared tile of nodes
// [lo, lo + kBlock + 2)^D, then flush the tile's non-zero nodes to the grid. Shared-memory float atomics are
// compare-and-swap loops on this hardware, so lanes that add to one node in the same instruction wait on each
// other: with `strided`, the 32 lanes of a warp take particles count / 32 apart in the run's cell order,
// which puts them in different cells, hence different nodes for every stencil offset. A particle whose
// stencil does not start inside the block (it moved since the last sort, DUCTILE_CUDA_SORT=adaptive, or its
// key and stencil round differently) scatters to the grid directly.
template <class T, int D, class Stress>
__global__ void __launch_bounds__(kTileThreads)
    p2g_tiled(P2G<T, D> k, Stress stress, CudaGrid<T, D> grid, const int32_t* order, const uint32_t* run_keys,
              const int32_t* run_start, const int32_t* run_count, const int32_t* num_runs, bool strided,
              uint32_t* strays) {
  constexpr int B = kCudaBlock<D>, S = B + 2, kTile = D == 3 ? S * S * S : S * S;
  __shared__ T tile[(D + 1) * kTile];  // mass, then the D momentum components
  const int runs = *num_runs;
  const GridSpec<T, D>& spec = k.g.spec;
  for (int r = blockIdx.x; r < runs; r += gridDim.x) {
    for (int t = threadIdx.x; t < (D + 1) * kTile; t += blockDim.x) tile[t] = T(0);
    __syncthreads();
    int lo[D];
    grid.set.blocks.corner(run_keys[r], lo);
    const int start = run_start[r], count = run_count[r];
    // scatter the run's particles into the tile: particle p = j, or the transposition of a 32 x stride table
    const int stride = strided ? (count + 31) / 32 : 0;
    const int span = strided ? 32 * stride : count;
    for (int j = threadIdx.x; j < span; j += blockDim.x) {
      const int p = strided ? (j % 32) * stride + j / 32 : j;
      if (p >= count) continue;
      const int i = order ? order[start + p] : start + p;
      const P2GParticle<T, D> pp = k.particle(i, stress(k, i));
      if (!stencil_inside(spec, pp.base)) {
        if (k.status) raise_status(k.status, kStatusOutOfDomain, i, kStageP2G);
        continue;
      }
      bool in_tile = true;
      for (int d = 0; d < D; ++d) in_tile = in_tile && pp.base[d] >= lo[d] && pp.base[d] < lo[d] + B;
      if (!in_tile) {
        scatter_outside(pp, grid, strays);
        continue;
      }
      for_each_scatter_node(pp, [&](const int* c, T w, const Vec<T, D>& qo) {
        int t = 0;
        for (int d = 0; d < D; ++d) t = t * S + (c[d] - lo[d]);
        atomicAdd(&tile[t], w * pp.m);
        for (int a = 0; a < D; ++a) atomicAdd(&tile[(a + 1) * kTile + t], w * qo[a]);
      });
    }
    __syncthreads();
    // flush the nodes that received something
    for (int t = threadIdx.x; t < kTile; t += blockDim.x) {
      int c[D], rest = t;
      bool inside = true;
      for (int d = D - 1; d >= 0; --d) {
        c[d] = lo[d] + rest % S;
        rest /= S;
        inside = inside && c[d] < spec.res[d];
      }
      bool any = tile[t] != T(0);
      for (int a = 0; a < D; ++a) any = any || tile[(a + 1) * kTile + t] != T(0);
      if (!inside || !any) continue;
      const int64_t idx = grid.index(c);  // the run listed the tile's blocks before
      if (idx < 0) continue;
      atomicAdd(grid.mass + idx, tile[t]);
      for (int a = 0; a < D; ++a) atomicAdd(grid.mv + a * grid.stride + idx, tile[(a + 1) * kTile + t]);
    }
    __syncthreads();
  }
}

// Per-cell P2G (kernels/cuda_cell_sums.h): one thread per cell of the block (kCellThreads = kCudaBlock^D =
// 64) sums the particles of its cell over the 3^D stencil offsets in registers, or, with kSlabs, three
// threads per cell a third of the offsets each (kSlabThreads = 192; fewer registers per thread, more threads
// per SM), then each node of the tile adds up the entries that land on it, in a fixed order, and the tile's
// non-zero nodes go to the grid with global atomics. Shared memory holds (D + 1) 3^D 64 values; the
// one-thread-per-cell version is used where its (D + 1) 3^D sums fit in registers (float in 3D; float and
// double in 2D). A particle whose stencil does not start in its key's cell (it moved since the last sort,
// DUCTILE_CUDA_SORT=adaptive, or its key and stencil round differently) scatters to the grid directly.
constexpr int kCellThreads = 64, kSlabThreads = 3 * kCellThreads;

template <class T, int D>
constexpr bool kCellsFit = (D + 1) * (D == 3 ? 27 : 9) * sizeof(T) <= 4 * 4 * 27;

template <class T, int D, class Stress, bool kSlabs>
__global__ void __launch_bounds__(kSlabs ? kSlabThreads : kCellThreads, kSlabs ? 2 : 1)
    p2g_cells(P2G<T, D> k, Stress stress, CudaGrid<T, D> grid, const int32_t* order,
              const uint32_t* sorted_keys, const uint32_t* run_keys, const int32_t* run_start,
              const int32_t* run_count, const int32_t* num_runs, uint32_t* strays) {
  using Sums = CellSums<T, D>;
  extern __shared__ unsigned char shared_bytes[];
  T* part = reinterpret_cast<T*>(shared_bytes);  // Sums::kPart values
  __shared__ int cell_start[Sums::kCells + 1];
  const int runs = *num_runs;
  for (int r = blockIdx.x; r < runs; r += gridDim.x) {
    int lo[D];
    grid.set.blocks.corner(run_keys[r], lo);
    const int start = run_start[r], count = run_count[r];
    Sums::cell_starts(threadIdx.x, blockDim.x, sorted_keys + start, count, cell_start);
    __syncthreads();
    // the cell's particles; one outside its cell goes to the grid directly
    const int c = threadIdx.x % Sums::kCells;
    int cell[D];
    Sums::cell_of(c, lo, cell);
    auto load = [&](int j, P2GParticle<T, D>& pp, bool primary) {
      return cell_particle(k, stress, grid, order, start, j, cell, primary, strays, pp);
    };
    if constexpr (kSlabs)
      Sums::sum_slab(c, threadIdx.x / Sums::kCells, cell_start, load, part);
    else
      Sums::sum_cell(c, cell_start, load, part);
    __syncthreads();
    Sums::flush_tile(threadIdx.x, blockDim.x, lo, part, grid, AtomicAdd{});
    __syncthreads();
  }
}

// Staged per-cell P2G (DUCTILE_CUDA_P2G=staged, kernels/cuda_cell_sums.h): the sums of p2g_cells, but the
// particles are first loaded, given their stress and reduced to their scatter records in shared memory, a
// thread per particle (every lane busy, a chunk's loads in flight together), `rows` particles of each cell
// at a time; then three threads per cell sum the records as p2g_cells with kSlabs sums particles (a third of
// the registers, without reading each particle three times; the last 64 threads wait). Shared memory holds
// the sums, (D + 1) 3^D 64 values, and 64 rows records of 3 D + 1 + D + D^2 values (71 KiB for float in 3D
// with 8 rows).
constexpr int kStagedThreads = 256;

template <class T, int D, class Stress>
__global__ void __launch_bounds__(kStagedThreads, 3)
    p2g_staged(P2G<T, D> k, Stress stress, CudaGrid<T, D> grid, const int32_t* order,
               const uint32_t* sorted_keys, const uint32_t* run_keys, const int32_t* run_start,
               const int32_t* run_count, const int32_t* num_runs, uint32_t* strays, int rows) {
  using Sums = CellSums<T, D>;
  static_assert(kStagedThreads >= 3 * Sums::kCells, "three threads per cell");
  extern __shared__ unsigned char shared_bytes[];
  T* part = reinterpret_cast<T*>(shared_bytes);  // Sums::kPart values, then the records
  T* rec = part + Sums::kPart;
  __shared__ int cell_start[Sums::kCells + 1];
  __shared__ int stray_list[Sums::kStrayList];
  __shared__ int stray_count;
  const int runs = *num_runs;
  const int c = threadIdx.x % Sums::kCells, a = threadIdx.x / Sums::kCells;
  for (int r = blockIdx.x; r < runs; r += gridDim.x) {
    int lo[D];
    grid.set.blocks.corner(run_keys[r], lo);
    const int start = run_start[r], count = run_count[r];
    const uint32_t* keys = sorted_keys + start;
    if (threadIdx.x == 0) stray_count = 0;
    Sums::cell_starts(threadIdx.x, blockDim.x, keys, count, cell_start);
    __syncthreads();
    // particle j belongs to the cell its sort key names; one whose stencil starts in another cell of the
    // block waits in the list for sum_strays while the list has room, any other goes to the grid directly
    auto keep = [&](int j, const P2GParticle<T, D>& pp) {
      if (!Sums::in_block(pp.base, lo)) return false;
      const int s = atomicAdd(&stray_count, 1);
      if (s >= Sums::kStrayList) return false;
      stray_list[s] = j;
      if (strays) atomicAdd(strays, 1u);
      return true;
    };
    auto load = [&](int j, int c_j, P2GParticle<T, D>& pp) {
      int cell[D];
      Sums::cell_of(c_j, lo, cell);
      return cell_particle(k, stress, grid, order, start, j, cell, true, strays, pp, keep);
    };
    // `rows` particles of every cell at a time, until no cell has more
    for (int row0 = 0;; row0 += rows) {
      Sums::stage(threadIdx.x, blockDim.x, row0, rows, keys, count, cell_start, load, rec);
      __syncthreads();
      if (a < 3) Sums::sum_staged(c, a, cell_start, row0, rows, rec, part);
      if (!__syncthreads_or(a == 0 && Sums::more_rows(c, cell_start, row0, rows))) break;
    }
    // the listed strays into their cells' sums (stray_count is read after the barrier above)
    if (stray_count > 0) {
      auto reload = [&](int j, P2GParticle<T, D>& pp) {
        const int i = order ? order[start + j] : start + j;
        pp = k.particle(i, stress(k, i));
      };
      const int listed = stray_count < Sums::kStrayList ? stray_count : Sums::kStrayList;
      Sums::sum_strays(threadIdx.x, blockDim.x, listed, stray_list, reload, lo, part, AtomicAdd{});
      __syncthreads();
    }
    Sums::flush_tile(threadIdx.x, blockDim.x, lo, part, grid, AtomicAdd{});
    __syncthreads();
  }
}

// Launches the per-cell P2G `mode` over the runs of `sort` (order[q] the q-th particle, null: slot q; `rows`
// staged particles per cell and chunk): enough thread blocks to fill the `sms` SMs several times over, each
// looping over runs.
template <class T, int D, class Stress>
void launch_p2g_cells(const P2G<T, D>& k, const Stress& stress, const CudaGrid<T, D>& grid,
                      const CudaCellSort<T, D>& sort, const int32_t* order, uint32_t* strays, int sms,
                      CellsMode mode, int rows = CellSums<T, D>::kRows) {
  using Sums = CellSums<T, D>;
  const int blocks = std::max(1, std::min(sort.max_runs(), sms * 8));
  if (mode == CellsMode::kStaged) {
    // above the 48 KiB a launch gets without asking
    const int shared = int(sizeof(T)) * Sums::staged_values(rows);
    static std::atomic<int> allowed{48 * 1024};
    if (shared > allowed.load()) {
      DUCTILE_CUDA_CHECK(cudaFuncSetAttribute(p2g_staged<T, D, Stress>,
                                              cudaFuncAttributeMaxDynamicSharedMemorySize, shared));
      allowed = shared;
    }
    p2g_staged<T, D, Stress><<<blocks, kStagedThreads, size_t(shared)>>>(
        k, stress, grid, order, sort.sorted_keys(), sort.run_keys(), sort.run_start(), sort.run_count(),
        sort.num_runs(), strays, rows);
  } else if (mode == CellsMode::kSlabs) {
    p2g_cells<T, D, Stress, true><<<blocks, kSlabThreads, sizeof(T) * Sums::kPart>>>(
        k, stress, grid, order, sort.sorted_keys(), sort.run_keys(), sort.run_start(), sort.run_count(),
        sort.num_runs(), strays);
  } else {
    p2g_cells<T, D, Stress, false><<<blocks, kCellThreads, sizeof(T) * Sums::kPart>>>(
        k, stress, grid, order, sort.sorted_keys(), sort.run_keys(), sort.run_start(), sort.run_count(),
        sort.num_runs(), strays);
  }
  DUCTILE_CUDA_CHECK(cudaGetLastError());
}

// Launches p2g_tiled (the stress from P2G::tau) over the runs of `sort`, likewise.
template <class T, int D>
void launch_p2g_tiled(const P2G<T, D>& k, const CudaGrid<T, D>& grid, const CudaCellSort<T, D>& sort,
                      const int32_t* order, uint32_t* strays, int sms, bool strided) {
  const int blocks = std::max(1, std::min(sort.max_runs(), sms * 16));
  p2g_tiled<T, D><<<blocks, kTileThreads>>>(k, StoredStress<T, D>{}, grid, order, sort.run_keys(),
                                            sort.run_start(), sort.run_count(), sort.num_runs(), strided,
                                            strays);
  DUCTILE_CUDA_CHECK(cudaGetLastError());
}

}  // namespace ductile
