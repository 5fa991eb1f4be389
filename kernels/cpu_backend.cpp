// CPU backend: OpenMP loops, vectorized along the grid's last axis.
//
// Particle order. Each p2g sorts the particles by the cell of their stencil base (kernels/cpu_sort.h: x
// slowest, ties by slot); g2p then writes particle order()[q] to slot q of the output state, so the particle
// arrays themselves stay in cell order, loads are sequential, and the next sort only has to repair the few
// particles that changed cell.
//
// Race-free, deterministic P2G. Slabs are kSlab = 2 cells thick along x. A particle of slab s touches nodes
// [2s, 2s + 3] along x, so slabs s and s + 2 never share a node: the even slabs, then the odd slabs, are
// scattered in parallel, each slab sequentially in cell order. Every node therefore adds its contributions in
// an order that does not depend on the number of threads, and results are bit-identical for any thread count.
//
// Rows. A stencil is 3^(D-1) rows of 3 nodes contiguous along the last axis. Each row is one 4-lane vector
// operation (lane 3 carries weight 0 and is masked), with plain lane-by-lane loads when the row ends at the
// grid's last node, so both paths give the same bits.
//
// Grid box. Only the box of nodes the particles touch is cleared, updated and scattered. The box last written
// is remembered per grid buffer (a buffer seen for the first time is cleared whole), so every node outside it
// is zero: the grid buffers passed to p2g must not be written by anyone else between steps.
//
// Sparse grid. A GridView without storage (the CPU simulator's) selects the backend's own block grid
// (kernels/cpu_sparse_grid.h): the particles are sorted by block instead of by x slice, each block's run is
// scattered into and gathered from a scratch with the same row kernels (kernels/cpu_rows.h), and only the
// blocks the particles touch exist.
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/error.h"
#include "core/parallel_for.h"
#include "kernels/backend.h"
#include "kernels/cpu_rows.h"
#include "kernels/cpu_sort.h"
#include "kernels/cpu_sparse_grid.h"

