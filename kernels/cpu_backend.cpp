// CPU backend: OpenMP loops, vectorized along the grid's last axis.
//
// Particle order. Each p2g sorts the particles by the cell of their stencil base (x slowest, ties by slot);
// g2p then writes particle order_[q] to slot q of the output state, so the particle arrays themselves stay in
// cell order, loads are sequential, and the next sort only has to repair the few particles that changed cell.
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
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"
#include "kernels/backend.h"

namespace ductile {

namespace {

constexpr int kSlab = 2;  // cells per slab along x; >= 2 keeps same-colored slabs' stencils apart

// Four lanes of T (GCC/Clang vector extensions: SSE on x86-64, generic code elsewhere).
template <class T>
struct Lanes;
template <>
struct Lanes<float> {
  typedef float V __attribute__((vector_size(16)));
  typedef int32_t M __attribute__((vector_size(16)));
};
template <>
struct Lanes<double> {
  typedef double V __attribute__((vector_size(32)));
  typedef int64_t M __attribute__((vector_size(32)));
};

// A row of 4 nodes starting at p: all four lanes (full) or only the first three (a row at the grid's end).
// (Vectors pass by reference only: 32-byte vectors by value would change the ABI without AVX.)
template <class V, class T>
inline void load_row(V& r, const T* p, bool full) {
  if (full)
    std::memcpy(&r, p, sizeof(V));
  else
    r = V{p[0], p[1], p[2], T(0)};
}
template <class V, class T>
inline void add_row(T* p, const V& x, bool full) {
  if (full) {
    V r;
    std::memcpy(&r, p, sizeof(V));
    r += x;
    std::memcpy(p, &r, sizeof(V));
  } else {
    for (int c = 0; c < 3; ++c) p[c] += x[c];
  }
}
template <class V>
inline auto hsum(const V& v) {
  return (v[0] + v[1]) + (v[2] + v[3]);
}

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
  const char* isa = std::getenv("DUCTILE_CPU_ISA");
  if (isa && std::string(isa) == "generic") return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

// Nodes [lo, hi] per axis (inclusive).
template <int D>
struct Box {
  int lo[D], hi[D];
};

template <class T, int D>
class CpuBackend final : public Backend<T, D> {
  using V = typename Lanes<T>::V;
  using M = typename Lanes<T>::M;

 public:
  Device device() const override { return Device::kCpu; }

  void p2g(const P2G<T, D>& k) override {
    if (k.force) fail("cpu backend", "external forces go through the gradient engine's transfers");
    sort_by_cell(k.p, k.g.spec);
    clear_grid(k.g);
    // scatter the even slabs, then the odd slabs, largest first
    for (int color = 0; color < 2; ++color) {
      slab_list_.clear();
      for (int s = color; s + 1 < int(slab_begin_.size()); s += 2)
        if (slab_begin_[s + 1] > slab_begin_[s]) slab_list_.push_back(s);
      std::stable_sort(slab_list_.begin(), slab_list_.end(), [&](int a, int b) {
        return slab_begin_[a + 1] - slab_begin_[a] > slab_begin_[b + 1] - slab_begin_[b];
      });
      const int count = int(slab_list_.size());
#pragma omp parallel for schedule(dynamic, 1)
      for (int j = 0; j < count; ++j) {
        const int s = slab_list_[j];
        if (avx2_)
          scatter_range_avx2(k, slab_begin_[s], slab_begin_[s + 1]);
        else
          scatter_range(k, slab_begin_[s], slab_begin_[s + 1]);
      }
    }
  }

  void grid_update(const GridUpdate<T, D>& k) override {
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
    if (int(order_.size()) != n) fail("cpu backend", "g2p called before p2g ordered the particles");
    // contiguous chunks of 256 sorted slots
    const int chunks = (n + 255) / 256;
    cpu_parallel_for(
        chunks,
        [&](int64_t c) {
          const int begin = int(c) * 256, end = std::min(n, begin + 256);
          if (avx2_)
            gather_range_avx2(k, begin, end);
          else
            gather_range(k, begin, end);
        },
        2);
  }

  Status fetch_status(Status* s) override {
    Status r = *s;
    *s = Status{};
    return r;
  }

 private:
  // Distance between consecutive nodes along axis d (the last axis is contiguous).
  static int64_t row_stride(const GridSpec<T, D>& spec, int d) {
    int64_t s = 1;
    for (int e = d + 1; e < D; ++e) s *= spec.res[e];
    return s;
  }

