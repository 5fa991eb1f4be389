// CPU half of the gradient engine: OpenMP loops; scatters ordered by tiles of 2 x 2 cells across x and y;
// grid work limited to the box of nodes the particles touch; the transfers and their adjoints run the
// per-particle arithmetic across batches of 16 particles (kernels/diff_batch.h) and move stencil rows as
// vectors (kernels/diff_rows.h), in loops compiled twice: generic and AVX2 (same bits).
//
// A particle whose stencil starts at cell b along x (or y) lies in tile s = b / 2 there and touches nodes
// [2s, 2s + 3], so tiles s and s + 2 never share a node along either axis: the tiles of one colour (the
// parities of the x and y tile indices) are scattered in parallel, largest first, the four colours one after
// the other, each tile's particles in index order. Every node adds its contributions in an order that does
// not depend on the number of threads.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/error.h"
#include "core/parallel_for.h"
#include "kernels/diff_backend.h"
#include "kernels/diff_batch.h"

namespace ductile {

namespace {

// AVX2 copies of the particle loops on x86-64 (GCC and Clang), used when the CPU has AVX2 and
// DUCTILE_CPU_ISA is not "generic". Without FMA (target "avx2" alone cannot contract a multiply and an add),
// every operation rounds as in the generic loops: both copies give the same bits.
#if defined(__x86_64__) && defined(__GNUC__)
#define DUCTILE_DIFF_AVX2 1
#else
#define DUCTILE_DIFF_AVX2 0
#endif

bool diff_use_avx2() {
#if DUCTILE_DIFF_AVX2
  if (env_choice("DUCTILE_CPU_ISA", {"", "generic"}) == "generic") return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

template <class T, int D>
class CpuDiffBackend final : public DiffBackend<T, D> {
 public:
  Device device() const override { return Device::kCpu; }
  // each particle's tile, its place in the order and its slot (iota_)
  double order_bytes(int n) const override { return 3.0 * sizeof(int) * n; }

  void order(const T* x, int n, const GridSpec<T, D>& spec) override {
    spec_ = spec;
    // tile of each particle and the box of nodes the stencils touch (in parallel over parts of the
    // particles), then a stable counting sort by tile: index order within a tile, whatever the parts
    tiles_[0] = (spec.res[0] + 1) / tile_cells(0) + 1;
    tiles_[1] = kTileY ? (spec.res[1] + 1) / tile_cells(1) + 1 : 1;
    const int tiles = tiles_[0] * tiles_[1];
    const int parts = n >= 4096 ? std::max(1, omp_get_max_threads()) : 1;
    tile_.resize(size_t(n));
    order_.resize(size_t(n));
    count_.assign(size_t(parts) * tiles, 0);
    std::vector<Box> boxes(static_cast<size_t>(parts));
    cpu_parallel_for(
        parts,
        [&](int64_t part) {
          const int p0 = int(int64_t(n) * part / parts), p1 = int(int64_t(n) * (part + 1) / parts);
          Box& box = boxes[size_t(part)];
          for (int d = 0; d < D; ++d) box.lo[d] = spec.res[d], box.hi[d] = -1;
          int* count = count_.data() + part * tiles;
          for (int p = p0; p < p1; ++p) {
            int t[2] = {0, 0};
            for (int d = 0; d < D; ++d) {
              const int b = floor_int((x[size_t(d) * n + p] - spec.origin[d]) * spec.inv_dx - T(0.5));
              box.lo[d] = std::min(box.lo[d], std::max(b, 0));
              box.hi[d] = std::max(box.hi[d], std::min(b + 2, spec.res[d] - 1));
              if (d < 2) t[d] = std::min(std::max(b / tile_cells(d), 0), tiles_[d] - 1);
            }
            const int key = t[0] * tiles_[1] + t[1];
            tile_[size_t(p)] = key;
            ++count[key];
          }
        },
        2);
    box_ = boxes[0];
    for (const Box& b : boxes)
      for (int d = 0; d < D; ++d)
        box_.lo[d] = std::min(box_.lo[d], b.lo[d]), box_.hi[d] = std::max(box_.hi[d], b.hi[d]);
    // each part's first position in each tile (tile by tile, parts in order), and the tiles' ranges
    begin_.assign(size_t(tiles) + 1, 0);
    int at = 0;
    for (int t = 0; t < tiles; ++t) {
      begin_[size_t(t)] = at;
      for (int part = 0; part < parts; ++part) {
        int& c = count_[size_t(part) * tiles + t];
        const int k = c;
        c = at, at += k;
      }
    }
    begin_[size_t(tiles)] = at;
    cpu_parallel_for(
        parts,
        [&](int64_t part) {
          const int p0 = int(int64_t(n) * part / parts), p1 = int(int64_t(n) * (part + 1) / parts);
          int* next = count_.data() + part * tiles;
          for (int p = p0; p < p1; ++p) order_[size_t(next[tile_[size_t(p)]]++)] = p;
        },
        2);
    // the non-empty tiles of each colour, largest first (a colour's tiles write disjoint nodes: any order
    // gives the same sums; largest first lets the threads finish a colour together)
    for (auto& list : colour_) list.clear();
    for (int t = 0; t < tiles; ++t)
      if (begin_[size_t(t) + 1] > begin_[size_t(t)])
        colour_[(t / tiles_[1] & 1) | (t % tiles_[1] & 1) << 1].push_back(t);
    for (auto& list : colour_)
      std::stable_sort(list.begin(), list.end(), [&](int a, int b) {
        return begin_[size_t(a) + 1] - begin_[size_t(a)] > begin_[size_t(b) + 1] - begin_[size_t(b)];
      });
  }

  void p2g(const P2G<T, D>& k) override {
    clear_box(k.g.mass, 1);
    clear_box(k.g.mv, D);
    scatter_ranges([&](int begin, int end) {
      if (avx2_)
        scatter_range_avx2(k, begin, end);
      else
        scatter_range(k, begin, end);
    });
  }

  void grid_update(const GridUpdate<T, D>& k) override {
    for_box_rows([&](int64_t row, int z0, int z1) {
      const int64_t len = spec_.res[D - 1];
      for (int z = z0; z <= z1; ++z) k(row * len + z);
    });
  }

  void g2p(const G2P<T, D>& k) override {
    const int n = k.in.n;
    slots(n);
    slot_chunks(n, [&](int begin, int end) {
      if (avx2_)
        gather_range_avx2(k, begin, end);
      else
        gather_range(k, begin, end);
    });
  }

  void trial_F(const TrialF<T, D>& k) override { cpu_parallel_for(k.n, k); }

  void g2p_adjoint(const G2PAdjoint<T, D>& k) override {
    clear_box(k.adj_grid_v, D);
    if (!k.fwd_v) return scatter([&](int i) { g2p_adjoint_particle(k, i); });
    scatter_ranges([&](int begin, int end) {
      if (avx2_)
        g2p_adjoint_range_avx2(k, begin, end);
      else
        g2p_adjoint_range(k, begin, end);
    });
  }

  void grid_update_adjoint(const GridUpdateAdjoint<T, D>& k, int P, T* params) override {
    GridUpdateAdjoint<T, D> kb = k;
    kb.z_lo = box_.lo[D - 1], kb.z_hi = box_.hi[D - 1];
    for_box_rows([&](int64_t row, int, int) { kb(row); });
    // fixed-order sum of the box rows' partial sums
    std::vector<T> sum(size_t(P), T(0));
    for_box_rows_serial([&](int64_t row) {
      for (int j = 0; j < P; ++j) sum[size_t(j)] += k.row_params[row * P + j];
    });
    for (int j = 0; j < P; ++j) params[j] += sum[size_t(j)];
  }

  void p2g_adjoint(const P2GAdjoint<T, D>& k) override {
    const int n = k.fwd.p.n;
    slots(n);
    slot_chunks(n, [&](int begin, int end) {
      if (avx2_)
        p2g_adjoint_range_avx2(k, begin, end);
      else
        p2g_adjoint_range(k, begin, end);
    });
  }

  void actuation(const Actuation<T, D>& k) override {
    cpu_parallel_for(k.n, [&](int64_t i) { k(int(i)); });
  }
  void actuation_adjoint(const ActuationAdjoint<T, D>& k) override {
    cpu_parallel_for(k.fwd.n, [&](int64_t i) { k(int(i)); });
  }

  void check_finite(const T* const* fields, const int* widths, int count, int n, uint32_t stage,
                    Status* status) override {
    // chunks of particles: a streaming scan of each component (|v| <= max is false for NaN and infinity),
    // and particle by particle only in a chunk where it found something, for the lowest such particle
    constexpr int64_t kScan = 4096;
    const T big = std::numeric_limits<T>::max();
    cpu_parallel_for((int64_t(n) + kScan - 1) / kScan,
                     [&](int64_t chunk) {
                       const int64_t p0 = chunk * kScan, p1 = std::min<int64_t>(n, p0 + kScan);
                       int bad = 0;
                       for (int f = 0; f < count; ++f)
                         for (int c = 0; c < widths[f]; ++c) {
                           const T* a = fields[f] + int64_t(c) * n;
                           for (int64_t p = p0; p < p1; ++p) bad |= !(std::fabs(a[p]) <= big);
                         }
                       if (!bad) return;
                       for (int64_t p = p0; p < p1; ++p)
                         for (int f = 0; f < count; ++f)
                           for (int c = 0; c < widths[f]; ++c)
                             if (!std::isfinite(fields[f][int64_t(c) * n + p])) {
                               raise_status(status, kStatusNonFinite, int32_t(p), stage);
                               return;
                             }
                     },
                     2);
  }

  Status fetch_status(Status* s) override {
    Status r = *s;
    *s = Status{};
    return r;
  }

 private:
  // Adjoint of G2P for particle i (kernels/g2p.h, G2PAdjoint::operator()) with the grid work by rows.
  static void g2p_adjoint_particle(const G2PAdjoint<T, D>& k, int i) {
    const int n = k.in.n;
    const GridSpec<T, D>& spec = k.g.spec;
    const Vec<T, D> x = load_vec<T, D>(k.in.x, n, i);
    const Stencil<T, D> st = bspline_stencil(spec, x);
    if (!stencil_inside(spec, st.base)) return;  // the forward pass raised kStatusOutOfDomain
    // the gathered v and C: kept by the forward pass, or gathered again
    Vec<T, D> v = Vec<T, D>::zero();
    Mat<T, D> C;
    if (k.fwd_v) {
      v = load_vec<T, D>(k.fwd_v, n, i);
      C = load_mat<T, D>(k.fwd_C, n, i);
    } else {
      Mat<T, D> S = Mat<T, D>::zero();
      rows::gather(st, spec, k.g.mv, v, S);
      C = g2p_affine(spec.inv_dx, v, S, st.fx);
    }
    const Mat<T, D> F = load_mat<T, D>(k.in.F, n, i);
    const Mat<T, D> aFn = load_mat<T, D>(k.adj_out.F, n, i);
    // advection and trial F
    Vec<T, D> ax = load_vec<T, D>(k.adj_out.x, n, i);
    Vec<T, D> av = load_vec<T, D>(k.adj_out.v, n, i) + k.dt * ax;
    const Mat<T, D> aC = load_mat<T, D>(k.adj_out.C, n, i) + k.dt * (aFn * transpose(F));
    const Mat<T, D> aF = aFn + k.dt * (transpose(C) * aFn);
    // C from v and S
    const T kk = T(4) * spec.inv_dx;
    const Mat<T, D> aS = kk * aC;
    T afx[D] = {};
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) {
        av[a] -= kk * aC(a, b) * (st.fx[b] - T(1));
        afx[b] -= kk * aC(a, b) * v[a];
      }
    // the node velocities' adjoints and the gather's weights
    rows::adj_gather(st, spec, k.g.mv, av, aS, k.adj_grid_v, afx);
    for (int d = 0; d < D; ++d) ax[d] += spec.inv_dx * afx[d];
    store_vec<T, D>(k.adj_x, n, i, load_vec<T, D>(k.adj_x, n, i) + ax);
    store_mat<T, D>(k.adj_F, n, i, load_mat<T, D>(k.adj_F, n, i) + aF);
  }

  // The particle loops, compiled for any x86-64 CPU and again for AVX2 (chosen once at run time); flatten
  // inlines the kernels into each copy. Batches of kBatch of particles [begin, end) of order_ (scatters) or
  // of the slots (gathers).
#define DUCTILE_DIFF_RANGES(ATTR, SUFFIX)                                                    \
  ATTR void scatter_range##SUFFIX(const P2G<T, D>& k, int begin, int end) const {            \
    for (int q = begin; q < end; q += kBatch)                                                \
      rows::scatter_batch(k, order_.data() + q, std::min(kBatch, end - q));                  \
  }                                                                                          \
  ATTR void gather_range##SUFFIX(const G2P<T, D>& k, int begin, int end) const {             \
    for (int q = begin; q < end; q += kBatch)                                                \
      rows::gather_batch(k, iota_.data() + q, std::min(kBatch, end - q));                    \
  }                                                                                          \
  ATTR void g2p_adjoint_range##SUFFIX(const G2PAdjoint<T, D>& k, int begin, int end) const { \
    for (int q = begin; q < end; q += kBatch)                                                \
      rows::g2p_adjoint_batch(k, order_.data() + q, std::min(kBatch, end - q));              \
  }                                                                                          \
  ATTR void p2g_adjoint_range##SUFFIX(const P2GAdjoint<T, D>& k, int begin, int end) const { \
    for (int q = begin; q < end; q += kBatch)                                                \
      rows::p2g_adjoint_batch(k, iota_.data() + q, std::min(kBatch, end - q));               \
  }
  DUCTILE_DIFF_RANGES(__attribute__((flatten)), )
