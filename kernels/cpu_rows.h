// The CPU backend's particle batches: P2G scatter and G2P gather of up to kBatch particles, the per-particle
// arithmetic across the batch (loops the compiler vectorizes), the grid transfer particle by particle in rows
// of 3 nodes along the grid's last axis (one 4-lane vector operation each; lane 3 carries weight 0 and is
// masked). The rows go either to the dense grid or to a block's scratch (kernels/cpu_sparse_grid.h): a Target
// says where node (i, j, k) of the grid lives.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#if defined(__x86_64__) || defined(__SSE2__)
#include <emmintrin.h>
#define DUCTILE_CPU_STREAM 1
#else
#define DUCTILE_CPU_STREAM 0
#endif

#include "kernels/g2p.h"
#include "kernels/lanes.h"
#include "kernels/p2g.h"

namespace ductile::cpu {

using lanes::add_row;
using lanes::hsum;
using lanes::Lanes;
using lanes::load_row;

// Where the rows go: node c lives at mass[at(c)] and mv[d * channel + at(c)], at(c) = sum (c - corner) *
// stride. A row of 4 lanes may be loaded whole when its last lane exists (full_limit: the first node of the
// last axis whose row is not full).
template <int D>
struct Target {
  int corner[D] = {};
  int64_t stride[D] = {};
  int64_t channel = 0;
  int full_limit = 0;
  // Stencil bases from the sort (sparse grid): the batch's local base cells packed local_bits bits per axis
  // (x highest) in the low bits of keys[j] >> 32, relative to corner, and bit 31 of keys[j] set when the
  // stencil leaves the grid. Null: the B-spline stencil itself and its own check (dense grid).
  const uint64_t* keys = nullptr;
  int local_bits = 0;
  // Rows hold at least 12 nodes from the corner's multiple of 4 along the last axis (a block scratch): P2G
  // then adds 8-lane windows that start at a multiple of 4 (see Rows::scatter_rows_window).
  bool windows = false;
  int64_t at(const int* c) const {
    int64_t i = 0;
    for (int d = 0; d < D; ++d) i += (c[d] - corner[d]) * stride[d];
    return i;
  }
};

// The stencil of x with a given base cell (the quadratic B-spline of kernels/bspline.h, fx = x / dx - base):
// the sparse grid's blocks take the base from the sort, which may differ by one from a fused multiply-add's
// rounding of floor(x / dx - 1/2) at a cell boundary, where the weights are continuous.
template <class T, int D>
inline Stencil<T, D> stencil_at(const GridSpec<T, D>& g, const Vec<T, D>& x, const int* base) {
  return bspline_stencil_at(g, x, base);
}

// Eight lanes of T (one AVX vector of floats) and the matching integer mask type.
template <class T>
struct Lanes8;
template <>
struct Lanes8<float> {
  typedef float V __attribute__((vector_size(32)));
  typedef int32_t M __attribute__((vector_size(32)));
};
template <>
struct Lanes8<double> {
  typedef double V __attribute__((vector_size(64)));
  typedef int64_t M __attribute__((vector_size(64)));
};

// Non-temporal stores (x86-64): whole cache lines written without reading them first. fence() makes them
// visible to the other threads; call it before the end of the parallel loop that streamed.
inline void stream_lines(void* dst, const void* src, size_t bytes) {
#if DUCTILE_CPU_STREAM
  for (size_t i = 0; i < bytes / 16; ++i)
    _mm_stream_si128(static_cast<__m128i*>(dst) + i, _mm_loadu_si128(static_cast<const __m128i*>(src) + i));
#else
  std::memcpy(dst, src, bytes);
#endif
}
inline void stream_fence() {
#if DUCTILE_CPU_STREAM
  _mm_sfence();
#endif
}

template <class T, int D>
struct Rows {
  using V = typename Lanes<T>::V;
  using M = typename Lanes<T>::M;
  static constexpr int kBatch = kLaneBatch;  // materials/material_lanes.h
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

  // Stencil of lane j at x: the B-spline's own, or (sparse grid) based at the sort's cell, which also says
  // whether the stencil leaves the grid (bit 31 of the key). `inside` is false when it does.
  static Stencil<T, D> stencil(const GridSpec<T, D>& spec, const Target<D>& t, const Vec<T, D>& x, int j,
                               bool& inside) {
    if (!t.keys) {
      const Stencil<T, D> st = bspline_stencil(spec, x);
      inside = stencil_inside(spec, st.base);
      return st;
    }
    const uint32_t local = uint32_t(t.keys[j] >> 32);
    int b[D];
    const uint32_t mask = (1u << t.local_bits) - 1;
    for (int d = 0; d < D; ++d) b[d] = t.corner[d] + int((local >> (t.local_bits * (D - 1 - d))) & mask);
    inside = !((t.keys[j] >> 31) & 1);
    return stencil_at(spec, x, b);
  }