  // The particle loops, compiled for any x86-64 CPU and again for AVX2 + FMA (chosen once at run time);
  // flatten inlines the kernels into each copy.
  __attribute__((flatten)) void scatter_range(const P2G<T, D>& k, int begin, int end) const {
    for (int q = begin; q < end; q += kBatch) scatter_batch(k, order_.data() + q, std::min(kBatch, end - q));
  }
  __attribute__((flatten)) void gather_range(const G2P<T, D>& k, int begin, int end) const {
    for (int q = begin; q < end; q += kBatch) gather_batch(k, q, std::min(kBatch, end - q));
  }
#if DUCTILE_CPU_AVX2
  __attribute__((flatten, target("avx2,fma"))) void scatter_range_avx2(const P2G<T, D>& k, int begin,
                                                                       int end) const {
    for (int q = begin; q < end; q += kBatch) scatter_batch(k, order_.data() + q, std::min(kBatch, end - q));
  }
  __attribute__((flatten, target("avx2,fma"))) void gather_range_avx2(const G2P<T, D>& k, int begin,
                                                                      int end) const {
    for (int q = begin; q < end; q += kBatch) gather_batch(k, q, std::min(kBatch, end - q));
  }
#else
  void scatter_range_avx2(const P2G<T, D>& k, int begin, int end) const {
    scatter_range(k, begin, end);
  }
  void gather_range_avx2(const G2P<T, D>& k, int begin, int end) const {
    gather_range(k, begin, end);
  }
#endif

  // A batch of up to kBatch particles: per-particle arithmetic runs across the batch (the compiler vectorizes
  // the loops over its lanes), the grid transfer particle by particle in rows. Lanes past the batch's end
  // repeat its last particle and are not written back.
  static constexpr int kBatch = 16;
  using Lane = T[kBatch];

  // True when the batch's particles sit in consecutive slots (the usual case: storage is in cell order).
  static bool consecutive(const int32_t* idx, int w) {
    if (w != kBatch) return false;
    bool r = true;
    for (int j = 0; j < kBatch; ++j) r = r && idx[j] == idx[0] + j;
    return r;
  }
  // The kBatch values of component array a for the batch: in place when consecutive, else copied into buf.
  template <class U>
  static const U* lanes(const U* a, const int32_t* idx, int w, bool direct, U* buf) {
    if (direct) return a + idx[0];
    for (int j = 0; j < kBatch; ++j) buf[j] = a[idx[std::min(j, w - 1)]];
    return buf;
  }

  // Offsets of the 3^(D-1) stencil rows from the stencil's first node, row (a, b) at a * 3 + b.
  static void row_offsets(const GridSpec<T, D>& spec, int64_t* rows) {
    const int64_t sx = row_stride(spec, 0), sy = row_stride(spec, D - 2);
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < (D == 3 ? 3 : 1); ++b)
        rows[a * (D == 3 ? 3 : 1) + b] = a * sx + (D == 3 ? b * sy : 0);
  }

  // Scatters particles idx[0..w) (eq. 29 in the q + A (o - 1) form of kernels/p2g.h).
  void scatter_batch(const P2G<T, D>& k, const int32_t* idx, int w) const {
    const GridSpec<T, D>& spec = k.g.spec;
    const int n = k.p.n;
    const bool direct = consecutive(idx, w);
    // inputs
    Lane bx[D], bv[D], bC[D * D], btau[D * D], bm, bvol;
    const T *x[D], *v[D], *C[D * D], *tau[D * D];
    for (int c = 0; c < D; ++c) {
      x[c] = lanes(k.p.x + c * n, idx, w, direct, bx[c]);
      v[c] = lanes(k.p.v + c * n, idx, w, direct, bv[c]);
    }
    for (int c = 0; c < D * D; ++c) {
      C[c] = lanes(k.p.C + c * n, idx, w, direct, bC[c]);
      tau[c] = lanes(k.tau + c * n, idx, w, direct, btau[c]);
    }
    const T* m = lanes(k.p.mass, idx, w, direct, bm);
    const T* vol = lanes(k.p.vol0, idx, w, direct, bvol);
    // stencil, mass and affine momentum of every lane
    int base[D][kBatch];
    Lane wgt[D][3], mass, q[D], A[D * D];
    for (int j = 0; j < kBatch; ++j) {
      Vec<T, D> xj, vj;
      Mat<T, D> Cj, tj;
      for (int c = 0; c < D; ++c) xj[c] = x[c][j], vj[c] = v[c][j];
      for (int c = 0; c < D * D; ++c) Cj.m[c / D][c % D] = C[c][j], tj.m[c / D][c % D] = tau[c][j];
      const P2GParticle<T, D> pp = p2g_particle(spec, k.dt, xj, vj, Cj, tj, m[j], vol[j]);
      for (int c = 0; c < D; ++c) {
        base[c][j] = pp.base[c];
        for (int a = 0; a < 3; ++a) wgt[c][a][j] = pp.w[c][a];
        q[c][j] = pp.q[c];
      }
      for (int c = 0; c < D * D; ++c) A[c][j] = pp.A.m[c / D][c % D];
      mass[j] = pp.m;
    }
    // rows, particle by particle in order
    int64_t rows[9];
    row_offsets(spec, rows);
    for (int j = 0; j < w; ++j) {
      int b[D];
      for (int c = 0; c < D; ++c) b[c] = base[c][j];
      if (!stencil_inside(spec, b)) {
        if (k.status) raise_status(k.status, kStatusOutOfDomain, idx[j], kStageP2G);
        continue;
      }
      scatter_rows(k, rows, b, wgt, mass, q, A, j);
    }
  }

