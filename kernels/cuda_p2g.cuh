// The particle-to-grid kernels of the CUDA backend over particles sorted by block and cell
// (kernels/cuda_sort.cuh): a shared-memory tile per run of particles (p2g_tiled) or per-cell register sums
// (p2g_cells). Each takes the particle's Kirchhoff stress from a policy: the stress stage's buffer
// (StoredStress) or the material's own function evaluated in the kernel (ModelStress, the fused stage), and
// lists the grid blocks it writes outside its run's tile when the active-block grid is on
// (kernels/cuda_active_blocks.h).
#pragma once

#include "core/cuda_check.h"
#include "kernels/cuda_active_blocks.h"
#include "kernels/cuda_blocks.h"
#include "kernels/p2g.h"
#include "materials/analytic.h"

namespace ductile {

struct AtomicAdd {
  template <class T>
  __device__ void operator()(T* dst, T val) const {
    atomicAdd(dst, val);
  }
};

// The active-block set's atomics on the device.
struct DeviceAtomics {
  __device__ uint32_t cas(uint32_t* p, uint32_t expected, uint32_t desired) const {
    return atomicCAS(p, expected, desired);
  }
  __device__ uint32_t add(uint32_t* p, uint32_t v) const { return atomicAdd(p, v); }
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

// A particle whose stencil is not where its run's tile expects it: straight to the grid, listing the blocks
// it writes (when the active-block grid is on).
template <class T, int D>
__device__ void scatter_outside(const P2GParticle<T, D>& pp, const GridSpec<T, D>& spec,
                                const GridView<T, D>& g, const ActiveBlocks<T, D>& active) {
  if (active.flag) active.claim_stencil(pp.base, DeviceAtomics{});
  scatter_particle(pp, spec, g.mass, g.mv, AtomicAdd{});
}

constexpr int kTileThreads = 128;

// One run of particles (sharing grid block `key`) per iteration: scatter into the shared tile of nodes
// [lo, lo + kBlock + 2)^D, then flush the tile's non-zero nodes to the grid. Shared-memory float atomics are
// compare-and-swap loops on this hardware, so lanes that add to one node in the same instruction wait on each
// other: with `strided`, the 32 lanes of a warp take particles count / 32 apart in the run's cell order,
// which puts them in different cells, hence different nodes for every stencil offset. A particle whose
// stencil does not start inside the block (never, unless the key and the stencil round differently) scatters
// to the grid directly.
template <class T, int D, class Stress>
__global__ void __launch_bounds__(kTileThreads)
    p2g_tiled(P2G<T, D> k, Stress stress, ActiveBlocks<T, D> active, const int32_t* order,
              const uint32_t* run_keys, const int32_t* run_start, const int32_t* run_count,
              const int32_t* num_runs, bool strided) {
  constexpr int B = kCudaBlock<D>, S = B + 2, kTile = D == 3 ? S * S * S : S * S;
  __shared__ T tile[(D + 1) * kTile];  // mass, then the D momentum components
  const int runs = *num_runs;
  const GridSpec<T, D>& spec = k.g.spec;
  const int64_t nodes = spec.num_nodes();
  for (int r = blockIdx.x; r < runs; r += gridDim.x) {
    for (int t = threadIdx.x; t < (D + 1) * kTile; t += blockDim.x) tile[t] = T(0);
    __syncthreads();
    int lo[D];
    active.blocks.corner(run_keys[r], lo);
    const int start = run_start[r], count = run_count[r];
    // scatter the run's particles into the tile: particle p = j, or the transposition of a 32 x stride table
    const int stride = strided ? (count + 31) / 32 : 0;
    const int span = strided ? 32 * stride : count;
    for (int j = threadIdx.x; j < span; j += blockDim.x) {
      const int p = strided ? (j % 32) * stride + j / 32 : j;
      if (p >= count) continue;
      const int i = order[start + p];
      const P2GParticle<T, D> pp = k.particle(i, stress(k, i));
      if (!stencil_inside(spec, pp.base)) {
        if (k.status) raise_status(k.status, kStatusOutOfDomain, i, kStageP2G);
        continue;
      }
      bool in_tile = true;
      for (int d = 0; d < D; ++d) in_tile = in_tile && pp.base[d] >= lo[d] && pp.base[d] < lo[d] + B;
      if (!in_tile) {
        scatter_outside(pp, spec, k.g, active);
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
      const int64_t idx = spec.index(c);
      atomicAdd(k.g.mass + idx, tile[t]);
      for (int a = 0; a < D; ++a) atomicAdd(k.g.mv + a * nodes + idx, tile[(a + 1) * kTile + t]);
    }
    __syncthreads();
  }
}

// Per-cell P2G: one thread per cell of the block (kCudaBlock^D = 64 threads) sums the particles of its cell
// over the 3^D stencil offsets in registers (the run is sorted by cell), writes the sums to shared memory
// without atomics, then each node of the tile adds up the (cell, offset) entries that land on it, in a fixed
// order, and the tile's non-zero nodes go to the grid with global atomics. Shared memory holds
// (D + 1) 3^D 64 values; the registers 3^D (D + 1) sums, which this backend uses only where they fit (float
// in 3D; float and double in 2D). A particle whose stencil does not start in its key's cell (never, unless
// the key and the stencil round differently) scatters to the grid directly.
constexpr int kCellThreads = 64;

template <class T, int D>
constexpr bool kCellsFit = (D + 1) * (D == 3 ? 27 : 9) * sizeof(T) <= 4 * 4 * 27;

template <class T, int D, class Stress>
__global__ void __launch_bounds__(kCellThreads)
    p2g_cells(P2G<T, D> k, Stress stress, ActiveBlocks<T, D> active, const int32_t* order,
              const uint32_t* sorted_keys, const uint32_t* run_keys, const int32_t* run_start,
              const int32_t* run_count, const int32_t* num_runs) {
  constexpr int B = kCudaBlock<D>, S = B + 2, kOff = D == 3 ? 27 : 9, kTile = D == 3 ? S * S * S : S * S;
  constexpr int kCells = kCellThreads;  // B^D
  static_assert((D == 3 ? B * B * B : B * B) == kCells, "one thread per cell");
  extern __shared__ unsigned char shared_bytes[];
  T* part = reinterpret_cast<T*>(shared_bytes);  // value v of offset o from cell c: [(v kOff + o) kCells + c]
  __shared__ int cell_start[kCells + 1];
  const int runs = *num_runs;
  const GridSpec<T, D>& spec = k.g.spec;
  const int64_t nodes = spec.num_nodes();
  for (int r = blockIdx.x; r < runs; r += gridDim.x) {
    int lo[D];
    active.blocks.corner(run_keys[r], lo);
    const int start = run_start[r], count = run_count[r];
    // where each cell's particles start in the run (cells ascend: the sort key's low bits)
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
      const int c = int(sorted_keys[start + j] & (kCells - 1));
      const int prev = j == 0 ? -1 : int(sorted_keys[start + j - 1] & (kCells - 1));
      for (int e = prev + 1; e <= c; ++e) cell_start[e] = j;
      if (j == count - 1)
        for (int e = c + 1; e <= kCells; ++e) cell_start[e] = count;
    }
    __syncthreads();
    // thread c: its cell's particles, summed per stencil offset in registers
    const int c = threadIdx.x;
    int cell[D];
    for (int d = D - 1, rest = c; d >= 0; --d, rest /= B) cell[d] = lo[d] + rest % B;
    T acc[D + 1][kOff];
#pragma unroll
    for (int v = 0; v < D + 1; ++v)
#pragma unroll
      for (int o = 0; o < kOff; ++o) acc[v][o] = T(0);
    for (int j = cell_start[c]; j < cell_start[c + 1]; ++j) {
      const int i = order[start + j];
      const P2GParticle<T, D> pp = k.particle(i, stress(k, i));
      if (!stencil_inside(spec, pp.base)) {
        if (k.status) raise_status(k.status, kStatusOutOfDomain, i, kStageP2G);
        continue;
      }
      bool same = true;
      for (int d = 0; d < D; ++d) same = same && pp.base[d] == cell[d];
      if (!same) {
        scatter_outside(pp, spec, k.g, active);
        continue;
      }
      // node base + o receives w m and w (q + A (o - 1)) (kernels/p2g.h)
#pragma unroll
      for (int o = 0; o < kOff; ++o) {
        T w = T(1);
        Vec<T, D> qo = pp.q;
#pragma unroll
        for (int d = 0, rest = o, div = kOff / 3; d < D; ++d, rest %= div, div /= 3) {
          const int od = rest / div;
          w = w * pp.w[d][od];
          for (int a = 0; a < D; ++a) qo[a] = qo[a] + pp.A(a, d) * T(od - 1);
        }
        acc[0][o] += w * pp.m;
#pragma unroll
        for (int a = 0; a < D; ++a) acc[a + 1][o] += w * qo[a];
      }
    }
#pragma unroll
    for (int v = 0; v < D + 1; ++v)
#pragma unroll
      for (int o = 0; o < kOff; ++o) part[(v * kOff + o) * kCells + c] = acc[v][o];
    __syncthreads();
    // each tile node: the entries of the cells within a stencil's reach, then the grid
    for (int t = threadIdx.x; t < kTile; t += blockDim.x) {
      int nt[D];
      for (int d = D - 1, rest = t; d >= 0; --d, rest /= S) nt[d] = rest % S;
      T sum[D + 1] = {};
#pragma unroll
      for (int o = 0; o < kOff; ++o) {
        int ci = 0;
        bool valid = true;
#pragma unroll
        for (int d = 0, rest = o, div = kOff / 3; d < D; ++d, rest %= div, div /= 3) {
          const int cd = nt[d] - rest / div;
          valid = valid && cd >= 0 && cd < B;
          ci = ci * B + cd;
        }
        if (valid)
#pragma unroll
          for (int v = 0; v < D + 1; ++v) sum[v] += part[(v * kOff + o) * kCells + ci];
      }
      int node[D];
      bool inside = true, any = false;
      for (int d = 0; d < D; ++d) node[d] = lo[d] + nt[d], inside = inside && node[d] < spec.res[d];
      for (int v = 0; v < D + 1; ++v) any = any || sum[v] != T(0);
      if (!inside || !any) continue;
      const int64_t idx = spec.index(node);
      atomicAdd(k.g.mass + idx, sum[0]);
      for (int a = 0; a < D; ++a) atomicAdd(k.g.mv + a * nodes + idx, sum[a + 1]);
    }
    __syncthreads();
  }
}

}  // namespace ductile
