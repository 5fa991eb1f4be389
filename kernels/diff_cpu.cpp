// CPU half of the gradient engine: OpenMP loops; scatters ordered by slabs of two cells along x; grid work
// limited to the box of nodes the particles touch; the transfers and their adjoints run the per-particle
// arithmetic across batches of 16 particles (kernels/diff_batch.h) and move stencil rows as vectors
// (kernels/diff_rows.h), in loops compiled twice: generic and AVX2 (same bits).
//
// A particle whose stencil starts in slab s (base_x / 2) touches nodes [2s, 2s + 3] along x, so slabs s and
// s + 2 never share a node: the even slabs, then the odd slabs, are scattered in parallel, each slab's
// particles in index order. Every node adds its contributions in an order that does not depend on the number
// of threads.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

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
  const char* isa = std::getenv("DUCTILE_CPU_ISA");
  if (isa && std::string(isa) == "generic") return false;
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

  void order(const T* x, int n, const GridSpec<T, D>& spec) override {
    spec_ = spec;
    // counting sort by slab (stable: index order within a slab), and the box of nodes the stencils touch
    const int slabs = (spec.res[0] + 1) / 2 + 1;
    slab_.resize(n);
    begin_.assign(slabs + 1, 0);
    for (int d = 0; d < D; ++d) box_.lo[d] = spec.res[d], box_.hi[d] = -1;
    for (int p = 0; p < n; ++p) {
      for (int d = 0; d < D; ++d) {
        const int b = floor_int((x[size_t(d) * n + p] - spec.origin[d]) * spec.inv_dx - T(0.5));
        box_.lo[d] = std::min(box_.lo[d], std::max(b, 0));
        box_.hi[d] = std::max(box_.hi[d], std::min(b + 2, spec.res[d] - 1));
      }
      int s = floor_int((x[p] - spec.origin[0]) * spec.inv_dx - T(0.5)) / 2;
      s = std::min(std::max(s, 0), slabs - 1);
      slab_[p] = s;
      ++begin_[s + 1];
    }
    for (int s = 0; s < slabs; ++s) begin_[s + 1] += begin_[s];
    order_.resize(n);
    std::vector<int> fill(begin_.begin(), begin_.end() - 1);
    for (int p = 0; p < n; ++p) order_[fill[slab_[p]]++] = p;
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

  // Runs fn(begin, end) for the particles order_[begin, end) of every slab, even slabs then odd slabs.
  template <class Fn>
  void scatter_ranges(const Fn& fn) {
    const int slabs = int(begin_.size()) - 1;
    for (int color = 0; color < 2; ++color) {
      const int count = (slabs - color + 1) / 2;
#pragma omp parallel for schedule(dynamic, 1) if (begin_.back() >= 256)
      for (int j = 0; j < count; ++j) {
        const int s = color + 2 * j;
        if (begin_[s + 1] > begin_[s]) fn(begin_[s], begin_[s + 1]);
      }
    }
  }

  // Runs fn(i) for every particle, even slabs then odd slabs, each slab in index order.
  template <class Fn>
  void scatter(const Fn& fn) {
    const int slabs = int(begin_.size()) - 1;
    for (int color = 0; color < 2; ++color) {
      const int count = (slabs - color + 1) / 2;
#pragma omp parallel for schedule(dynamic, 1) if (begin_.back() >= 256)
      for (int j = 0; j < count; ++j) {
        const int s = color + 2 * j;
        for (int q = begin_[s]; q < begin_[s + 1]; ++q) fn(order_[q]);
      }
    }
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
  std::vector<int> slab_, begin_, order_, iota_;
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