  // Adds lane j's particle to the 3^(D-1) rows of its stencil.
  void scatter_rows(const P2G<T, D>& k, const int64_t* rows, const int* b, const Lane (*wgt)[3],
                    const Lane& mass, const Lane* q, const Lane* A, int j) const {
    const GridSpec<T, D>& spec = k.g.spec;
    const int64_t nodes = spec.num_nodes();
    const int64_t origin = spec.index(b);
    const bool full = b[D - 1] + 3 < spec.res[D - 1];
    // along a row (lane c is offset c - 1 of the last axis): weights, mass, momentum; steps along x and y
    const V wl = {wgt[D - 1][0][j], wgt[D - 1][1][j], wgt[D - 1][2][j], T(0)};
    const V wm = wl * mass[j];
    const V cl = {T(-1), T(0), T(1), T(0)};
    V mom[D], step_x[D], step_y[D];
    for (int c = 0; c < D; ++c) {
      mom[c] = q[c][j] + A[c * D + D - 1][j] * cl;
      step_x[c] = V{} + A[c * D][j];
      step_y[c] = V{} + A[c * D + D - 2][j];
    }
    // local pointers at the stencil's first node (the vector stores may alias anything, so members would be
    // reloaded after each)
    T* const gm = k.g.mass + origin;
    T* mv[D];
    for (int c = 0; c < D; ++c) mv[c] = k.g.mv + c * nodes + origin;
    auto row = [&](int64_t at, T wr, const V* mo) {
      add_row(gm + at, wr * wm, full);
      const V wv = wr * wl;
      for (int c = 0; c < D; ++c) add_row(mv[c] + at, wv * mo[c], full);
    };
#pragma GCC unroll 3
    for (int a = 0; a < 3; ++a) {
      V ma[D];
      for (int c = 0; c < D; ++c) ma[c] = a == 0 ? mom[c] - step_x[c] : a == 1 ? mom[c] : mom[c] + step_x[c];
      if constexpr (D == 2) {
        row(rows[a], wgt[0][a][j], ma);
      } else {
#pragma GCC unroll 3
        for (int bb = 0; bb < 3; ++bb) {
          V mb[D];
          for (int c = 0; c < D; ++c)
            mb[c] = bb == 0 ? ma[c] - step_y[c] : bb == 1 ? ma[c] : ma[c] + step_y[c];
          row(rows[a * 3 + bb], wgt[0][a][j] * wgt[1][bb][j], mb);
        }
      }
    }
  }