namespace ductile {

namespace {

constexpr int kSlab = 2;  // cells per slab along x; >= 2 keeps same-colored slabs' stencils apart

// AVX2 + FMA copies of the particle loops on x86-64 (GCC and Clang), used when the CPU has both and
// DUCTILE_CPU_ISA is not "generic". Their results differ from the generic loops' in rounding (fused
// multiply-adds) but not across thread counts.
#if defined(__x86_64__) && defined(__GNUC__)
#define DUCTILE_CPU_AVX2 1
#else
#define DUCTILE_CPU_AVX2 0
#endif

bool use_avx2() {
#if DUCTILE_CPU_AVX2
  if (env_choice("DUCTILE_CPU_ISA", {"", "generic"}) == "generic") return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

using cpu::Box;

template <class T, int D>
class CpuBackend final : public Backend<T, D> {
  using R = cpu::Rows<T, D>;
  static constexpr int kBatch = R::kBatch;

 public:
  Device device() const override { return Device::kCpu; }

  // DUCTILE_CPU_FUSE=0 never, =1 for any material that offers lanes, otherwise for the fluid and
  // fixed-corotated, whose batched stresses are branch-free (fixed-corotated's R: core/polar.h; fused, its
  // step takes 23% fewer instructions than before, and it runs faster than unfused: docs/BENCHMARKS.md,
  // "Branch-free polar decomposition"). While its stress took a Jacobi SVD, fixed-corotated measured slower
  // fused; the models that still take an SVD per particle (snow's projection, von Mises, Drucker-Prager) stay
  // unfused, not re-measured.
  unsigned fuses(const std::string& model) const override {
    const std::string mode = env_choice("DUCTILE_CPU_FUSE", {"", "0", "1"});
    if (mode == "0") return kFuseNone;
    return mode == "1" || model == "fluid" || model == "fixed_corotated" ? kFuseBoth : kFuseNone;
  }

  // The sparse block grid unless DUCTILE_CPU_GRID=dense (the dense grid over the whole domain, for
  // comparison).
  bool sparse_grid(const GridSpec<T, D>& /*spec*/) override {
    return env_choice("DUCTILE_CPU_GRID", {"", "dense"}) != "dense";
  }

  void p2g(const P2G<T, D>& k) override {
    if (k.force) fail("cpu backend", "external forces go through the gradient engine's transfers");
    if (!k.tau && !k.lanes) fail("cpu backend", "p2g needs the particles' stress or the material's lanes");
    if (!k.g.mass) return p2g_sparse(k);
    sort_.sort(k.p, k.g.spec, nullptr, kSlab);
    clear_grid(k.g);
    const cpu::Target<D> t = dense_target(k.g.spec);
    // scatter the even slabs, then the odd slabs, largest first
    const std::vector<int>& slab_begin = sort_.slab_begin();
    for (int color = 0; color < 2; ++color) {
      slab_list_.clear();
      for (int s = color; s + 1 < int(slab_begin.size()); s += 2)
        if (slab_begin[s + 1] > slab_begin[s]) slab_list_.push_back(s);
      std::stable_sort(slab_list_.begin(), slab_list_.end(), [&](int a, int b) {
        return slab_begin[a + 1] - slab_begin[a] > slab_begin[b + 1] - slab_begin[b];
      });
      const int count = int(slab_list_.size());
#pragma omp parallel for schedule(dynamic, 1)
      for (int j = 0; j < count; ++j) {
        const int s = slab_list_[j];
        scatter(k, slab_begin[s], slab_begin[s + 1], t, k.g.mass, k.g.mv);
      }
    }
  }

  void grid_update(const GridUpdate<T, D>& k) override {
    if (!k.g.mass) return grid_.update(k);
    const Box<D> b = box_of(k.g);
    const int64_t sx = row_stride(k.g.spec, 0);
    // node rows of the box, in parallel over x
#pragma omp parallel for schedule(static)
    for (int x = b.lo[0]; x <= b.hi[0]; ++x) {
      if constexpr (D == 2) {
        for (int y = b.lo[1]; y <= b.hi[1]; ++y) k(x * sx + y);
      } else {
        const int64_t sy = k.g.spec.res[2];
        for (int y = b.lo[1]; y <= b.hi[1]; ++y)
          for (int z = b.lo[2]; z <= b.hi[2]; ++z) k(x * sx + y * sy + z);
      }
    }
  }

  void g2p(const G2P<T, D>& k) override {
    const int n = k.in.n;
    if (int(sort_.order().size()) != n) fail("cpu backend", "g2p called before p2g ordered the particles");
    if (!k.g.mv) return g2p_sparse(k);
    const cpu::Target<D> t = dense_target(k.g.spec);
    stream_ = streams(n);
    // contiguous chunks of 256 sorted slots
    const int chunks = (n + 255) / 256;
    cpu_parallel_for(
        chunks,
        [&](int64_t c) {
          const int begin = int(c) * 256, end = std::min(n, begin + 256);
          gather(k, begin, end, t, k.g.mv);
          cpu::stream_fence();
        },
        2);
  }

  Status fetch_status(Status* s) override {
    Status r = *s;
    *s = Status{};
    return r;
  }

  int64_t grid_bytes() const override {
    int64_t b = grid_.bytes();
    for (const auto& s : scratch_) b += int64_t(s.capacity() * sizeof(T));
    return b;
  }
  int64_t grid_blocks() const override {
    return grid_.active_blocks();
  }

 private:
  using Grid = cpu::SparseGrid<T, D>;

  // Sparse grid: sort by block, allocate the touched blocks, scatter each colour's blocks in parallel.
  void p2g_sparse(const P2G<T, D>& k) {
    grid_.reset(k.g.spec);
    sort_.sort(k.p, k.g.spec, grid_.blocks_per_axis(), kSlab);
    const std::vector<cpu::BlockRun>& runs = sort_.runs();
    grid_.activate(runs);
    for (auto& c : colour_) c.clear();
    for (size_t r = 0; r < runs.size(); ++r) {
      int c[D], colour = 0;
      grid_.coords(runs[r].block, c);
      for (int d = 0; d < D; ++d) colour |= (c[d] & 1) << d;
      colour_[colour].push_back(int(r));
    }
    // largest runs first, so that the threads finish each colour together (any order gives the same sums:
    // a colour's blocks write disjoint nodes)
    for (auto& list : colour_) by_size(list);
    prepare_scratch(Grid::kChannels * Grid::kScratch);
    for (const auto& list : colour_) {
      const int count = int(list.size());
#pragma omp parallel for schedule(dynamic, 1)
      for (int j = 0; j < count; ++j) {
        const cpu::BlockRun& run = runs[list[j]];
        int corner[D];
        block_corner(run.block, corner);
        T* s = scratch_[omp_get_thread_num()].data();
        std::memset(s, 0, sizeof(T) * Grid::kChannels * Grid::kScratch);
        const cpu::Target<D> t = Grid::scratch_target(corner, sort_.keys().data());
        scatter(k, run.begin, run.end, t, s, s + Grid::kScratch);
        grid_.flush(corner, s);
      }
    }
  }

  // Sparse grid: each block's velocities into a scratch, then its particles gathered from it.
  void g2p_sparse(const G2P<T, D>& k) {
    prepare_scratch(Grid::kChannels * Grid::kScratch);
    stream_ = streams(k.in.n);
    const std::vector<cpu::BlockRun>& runs = sort_.runs();
    const int count = int(runs.size());
#pragma omp parallel for schedule(dynamic, 1)
    for (int j = 0; j < count; ++j) {
      const cpu::BlockRun& run = runs[j];
      int corner[D];
      block_corner(run.block, corner);
      T* s = scratch_[omp_get_thread_num()].data();
      grid_.fill(corner, s);
      gather(k, run.begin, run.end, Grid::scratch_target(corner, sort_.keys().data()), s);
      cpu::stream_fence();
    }
  }

  // Whether g2p streams its outputs: when they are larger than the caches hold (DUCTILE_CPU_STREAM=0 or 1
  // overrides). The next p2g reads them from memory anyway, and streaming skips reading every output line
  // before writing it.
  static bool streams(int n) {
    const std::string mode = env_choice("DUCTILE_CPU_STREAM", {"", "0", "1"});
    if (mode == "0") return false;
    if (mode == "1") return true;
    return int64_t(n) * (2 * D + 2 * D * D + 5) * int64_t(sizeof(T)) > (int64_t(32) << 20);
  }

  // Orders run indices by decreasing particle count (ties by index).
  void by_size(std::vector<int>& list) const {
    std::stable_sort(list.begin(), list.end(), [&](int a, int b) {
      const std::vector<cpu::BlockRun>& r = sort_.runs();
      return r[a].end - r[a].begin > r[b].end - r[b].begin;
    });
  }

  void block_corner(int64_t block, int* corner) const {
    grid_.coords(block, corner);
    for (int d = 0; d < D; ++d) corner[d] *= Grid::kBlock;
  }

  // One zeroed scratch per thread (the padding lanes are never written, so they stay zero).
  void prepare_scratch(size_t size) {
    scratch_.resize(omp_get_max_threads());
    for (auto& s : scratch_)
      if (s.size() != size) s.assign(size, T(0));
  }

  // Distance between consecutive nodes along axis d (the last axis is contiguous).
  static int64_t row_stride(const GridSpec<T, D>& spec, int d) {
    int64_t s = 1;
    for (int e = d + 1; e < D; ++e) s *= spec.res[e];
    return s;
  }

  static cpu::Target<D> dense_target(const GridSpec<T, D>& spec) {
    cpu::Target<D> t;
    for (int d = 0; d < D; ++d) t.stride[d] = row_stride(spec, d);
    t.channel = spec.num_nodes();
    t.full_limit = spec.res[D - 1];
    return t;
  }

  void scatter(const P2G<T, D>& k, int begin, int end, const cpu::Target<D>& t, T* gm, T* gmv) const {
    if (avx2_)
      scatter_range_avx2(k, begin, end, t, gm, gmv);
    else
      scatter_range(k, begin, end, t, gm, gmv);
  }
  void gather(const G2P<T, D>& k, int begin, int end, const cpu::Target<D>& t, const T* gv) const {
    if (avx2_)
      gather_range_avx2(k, begin, end, t, gv);
    else
      gather_range(k, begin, end, t, gv);
  }

  // The particle loops, compiled for any x86-64 CPU and again for AVX2 + FMA (chosen once at run time);
  // flatten inlines the kernels into each copy. Batches of sorted slots [q, q + kBatch) of [begin, end).
#define DUCTILE_CPU_RANGES(ATTR, SUFFIX)                                                                  \
  ATTR void scatter_range##SUFFIX(const P2G<T, D>& k, int begin, int end, const cpu::Target<D>& t, T* gm, \
                                  T* gmv) const {                                                         \
    cpu::Target<D> tb = t;                                                                                \
    for (int q = begin; q < end; q += kBatch) {                                                           \
      if (t.keys) tb.keys = t.keys + q;                                                                   \
      R::scatter_batch(k, sort_.order().data() + q, std::min(kBatch, end - q), tb, gm, gmv);              \
    }                                                                                                     \
  }                                                                                                       \
  ATTR void gather_range##SUFFIX(const G2P<T, D>& k, int begin, int end, const cpu::Target<D>& t,         \
                                 const T* gv) const {                                                     \
    cpu::Target<D> tb = t;                                                                                \
    /* streaming: batches end at slots whose x starts a cache line, so that whole batches stream */       \
    const int lead =                                                                                      \
        stream_ ? int((reinterpret_cast<uintptr_t>(k.out.x) / sizeof(T) + unsigned(begin)) % kBatch) : 0; \
    for (int q = begin, w = lead ? kBatch - lead : kBatch; q < end; q += w, w = kBatch) {                 \
      w = std::min(w, end - q);                                                                           \
      if (t.keys) tb.keys = t.keys + q;                                                                   \
      R::gather_batch(k, sort_.order().data() + q, q, w, tb, gv, stream_);                                \
    }                                                                                                     \
  }
  DUCTILE_CPU_RANGES(__attribute__((flatten)), )
#if DUCTILE_CPU_AVX2
  DUCTILE_CPU_RANGES(__attribute__((flatten, target("avx2,fma"))), _avx2)
#else
  DUCTILE_CPU_RANGES(, _avx2)
#endif
#undef DUCTILE_CPU_RANGES