  // Offsets of the 3^(D-1) stencil rows from the stencil's first node, row (a, b) at a * 3 + b.
  static void row_offsets(const Target<D>& t, int64_t* rows) {
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < (D == 3 ? 3 : 1); ++b)
        rows[a * (D == 3 ? 3 : 1) + b] = a * t.stride[0] + (D == 3 ? b * t.stride[1] : 0);
  }

  // Scatters particles idx[0..w) into t (eq. 29 in the q + A (o - 1) form of kernels/p2g.h).
  static void scatter_batch(const P2G<T, D>& k, const int32_t* idx, int w, const Target<D>& t, T* gmass,
                            T* gmv) {
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
    for (int c = 0; c < D * D; ++c) C[c] = lanes(k.p.C + c * n, idx, w, direct, bC[c]);
    if (k.lanes) {
      // the material's stress of every lane, from F, C and plastic (materials/material_lanes.h)
      Lane bF[D * D], bpl;
      const T* F[D * D];
      for (int c = 0; c < D * D; ++c) F[c] = lanes(k.p.F + c * n, idx, w, direct, bF[c]);
      const T* pl = lanes(k.p.plastic, idx, w, direct, bpl);
      const uint32_t bad = k.lanes->stress(k.lanes->prm, F, C, pl, btau) & ((1u << w) - 1);
      for (int c = 0; c < D * D; ++c) tau[c] = btau[c];
      if (bad && k.status)
        for (int j = 0; j < w; ++j)
          if (bad >> j & 1) raise_status(k.status, kStatusNonFinite, idx[j], kStageStress);
    } else {
      for (int c = 0; c < D * D; ++c) tau[c] = lanes(k.tau + c * n, idx, w, direct, btau[c]);
    }
    const T* m = lanes(k.p.mass, idx, w, direct, bm);
    const T* vol = lanes(k.p.vol0, idx, w, direct, bvol);
    // stencil, mass and affine momentum of every lane
    int base[D][kBatch];
    bool inside[kBatch];
    Lane wgt[D][3], mass, q[D], A[D * D];
    for (int j = 0; j < kBatch; ++j) {
      Vec<T, D> xj, vj;
      Mat<T, D> Cj, tj;
      for (int c = 0; c < D; ++c) xj[c] = x[c][j], vj[c] = v[c][j];
      for (int c = 0; c < D * D; ++c) Cj.m[c / D][c % D] = C[c][j], tj.m[c / D][c % D] = tau[c][j];
      const Stencil<T, D> st = stencil(spec, t, xj, std::min(j, w - 1), inside[j]);
      const P2GParticle<T, D> pp = p2g_particle_at(spec, st, k.dt, vj, Cj, tj, m[j], vol[j]);
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
    row_offsets(t, rows);
    for (int j = 0; j < w; ++j) {
      int b[D];
      for (int c = 0; c < D; ++c) b[c] = base[c][j];
      if (!inside[j]) {
        if (k.status) raise_status(k.status, kStatusOutOfDomain, idx[j], kStageP2G);
        continue;
      }
      if (t.windows)
        scatter_rows_window(t, rows, b, wgt, mass, q, A, j, gmass, gmv);
      else
        scatter_rows(t, rows, b, wgt, mass, q, A, j, gmass, gmv);
    }
  }

  // scatter_rows for a target with windows: each row is added as 8 lanes starting at the multiple of 4 at or
  // below the stencil's first node, with weight 0 outside the stencil's 3 nodes. Every particle's row updates
  // then read and write one of two fixed windows per row, so a load finds the previous particle's store
  // whole (store-to-load forwarding) instead of overlapping it by 1 to 3 nodes, which stalls until the store
  // reaches the cache. The stencil lanes get the same values as scatter_rows' (same products), the others 0.
  static void scatter_rows_window(const Target<D>& t, const int64_t* rows, const int* b, const Lane (*wgt)[3],
                                  const Lane& mass, const Lane* q, const Lane* A, int j, T* gmass, T* gmv) {
    using W = typename Lanes8<T>::V;
    using WM = typename Lanes8<T>::M;
    using I = typename std::remove_reference<decltype(WM{}[0])>::type;
    const int off = (b[D - 1] - t.corner[D - 1]) & 3;
    const int64_t origin = t.at(b) - off;
    // lane l is stencil offset o = l - off along the last axis: weight w[o] (0 outside), momentum offset o -
    // 1
    const WM o = WM{0, 1, 2, 3, 4, 5, 6, 7} - I(off);
    const W zero = W{};
    const W wl = o == 0   ? zero + wgt[D - 1][0][j]
                 : o == 1 ? zero + wgt[D - 1][1][j]
                 : o == 2 ? zero + wgt[D - 1][2][j]
                          : zero;
    const W wm = wl * mass[j];
    const W cl = __builtin_convertvector(o - 1, W);
    W mom[D], step_x[D], step_y[D];
    for (int c = 0; c < D; ++c) {
      mom[c] = q[c][j] + A[c * D + D - 1][j] * cl;
      step_x[c] = zero + A[c * D][j];
      step_y[c] = zero + A[c * D + D - 2][j];
    }
    T* const gm = gmass + origin;
    T* mv[D];
    for (int c = 0; c < D; ++c) mv[c] = gmv + c * t.channel + origin;
    auto add = [](T* p, const W& x) {
      W r;
      std::memcpy(&r, p, sizeof(W));
      r += x;
      std::memcpy(p, &r, sizeof(W));
    };
    auto row = [&](int64_t at, T wr, const W* mo) {
      add(gm + at, wr * wm);
      const W wv = wr * wl;
      for (int c = 0; c < D; ++c) add(mv[c] + at, wv * mo[c]);
    };
#pragma GCC unroll 3
    for (int a = 0; a < 3; ++a) {
      W ma[D];
      for (int c = 0; c < D; ++c) ma[c] = a == 0 ? mom[c] - step_x[c] : a == 1 ? mom[c] : mom[c] + step_x[c];
      if constexpr (D == 2) {
        row(rows[a], wgt[0][a][j], ma);
      } else {
#pragma GCC unroll 3
        for (int bb = 0; bb < 3; ++bb) {
          W mb[D];
          for (int c = 0; c < D; ++c)
            mb[c] = bb == 0 ? ma[c] - step_y[c] : bb == 1 ? ma[c] : ma[c] + step_y[c];
          row(rows[a * 3 + bb], wgt[0][a][j] * wgt[1][bb][j], mb);
        }
      }
    }
  }

  // Adds lane j's particle to the 3^(D-1) rows of its stencil.
  static void scatter_rows(const Target<D>& t, const int64_t* rows, const int* b, const Lane (*wgt)[3],
                           const Lane& mass, const Lane* q, const Lane* A, int j, T* gmass, T* gmv) {
    const int64_t origin = t.at(b);
    const bool full = b[D - 1] + 3 < t.full_limit;
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
    T* const gm = gmass + origin;
    T* mv[D];
    for (int c = 0; c < D; ++c) mv[c] = gmv + c * t.channel + origin;
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

  // Gathers from velocities gv (laid out by t), advects and writes particles idx[0..w) into slots q0.. of
  // k.out.
  static void gather_batch(const G2P<T, D>& k, const int32_t* idx, int q0, int w, const Target<D>& t,
                           const T* gv, bool stream) {
    const GridSpec<T, D>& spec = k.g.spec;
    const int n = k.in.n;
    const bool direct = consecutive(idx, w);
    // inputs
    Lane bx[D], bF[D * D];
    const T *x[D], *F[D * D];
    for (int c = 0; c < D; ++c) x[c] = lanes(k.in.x + c * n, idx, w, direct, bx[c]);
    for (int c = 0; c < D * D; ++c) F[c] = lanes(k.in.F + c * n, idx, w, direct, bF[c]);
    // stencils of every lane
    int base[D][kBatch];
    bool inside[kBatch];
    Lane wgt[D][3], fx[D];
    for (int j = 0; j < kBatch; ++j) {
      Vec<T, D> xj;
      for (int c = 0; c < D; ++c) xj[c] = x[c][j];
      const Stencil<T, D> st = stencil(spec, t, xj, std::min(j, w - 1), inside[j]);
      for (int c = 0; c < D; ++c) {
        base[c][j] = st.base[c];
        fx[c][j] = st.fx[c];
        for (int a = 0; a < 3; ++a) wgt[c][a][j] = st.w[c][a];
      }
    }
    // velocity and first moment, particle by particle
    Lane vel[D], S[D * D];
    int64_t rows[9];
    row_offsets(t, rows);
    for (int j = 0; j < kBatch; ++j) {
      int b[D];
      for (int c = 0; c < D; ++c) b[c] = base[c][j];
      if (j < w && inside[j]) {
        gather_rows(t, gv, rows, b, wgt, vel, S, j);
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
    // write slots q0.., carry the constants, report faults (streamed: whole batches starting a cache line)
    auto put_bytes = [w, stream](void* dst, const void* src, size_t lane_bytes) {
      if (stream && w == kBatch && (reinterpret_cast<uintptr_t>(dst) & 63) == 0)
        stream_lines(dst, src, lane_bytes * kBatch);
      else if (w == kBatch)
        std::memcpy(dst, src, lane_bytes * kBatch);
      else
        std::memcpy(dst, src, lane_bytes * w);
    };
    auto put = [&](T* dst, const Lane& src) { put_bytes(dst, src, sizeof(T)); };
    uint32_t projected[kBatch];
    const Lane* Fo = Fn;
    Lane pF[D * D], ppl;  // copies for the material (arrays whose address escapes lose vectorization)
    if (k.lanes) {
      // the material's projection of every lane's trial F and plastic state (materials/material_lanes.h)
      std::memcpy(pF, Fn, sizeof(pF));
      Lane bpl;
      std::memcpy(ppl, lanes(k.in.plastic, idx, w, direct, bpl), sizeof(Lane));
      k.lanes->project(k.lanes->prm, k.dt, pF, ppl, projected);
      put(k.out.plastic + q0, ppl);
      Fo = pF;
    }
    for (int c = 0; c < D; ++c) put(k.out.x + c * n + q0, xn[c]), put(k.out.v + c * n + q0, vel[c]);
    for (int c = 0; c < D * D; ++c) put(k.out.C + c * n + q0, Cn[c]), put(k.out.F + c * n + q0, Fo[c]);
    if (direct) {
      // consecutive particles: block copies of the plastic state and the constants
      const int i0 = idx[0];
      if (!k.lanes) put_bytes(k.out.plastic + q0, k.in.plastic + i0, sizeof(T));
      if (k.out_mass) put_bytes(k.out_mass + q0, k.in.mass + i0, sizeof(T));
      if (k.out_vol0) put_bytes(k.out_vol0 + q0, k.in.vol0 + i0, sizeof(T));
      if (k.out_material) put_bytes(k.out_material + q0, k.in.material + i0, sizeof(int32_t));
      if (k.out_id) put_bytes(k.out_id + q0, k.in_id + i0, sizeof(int32_t));
    } else {
      for (int j = 0; j < w; ++j) {
        if (!k.lanes) k.out.plastic[q0 + j] = k.in.plastic[idx[j]];
        k.carry(idx[j], q0 + j);
      }
    }
    for (int j = 0; j < w; ++j)
      if (fault[j]) raise_status(k.status, fault[j], idx[j], kStageG2P);
    // projection faults name the output slot, as the separate stage does
    if (k.lanes)
      for (int j = 0; j < w; ++j)
        if (projected[j]) raise_status(k.status, projected[j], q0 + j, kStageProject);
  }

  // Lane j's velocity and first moment S = sum w v_i (o - 1)^T from the 3^(D-1) rows of its stencil.
  static void gather_rows(const Target<D>& t, const T* gv, const int64_t* rows, const int* b,
                          const Lane (*wgt)[3], Lane* vel, Lane* Sout, int j) {
    const int64_t origin = t.at(b);
    const bool full = b[D - 1] + 3 < t.full_limit;
    const V wl = {wgt[D - 1][0][j], wgt[D - 1][1][j], wgt[D - 1][2][j], T(0)};
    const M keep = {-1, -1, -1, 0};  // lane 3 is a node outside the stencil: its value may be anything
    const T* mv[D];
    for (int c = 0; c < D; ++c) mv[c] = gv + c * t.channel + origin;
    // sums over the stencil of t = w v_i: plain, times (a - 1) (x offset), times (b - 1) (y offset, 3D)
    V sum[D], first[D], second[D];
    for (int c = 0; c < D; ++c) sum[c] = first[c] = second[c] = V{};
    // one row: adds its t to part (the sum over this x offset) and to second
    auto row = [&](int64_t at, T wr, int bb, V* part) {
      const V wv = wr * wl;
      for (int c = 0; c < D; ++c) {
        V g;
        load_row(g, mv[c] + at, full);
        const V tv = wv * (V)((M)g & keep);
        part[c] += tv;
        if (bb == 0) second[c] -= tv;
        if (bb == 2) second[c] += tv;
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
};

}  // namespace ductile::cpu