  // Gathers, advects and writes the particles of slots [q0, q0 + w) of the sorted order into those slots.
  void gather_batch(const G2P<T, D>& k, int q0, int w) const {
    const GridSpec<T, D>& spec = k.g.spec;
    const int n = k.in.n;
    const int32_t* idx = order_.data() + q0;
    const bool direct = consecutive(idx, w);
    // inputs
    Lane bx[D], bF[D * D];
    const T *x[D], *F[D * D];
    for (int c = 0; c < D; ++c) x[c] = lanes(k.in.x + c * n, idx, w, direct, bx[c]);
    for (int c = 0; c < D * D; ++c) F[c] = lanes(k.in.F + c * n, idx, w, direct, bF[c]);
    // stencils of every lane
    int base[D][kBatch];
    Lane wgt[D][3], fx[D];
    for (int j = 0; j < kBatch; ++j) {
      Vec<T, D> xj;
      for (int c = 0; c < D; ++c) xj[c] = x[c][j];
      const Stencil<T, D> st = bspline_stencil(spec, xj);
      for (int c = 0; c < D; ++c) {
        base[c][j] = st.base[c];
        fx[c][j] = st.fx[c];
        for (int a = 0; a < 3; ++a) wgt[c][a][j] = st.w[c][a];
      }
    }
    // velocity and first moment, particle by particle
    Lane vel[D], S[D * D];
    int64_t rows[9];
    row_offsets(spec, rows);
    for (int j = 0; j < kBatch; ++j) {
      int b[D];
      for (int c = 0; c < D; ++c) b[c] = base[c][j];
      if (j < w && stencil_inside(spec, b)) {
        gather_rows(k, rows, b, wgt, vel, S, j);
      } else {
        if (j < w) raise_status(k.status, kStatusOutOfDomain, idx[j], kStageG2P);
        for (int c = 0; c < D; ++c) vel[c][j] = 0;
        for (int c = 0; c < D * D; ++c) S[c][j] = 0;
      }
    }
    // C, advection and trial F of every lane
    Lane xn[D], Cn[D * D], Fn[D * D];
    uint32_t fault[kBatch];
    for (int j = 0; j < kBatch; ++j) {
      Vec<T, D> xj, vj, xo;
      Mat<T, D> Sj, Fj, Fo;
      T f[D];
      for (int c = 0; c < D; ++c) xj[c] = x[c][j], vj[c] = vel[c][j], f[c] = fx[c][j];
      for (int c = 0; c < D * D; ++c) Sj.m[c / D][c % D] = S[c][j], Fj.m[c / D][c % D] = F[c][j];
      const Mat<T, D> Cj = g2p_affine(spec.inv_dx, vj, Sj, f);
      g2p_advect(k.dt, xj, vj, Cj, Fj, xo, Fo);
      fault[j] = g2p_fault(vj, xo, k.lo, k.hi);
      for (int c = 0; c < D; ++c) xn[c][j] = xo[c];
      for (int c = 0; c < D * D; ++c) Cn[c][j] = Cj.m[c / D][c % D], Fn[c][j] = Fo.m[c / D][c % D];
    }
    // write slots q0.., carry the constants, report faults
    auto put = [w](T* dst, const Lane& src) {
      if (w == kBatch)
        std::memcpy(dst, src, sizeof(Lane));  // a fixed size copies inline
      else
        std::memcpy(dst, src, sizeof(T) * w);
    };
    for (int c = 0; c < D; ++c) put(k.out.x + c * n + q0, xn[c]), put(k.out.v + c * n + q0, vel[c]);
    for (int c = 0; c < D * D; ++c) put(k.out.C + c * n + q0, Cn[c]), put(k.out.F + c * n + q0, Fn[c]);
    if (direct) {
      // consecutive particles: block copies of the plastic state and the constants
      const int i0 = idx[0];
      std::memcpy(k.out.plastic + q0, k.in.plastic + i0, sizeof(Lane));
      if (k.out_mass) std::memcpy(k.out_mass + q0, k.in.mass + i0, sizeof(Lane));
      if (k.out_vol0) std::memcpy(k.out_vol0 + q0, k.in.vol0 + i0, sizeof(Lane));
      if (k.out_material) std::memcpy(k.out_material + q0, k.in.material + i0, sizeof(int32_t) * kBatch);
      if (k.out_id) std::memcpy(k.out_id + q0, k.in_id + i0, sizeof(int32_t) * kBatch);
    } else {
      for (int j = 0; j < w; ++j) {
        k.out.plastic[q0 + j] = k.in.plastic[idx[j]];
        k.carry(idx[j], q0 + j);
      }
    }
    for (int j = 0; j < w; ++j)
      if (fault[j]) raise_status(k.status, fault[j], idx[j], kStageG2P);
  }