  // Clears the nodes the last p2g into this grid wrote (or the whole grid the first time), then remembers the
  // new box as the one to clear next time.
  void clear_grid(const GridView<T, D>& g) {
    const int64_t nodes = g.spec.num_nodes();
    auto it = std::find_if(dirty_.begin(), dirty_.end(), [&](const auto& e) { return e.first == g.mass; });
    if (it == dirty_.end() || it->second.spec_nodes != nodes) {
      // whole grid, in parallel chunks
      T* arrays[D + 1];
      arrays[0] = g.mass;
      for (int c = 0; c < D; ++c) arrays[c + 1] = g.mv + c * nodes;
      const int64_t chunk = 1 << 16, chunks = (nodes + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
      for (int64_t j = 0; j < chunks * (D + 1); ++j) {
        const int64_t a = j / chunks, start = (j % chunks) * chunk;
        std::memset(arrays[a] + start, 0, sizeof(T) * std::min(chunk, nodes - start));
      }
      if (it == dirty_.end()) it = dirty_.insert(dirty_.end(), {g.mass, Dirty{}});
    } else {
      clear_box(g, it->second.box);
    }
    it->second.box = sort_.box();
    it->second.spec_nodes = nodes;
  }

  void clear_box(const GridView<T, D>& g, const Box<D>& b) {
    const int64_t nodes = g.spec.num_nodes();
    const int64_t sx = row_stride(g.spec, 0);
    // 3D: one z run per (x, y); 2D: one y run per x (y = 0 below)
    const int64_t sy = D == 3 ? g.spec.res[D - 1] : 1;
    const int64_t count = b.hi[D - 1] - b.lo[D - 1] + 1;
    const int ylo = D == 3 ? b.lo[1] : 0, yhi = D == 3 ? b.hi[1] : 0;
    if (count <= 0) return;
#pragma omp parallel for schedule(static)
    for (int x = b.lo[0]; x <= b.hi[0]; ++x) {
      for (int y = ylo; y <= yhi; ++y) {
        const int64_t at = x * sx + y * sy + b.lo[D - 1];
        std::memset(g.mass + at, 0, sizeof(T) * count);
        for (int c = 0; c < D; ++c) std::memset(g.mv + c * nodes + at, 0, sizeof(T) * count);
      }
    }
  }

  // The box last written into grid g (the whole grid when unknown).
  Box<D> box_of(const GridView<T, D>& g) const {
    for (const auto& e : dirty_)
      if (e.first == g.mass && e.second.spec_nodes == g.spec.num_nodes()) return e.second.box;
    Box<D> b;
    for (int d = 0; d < D; ++d) b.lo[d] = 0, b.hi[d] = g.spec.res[d] - 1;
    return b;
  }

  struct Dirty {
    Box<D> box;
    int64_t spec_nodes = 0;
  };

  cpu::CellSort<T, D> sort_;  // the particle order (kernels/cpu_sort.h)
  std::vector<int> slab_list_;
  Grid grid_;                            // the sparse grid (GridViews without storage)
  std::vector<int> colour_[1 << D];      // the runs by block parity
  std::vector<std::vector<T>> scratch_;  // one block scratch per thread
  std::vector<std::pair<const T*, Dirty>> dirty_;
  const bool avx2_ = use_avx2();
  bool stream_ = false;  // g2p writes whole batches with non-temporal stores (see streams())
};

}  // namespace

template <class T, int D>
std::unique_ptr<Backend<T, D>> make_cpu_backend() {
  return std::make_unique<CpuBackend<T, D>>();
}

template std::unique_ptr<Backend<float, 2>> make_cpu_backend<float, 2>();
template std::unique_ptr<Backend<float, 3>> make_cpu_backend<float, 3>();
template std::unique_ptr<Backend<double, 2>> make_cpu_backend<double, 2>();
template std::unique_ptr<Backend<double, 3>> make_cpu_backend<double, 3>();

}  // namespace ductile