#if DUCTILE_DIFF_AVX2
  DUCTILE_DIFF_RANGES(__attribute__((flatten, target("avx2"))), _avx2)
#else
  DUCTILE_DIFF_RANGES(, _avx2)
#endif
#undef DUCTILE_DIFF_RANGES

  // Runs fn(begin, end) over the slots 0 .. n - 1 in chunks of kChunk, in parallel (the gathers: each slot is
  // written by its own chunk only).
  template <class Fn>
  void slot_chunks(int n, const Fn& fn) const {
    cpu_parallel_for((n + kChunk - 1) / kChunk,
                     [&](int64_t c) {
                       const int begin = int(c) * kChunk;
                       fn(begin, std::min(n, begin + kChunk));
                     },
                     2);
  }

  // iota_ = 0 .. n - 1: the slots as a batch's particle list.
  void slots(int n) {
    if (int(iota_.size()) == n) return;
    iota_.resize(size_t(n));
    for (int i = 0; i < n; ++i) iota_[size_t(i)] = i;
  }

  // Runs fn(begin, end) for the particles order_[begin, end) of every tile, colour by colour.
  template <class Fn>
  void scatter_ranges(const Fn& fn) {
    for (const auto& list : colour_) {
      const int count = int(list.size());
#pragma omp parallel for schedule(dynamic, 1) if (begin_.back() >= 256 && count > 1)
      for (int j = 0; j < count; ++j) {
        const int t = list[size_t(j)];
        fn(begin_[size_t(t)], begin_[size_t(t) + 1]);
      }
    }
  }

  // Runs fn(i) for every particle, tile by tile as scatter_ranges, each tile in index order.
  template <class Fn>
  void scatter(const Fn& fn) {
    scatter_ranges([&](int begin, int end) {
      for (int q = begin; q < end; ++q) fn(order_[size_t(q)]);
    });
  }

  // Rows of the box along the last axis: fn(row index in the whole grid, first z, last z), in parallel over
  // x.
  template <class Fn>
  void for_box_rows(const Fn& fn) const {
    const int x0 = box_.lo[0], x1 = box_.hi[0];
    if (x1 < x0) return;
    const int y0 = D == 3 ? box_.lo[1] : 0, y1 = D == 3 ? box_.hi[1] : 0;
#pragma omp parallel for schedule(static) if (x1 - x0 >= 8)
    for (int x = x0; x <= x1; ++x)
      for (int y = y0; y <= y1; ++y)
        fn(D == 3 ? int64_t(x) * spec_.res[1] + y : int64_t(x), box_.lo[D - 1], box_.hi[D - 1]);
  }
  template <class Fn>
  void for_box_rows_serial(const Fn& fn) const {
    const int y0 = D == 3 ? box_.lo[1] : 0, y1 = D == 3 ? box_.hi[1] : 0;
    for (int x = box_.lo[0]; x <= box_.hi[0]; ++x)
      for (int y = y0; y <= y1; ++y) fn(D == 3 ? int64_t(x) * spec_.res[1] + y : int64_t(x));
  }
  // Zeroes the box in each of `width` node arrays of a (component c at c * nodes).
  void clear_box(T* a, int width) const {
    const int64_t nodes = spec_.num_nodes(), len = spec_.res[D - 1];
    for_box_rows([&](int64_t row, int z0, int z1) {
      for (int c = 0; c < width; ++c)
        std::fill(a + c * nodes + row * len + z0, a + c * nodes + row * len + z1 + 1, T(0));
    });
  }

  // Nodes [lo, hi] per axis that this step's stencils touch: every node read this step lies inside, and
  // every array is written there before it is read, so what older steps left outside is never seen.
  struct Box {
    int lo[D], hi[D];
  };
  Box box_{};
  GridSpec<T, D> spec_{};
  static constexpr int kBatch = rows::Batch<T, D>::kBatch, kChunk = 256;
  // whether to tile along y as well (false: slabs two cells thick along x, two colours). Tiles across x and
  // y balance better from 4 threads on, but a tile's particles lie scattered through the cell-ordered slots
  // (x slowest): in interleaved runs at 2 threads (fluid, G = 64, store-all) the tape's backward took
  // 0.72-0.81 s with 2 x 2 tiles and 0.47-0.64 s with slabs (0.45-0.67 s before the tiles)
  static constexpr bool kTileY = false;
  // cells per tile along x and y: 2 keeps the stencils of a colour's tiles apart (a tile's bases 2t, 2t + 1
  // touch nodes 2t .. 2t + 3); along the grid's last axis (y in 2D) 3, because a row is added as four lanes
  // (kernels/lanes.h add_row), rewriting the node after the stencil: bases 3t .. 3t + 2 touch 3t .. 3t + 5,
  // and the next tile of the colour starts at 3t + 6
  static constexpr int tile_cells(int d) {
    return d == D - 1 ? 3 : 2;
  }
  int tiles_[2] = {1, 1};  // tiles along x and y
  std::vector<int> tile_, begin_, order_, iota_, count_;
  std::vector<int> colour_[4];  // the non-empty tiles of each colour, largest first
  const bool avx2_ = diff_use_avx2();
};

}  // namespace

template <class T, int D>
std::unique_ptr<DiffBackend<T, D>> make_cpu_diff_backend() {
  return std::make_unique<CpuDiffBackend<T, D>>();
}

template std::unique_ptr<DiffBackend<float, 2>> make_cpu_diff_backend<float, 2>();
template std::unique_ptr<DiffBackend<float, 3>> make_cpu_diff_backend<float, 3>();
template std::unique_ptr<DiffBackend<double, 2>> make_cpu_diff_backend<double, 2>();
template std::unique_ptr<DiffBackend<double, 3>> make_cpu_diff_backend<double, 3>();

}  // namespace ductile