  // Lane j's velocity and first moment S = sum w v_i (o - 1)^T from the 3^(D-1) rows of its stencil.
  void gather_rows(const G2P<T, D>& k, const int64_t* rows, const int* b, const Lane (*wgt)[3], Lane* vel,
                   Lane* Sout, int j) const {
    const GridSpec<T, D>& spec = k.g.spec;
    const int64_t nodes = spec.num_nodes();
    const int64_t origin = spec.index(b);
    const bool full = b[D - 1] + 3 < spec.res[D - 1];
    const V wl = {wgt[D - 1][0][j], wgt[D - 1][1][j], wgt[D - 1][2][j], T(0)};
    const M keep = {-1, -1, -1, 0};  // lane 3 is a node outside the stencil: its value may be anything
    const T* mv[D];
    for (int c = 0; c < D; ++c) mv[c] = k.g.mv + c * nodes + origin;
    // sums over the stencil of t = w v_i: plain, times (a - 1) (x offset), times (b - 1) (y offset, 3D)
    V sum[D], first[D], second[D];
    for (int c = 0; c < D; ++c) sum[c] = first[c] = second[c] = V{};
    // one row: adds its t to part (the sum over this x offset) and to second
    auto row = [&](int64_t at, T wr, int bb, V* part) {
      const V wv = wr * wl;
      for (int c = 0; c < D; ++c) {
        V g;
        load_row(g, mv[c] + at, full);
        const V t = wv * (V)((M)g & keep);
        part[c] += t;
        if (bb == 0) second[c] -= t;
        if (bb == 2) second[c] += t;
      }
    };
#pragma GCC unroll 3
    for (int a = 0; a < 3; ++a) {
      V part[D];
      for (int c = 0; c < D; ++c) part[c] = V{};
      if constexpr (D == 2) {
        row(rows[a], wgt[0][a][j], 1, part);
      } else {
#pragma GCC unroll 3
        for (int bb = 0; bb < 3; ++bb) row(rows[a * 3 + bb], wgt[0][a][j] * wgt[1][bb][j], bb, part);
      }
      for (int c = 0; c < D; ++c) {
        sum[c] += part[c];
        if (a == 0) first[c] -= part[c];
        if (a == 2) first[c] += part[c];
      }
    }
    for (int c = 0; c < D; ++c) {
      vel[c][j] = hsum(sum[c]);
      Sout[c * D][j] = hsum(first[c]);
      if constexpr (D == 3) Sout[c * D + 1][j] = hsum(second[c]);
      Sout[c * D + D - 1][j] = sum[c][2] - sum[c][0];
    }
  }

