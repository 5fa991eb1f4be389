// CUDA backend. Each P2G sorts the particles by grid block and cell (kernels/cuda_sort.cuh); one thread block
// per run of particles that share a grid block sums them into the block's tile of nodes (the block's cells
// and their stencil's reach) in shared memory, then adds the tile's non-zero nodes to the grid with global
// atomics (Gao et al. 2018, sec. 4.2; Hu et al. 2018, sec. 5). G2P writes the q-th sorted particle to slot q,
// so the particle arrays stay in block order and the loads of the next step are nearly sequential. (A G2P
// that first read each run's tile of velocities into shared memory measured slower on the H200, 483 against
// 374 us at 4.2 million particles: the gathers hit L1 and L2 anyway.) For comparison, DUCTILE_CUDA_SORT=0
// runs the plain version (unsorted particles, one global atomic per node and value) and DUCTILE_CUDA_P2G
// selects the other scatters (below).
#include <cstdlib>
#include <string>

#include "core/cuda_check.h"
#include "kernels/backend.h"
#include "kernels/cuda_sort.cuh"

namespace ductile {

namespace {

struct AtomicAdd {
  template <class T>
  __device__ void operator()(T* dst, T val) const {
    atomicAdd(dst, val);
  }
};

template <class T, int D>
struct P2GAtomic {
  P2G<T, D> k;
  __device__ void operator()(long long i) const { k(int(i), AtomicAdd{}); }
};

// Particle q of the sorted order, scattered node by node with global atomics.
template <class T, int D>
struct P2GSortedAtomic {
  P2G<T, D> k;
  const int32_t* order;
  __device__ void operator()(long long q) const { k(order[q], AtomicAdd{}); }
};

template <class T, int D>
struct G2PLaunch {
  G2P<T, D> k;
  const int32_t* order;  // null: slot i to slot i
  __device__ void operator()(long long q) const { order ? k(order[q], int(q)) : k(int(q)); }
};

// The grid update in place, with 32-bit division for the node's coordinates (the grid has under 2^32 nodes;
// the component offsets are 64-bit): an empty node
// (no mass, no momentum) already holds its velocity, zero, and is not written.
template <class T, int D>
struct GridUpdateInPlace {
  GridUpdate<T, D> k;
  __device__ void operator()(long long i) const {
    const uint32_t idx = uint32_t(i);
    const size_t nodes = size_t(k.g.spec.num_nodes());
    const T m = k.g.mass[idx];
    Vec<T, D> mv;
    bool empty = !(m > T(0));
    for (int d = 0; d < D; ++d) {
      mv[d] = k.g.mv[size_t(d) * nodes + idx];
      empty = empty && mv[d] == T(0);
    }
    if (empty) return;
    int c[D];
    uint32_t rest = idx;
    for (int d = D - 1; d >= 0; --d) {
      c[d] = int(rest % uint32_t(k.g.spec.res[d]));
      rest /= uint32_t(k.g.spec.res[d]);
    }
    const Vec<T, D> v = k.velocity(c, m, mv);
    for (int d = 0; d < D; ++d) k.g.mv[size_t(d) * nodes + idx] = v[d];
  }
};

constexpr int kTileThreads = 128;

// One run of particles (sharing grid block `key`) per iteration: scatter into the shared tile of nodes
// [lo, lo + kBlock + 2)^D, then flush the tile's non-zero nodes to the grid. Shared-memory float atomics are
// compare-and-swap loops on this hardware, so lanes that add to one node in the same instruction wait on each
// other: with `strided`, the 32 lanes of a warp take particles count / 32 apart in the run's cell order,
// which puts them in different cells, hence different nodes for every stencil offset. A particle whose
// stencil does not start inside the block (never, unless the key and the stencil round differently) scatters
// to the grid directly.
template <class T, int D>
__global__ void __launch_bounds__(kTileThreads)
    p2g_tiled(P2G<T, D> k, CudaBlocks<T, D> blocks, const int32_t* order, const uint32_t* run_keys,
              const int32_t* run_start, const int32_t* run_count, const int32_t* num_runs, bool strided) {
  constexpr int B = kCudaBlock<D>, S = B + 2, kTile = D == 3 ? S * S * S : S * S;
  __shared__ T tile[(D + 1) * kTile];  // mass, then the D momentum components
  const int runs = *num_runs;
  const GridSpec<T, D>& spec = k.g.spec;
  const int64_t nodes = spec.num_nodes();
  for (int r = blockIdx.x; r < runs; r += gridDim.x) {
    for (int t = threadIdx.x; t < (D + 1) * kTile; t += blockDim.x) tile[t] = T(0);
    __syncthreads();
    int lo[D];
    blocks.corner(run_keys[r], lo);
    const int start = run_start[r], count = run_count[r];
    // scatter the run's particles into the tile: particle p = j, or the transposition of a 32 x stride table
    const int stride = strided ? (count + 31) / 32 : 0;
    const int span = strided ? 32 * stride : count;
    for (int j = threadIdx.x; j < span; j += blockDim.x) {
      const int p = strided ? (j % 32) * stride + j / 32 : j;
      if (p >= count) continue;
      const int i = order[start + p];
      const P2GParticle<T, D> pp = k.particle(i);
      if (!stencil_inside(spec, pp.base)) {
        if (k.status) raise_status(k.status, kStatusOutOfDomain, i, kStageP2G);
        continue;
      }
      bool in_tile = true;
      for (int d = 0; d < D; ++d) in_tile = in_tile && pp.base[d] >= lo[d] && pp.base[d] < lo[d] + B;
      if (!in_tile) {
        scatter_particle(pp, spec, k.g.mass, k.g.mv, AtomicAdd{});
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

template <class T, int D>
__global__ void __launch_bounds__(kCellThreads)
    p2g_cells(P2G<T, D> k, CudaBlocks<T, D> blocks, const int32_t* order, const uint32_t* sorted_keys,
              const uint32_t* run_keys, const int32_t* run_start, const int32_t* run_count,
              const int32_t* num_runs) {
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
    blocks.corner(run_keys[r], lo);
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
      const P2GParticle<T, D> pp = k.particle(i);
      if (!stencil_inside(spec, pp.base)) {
        if (k.status) raise_status(k.status, kStatusOutOfDomain, i, kStageP2G);
        continue;
      }
      bool same = true;
      for (int d = 0; d < D; ++d) same = same && pp.base[d] == cell[d];
      if (!same) {
        scatter_particle(pp, spec, k.g.mass, k.g.mv, AtomicAdd{});
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

template <class T, int D>
class CudaBackend final : public Backend<T, D> {
 public:
  CudaBackend() {
    const char* s = std::getenv("DUCTILE_CUDA_SORT");
    sorted_ = !(s && std::string(s) == "0");
    const char* p = std::getenv("DUCTILE_CUDA_P2G");
    const std::string mode = p ? p : "";
    if (!(mode.empty() || mode == "cells" || mode == "tile" || mode == "tile-contiguous" || mode == "global"))
      fail("DUCTILE_CUDA_P2G", "unknown value '" + mode + "' (cells, tile, tile-contiguous or global)");
    tiled_ = mode != "global";
    strided_ = mode != "tile-contiguous";
    cells_ = kCellsFit<T, D> && tiled_ && (mode.empty() || mode == "cells");
    int dev = 0;
    DUCTILE_CUDA_CHECK(cudaGetDevice(&dev));
    DUCTILE_CUDA_CHECK(cudaDeviceGetAttribute(&sms_, cudaDevAttrMultiProcessorCount, dev));
  }

  Device device() const override { return Device::kCuda; }

  void p2g(const P2G<T, D>& k) override {
    const long long nodes = k.g.spec.num_nodes();
    DUCTILE_CUDA_CHECK(cudaMemsetAsync(k.g.mass, 0, sizeof(T) * nodes));
    DUCTILE_CUDA_CHECK(cudaMemsetAsync(k.g.mv, 0, sizeof(T) * nodes * D));
    if (!sorted_) return cuda_parallel_for(k.p.n, P2GAtomic<T, D>{k});
    sort_.sort(k.g.spec, k.p.x, k.p.n);
    if (k.p.n == 0) return;
    if (!tiled_) return cuda_parallel_for(k.p.n, P2GSortedAtomic<T, D>{k, sort_.order()});
    if (cells_) {
      const int grid = std::max(1, std::min(sort_.max_runs(), sms_ * 8));
      const size_t shared = sizeof(T) * (D + 1) * (D == 3 ? 27 : 9) * kCellThreads;
      p2g_cells<T, D><<<grid, kCellThreads, shared>>>(k, sort_.blocks(), sort_.order(), sort_.sorted_keys(),
                                                      sort_.run_keys(), sort_.run_start(), sort_.run_count(),
                                                      sort_.num_runs());
      DUCTILE_CUDA_CHECK(cudaGetLastError());
      return;
    }
    // enough thread blocks to fill the GPU several times over; each loops over runs
    const int grid = std::max(1, std::min(sort_.max_runs(), sms_ * 16));
    p2g_tiled<T, D><<<grid, kTileThreads>>>(k, sort_.blocks(), sort_.order(), sort_.run_keys(),
                                            sort_.run_start(), sort_.run_count(), sort_.num_runs(), strided_);
    DUCTILE_CUDA_CHECK(cudaGetLastError());
  }
  void grid_update(const GridUpdate<T, D>& k) override {
    const int64_t nodes = k.g.spec.num_nodes();
    if (nodes < (int64_t(1) << 32) && !k.v_out)
      cuda_parallel_for(nodes, GridUpdateInPlace<T, D>{k});
    else
      cuda_parallel_for(nodes, k);
  }
  void g2p(const G2P<T, D>& k) override {
    if (sorted_ && sort_.size() != k.in.n)
      fail("cuda backend", "g2p called before p2g ordered the particles");
    cuda_parallel_for(k.in.n, G2PLaunch<T, D>{k, sorted_ ? sort_.order() : nullptr});
  }

  Status fetch_status(Status* s) override { return cuda_fetch_status(s); }

 private:
  // DUCTILE_CUDA_P2G=cells (the default where its sums fit in registers), =tile (shared-memory atomics),
  // =tile-contiguous (the same with lanes on consecutive particles), =global (sorted, global atomics)
  bool sorted_ = true, tiled_ = true, strided_ = true, cells_ = true;
  int sms_ = 1;
  CudaCellSort<T, D> sort_;
};

}  // namespace

template <class T, int D>
std::unique_ptr<Backend<T, D>> make_cuda_backend() {
  if (!cuda_available()) fail("cuda backend", "no GPU visible: " + cuda_device_description());
  return std::make_unique<CudaBackend<T, D>>();
}

template std::unique_ptr<Backend<float, 2>> make_cuda_backend<float, 2>();
template std::unique_ptr<Backend<float, 3>> make_cuda_backend<float, 3>();
template std::unique_ptr<Backend<double, 2>> make_cuda_backend<double, 2>();
template std::unique_ptr<Backend<double, 3>> make_cuda_backend<double, 3>();

}  // namespace ductile