  // Orders particles by the cell of their stencil base (x slowest, ties by slot index), finds slab ranges and
  // the box of touched nodes. A stable counting sort by x slice (per-thread histograms over contiguous
  // chunks, so the result does not depend on the thread count), then an insertion sort by the rest of the
  // cell index within each slice: cheap because the particles are stored in last step's cell order.
  void sort_by_cell(const ParticleView<T, D>& p, const GridSpec<T, D>& spec) {
    const int n = p.n;
    const int nx = spec.res[0];
    const int threads = omp_get_max_threads();
    slice_.resize(n);
    entry_.resize(n);
    hist_.assign(size_t(threads) * nx, 0);
    std::vector<Box<D>> boxes(threads);
    sorted_.resize(n);
    slice_begin_.assign(nx + 1, 0);
    int used = 1;
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int begin = int(int64_t(n) * t / nt), end = int(int64_t(n) * (t + 1) / nt);
      int* hist = hist_.data() + size_t(t) * nx;
      // cell of every particle and box of this thread's contiguous chunk (a loop the compiler vectorizes:
      // scalar reductions), then the chunk's slice histogram
      int lo0 = spec.res[0], lo1 = spec.res[1], lo2 = spec.res[D - 1], hi0 = -1, hi1 = -1, hi2 = -1;
      int32_t* const slice = slice_.data();
      uint64_t* const entry = entry_.data();
      const T* const px = p.x;
      const GridSpec<T, D> g = spec;
      for (int i = begin; i < end; ++i) {
        int c[D];
        for (int d = 0; d < D; ++d) {
          const int base = floor_int((px[d * n + i] - g.origin[d]) * g.inv_dx - T(0.5));
          c[d] = std::min(std::max(base, 0), g.res[d] - 1);
        }
        lo0 = std::min(lo0, c[0]), hi0 = std::max(hi0, c[0]);
        lo1 = std::min(lo1, c[1]), hi1 = std::max(hi1, c[1]);
        lo2 = std::min(lo2, c[D - 1]), hi2 = std::max(hi2, c[D - 1]);
        slice[i] = c[0];
        int32_t rest = c[1];
        if (D == 3) rest = rest * g.res[D - 1] + c[D - 1];
        entry[i] = uint64_t(uint32_t(rest)) << 32 | uint32_t(i);
      }
      for (int i = begin; i < end; ++i) ++hist[slice[i]];
      Box<D> b;
      b.lo[0] = lo0, b.hi[0] = hi0, b.lo[1] = lo1, b.hi[1] = hi1;
      b.lo[D - 1] = lo2, b.hi[D - 1] = hi2;
      boxes[t] = b;
#pragma omp barrier
      // slice starts, and each chunk's first position within every slice (chunks in index order)
#pragma omp single
      {
        used = nt;
        for (int s = 0; s < nx; ++s) {
          int total = 0;
          for (int u = 0; u < nt; ++u) {
            const int c = hist_[size_t(u) * nx + s];
            hist_[size_t(u) * nx + s] = slice_begin_[s] + total;
            total += c;
          }
          slice_begin_[s + 1] = slice_begin_[s] + total;
        }
      }
      // scatter the (cell, index) entries by slice, stable
      for (int i = begin; i < end; ++i) sorted_[hist[slice_[i]]++] = entry_[i];
    }
    // within each slice by cell, then by index (the entries compare as (cell, index))
    order_.resize(n);
#pragma omp parallel for schedule(dynamic, 1)
    for (int s = 0; s < nx; ++s) {
      uint64_t* a = sorted_.data();
      const int lo = slice_begin_[s], hi = slice_begin_[s + 1];
      int64_t moves = 0, budget = 8 * int64_t(hi - lo) + 64;
      for (int j = lo + 1; j < hi && moves <= budget; ++j) {
        const uint64_t e = a[j];
        int m = j;
        for (; m > lo && a[m - 1] > e; --m) a[m] = a[m - 1];
        a[m] = e;
        moves += j - m;
      }
      // far from sorted (the first step of a shuffled state): a full sort gives the same unique order
      if (moves > budget) std::sort(a + lo, a + hi);
      for (int q = lo; q < hi; ++q) order_[q] = int32_t(uint32_t(a[q]));
    }
    // slab ranges
    const int slabs = (nx + kSlab - 1) / kSlab;
    slab_begin_.resize(slabs + 1);
    for (int s = 0; s <= slabs; ++s) slab_begin_[s] = slice_begin_[std::min(s * kSlab, nx)];
    // the box of stencil nodes
    Box<D> b = boxes[0];
    for (int t = 1; t < used; ++t)
      for (int d = 0; d < D; ++d) {
        b.lo[d] = std::min(b.lo[d], boxes[t].lo[d]);
        b.hi[d] = std::max(b.hi[d], boxes[t].hi[d]);
      }
    for (int d = 0; d < D; ++d) b.hi[d] = std::min(b.hi[d] + 2, spec.res[d] - 1);
    if (n == 0)
      for (int d = 0; d < D; ++d) b.lo[d] = 0, b.hi[d] = -1;
    box_ = b;
  }

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
    it->second.box = box_;
    it->second.spec_nodes = nodes;
  }

  void clear_box(const GridView<T, D>& g, const Box<D>& b) {
    const int64_t nodes = g.spec.num_nodes();
    const int64_t sx = row_stride(g.spec, 0);
    const int64_t sy = D == 3 ? g.spec.res[D - 1] : 1;
    const int64_t len = D == 3 ? b.hi[2] - b.lo[2] + 1 : 1;
    const int ylo = D == 3 ? b.lo[1] : 0, yhi = D == 3 ? b.hi[1] : 0;
#pragma omp parallel for schedule(static)
    for (int x = b.lo[0]; x <= b.hi[0]; ++x) {
      if (len <= 0) continue;
      for (int y = ylo; y <= yhi; ++y) {
        // 3D: one z run per (x, y); 2D: one y run per x
        const int64_t at = D == 3 ? x * sx + y * sy + b.lo[2] : x * sx + b.lo[1];
        const int64_t count = D == 3 ? len : b.hi[1] - b.lo[1] + 1;
        if (count <= 0) continue;
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

  std::vector<int32_t> slice_;
  std::vector<uint64_t> entry_, sorted_;  // (cell within slice) << 32 | particle index
  std::vector<int> hist_, slice_begin_, slab_begin_, slab_list_;
  std::vector<int32_t> order_;
  Box<D> box_;
  std::vector<std::pair<const T*, Dirty>> dirty_;
  const bool avx2_ = use_avx2();
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
