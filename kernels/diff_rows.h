// Row kernels of the gradient engine's CPU transfers (kernels/diff_cpu.cpp): the quadratic stencil of a
// particle is 3^(D-1) rows of 3 nodes contiguous along the grid's last axis, and each row is one 4-lane
// vector operation (lane c is offset c of the last axis; lane 3 has weight 0 and is masked, and a row that
// ends at the grid's last node is loaded and stored lane by lane). The same math as the per-node functors of
// kernels/p2g.h and kernels/g2p.h (which the GPU runs), arranged by rows:
//
// With the stencil weight w_o = wr(a, b) wl(c), wr = w_0(a) w_1(b) (3D) or w_0(a) (2D), and the affine field
// f_o = q + A (o - 1) of kernels/p2g.h (P2G: momentum; G2P adjoint: the node velocities' adjoint), a sum
// over the stencil of s_o dw_o/dfx_d is, per axis, the row sums of s weighted by dw_d in the row's axes and
// by w in the others, then dotted with wl (or dwl for the last axis).
#pragma once

#include <cstring>

#include "core/grid.h"
#include "kernels/bspline.h"
#include "kernels/g2p.h"
#include "kernels/lanes.h"
#include "kernels/p2g.h"

namespace ductile::rows {

using lanes::add_row;
using lanes::hsum;
using lanes::Lanes;

// A row of nodes at p (kernels/lanes.h) with lane 3 zeroed also when the row is full.
template <class T>
inline void load_row(typename Lanes<T>::V& r, const T* p, bool full) {
  using V = typename Lanes<T>::V;
  using M = typename Lanes<T>::M;
  lanes::load_row(r, p, full);
  if (full) {
    const M keep = {-1, -1, -1, 0};
    r = (V)((M)r & keep);
  }
}

// Where a stencil's rows lie: the first node's index, the offset of row (a, b) at a * 3 + b (2D: a), whether
// rows may be moved as four lanes, and the node count (component stride).
template <class T, int D>
struct RowFrame {
  int64_t origin, nodes, row[9];
  bool full;
  RowFrame(const GridSpec<T, D>& g, const int* base) {
    origin = g.index(base);
    nodes = g.num_nodes();
    full = base[D - 1] + 3 < g.res[D - 1];
    const int64_t sz = g.res[D - 1], sx = D == 3 ? int64_t(g.res[1]) * sz : sz;
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < (D == 3 ? 3 : 1); ++b)
        row[a * (D == 3 ? 3 : 1) + b] = a * sx + (D == 3 ? b * sz : 0);
  }
};

// Visits the stencil's rows: fn(row offset, a, b, wr) with b = 1 in 2D. The loops unroll, so a and b are
// constants in each copy of fn's body (offset_add below folds to one operation or none).
template <class T, int D, class Fn>
inline void for_each_row(const RowFrame<T, D>& f, const T (*w)[3], Fn&& fn) {
#pragma GCC unroll 3
  for (int a = 0; a < 3; ++a) {
    if constexpr (D == 2) {
      fn(f.row[a], a, 1, w[0][a]);
    } else {
#pragma GCC unroll 3
      for (int b = 0; b < 3; ++b) fn(f.row[a * 3 + b], a, b, w[0][a] * w[1][b]);
    }
  }
}

// acc += (o - 1) x for a stencil offset o in {0, 1, 2}: a subtraction, nothing or an addition (the product's
// value for finite x, up to the sign of a zero sum).
template <class U, class X>
inline void offset_add(U& acc, const X& x, int o) {
  if (o == 0) acc -= x;
  if (o == 2) acc += x;
}

// The affine field q + A (o - 1) along row (a, b): lane c holds offset (a, b, c).
template <class T, int D>
inline void row_field(const Vec<T, D>& q, const Mat<T, D>& A, int a, int b, typename Lanes<T>::V* out) {
  using V = typename Lanes<T>::V;
  const V cl = {T(-1), T(0), T(1), T(0)};
  for (int k = 0; k < D; ++k) {
    T s = q[k];
    offset_add(s, A(k, 0), a);
    if (D == 3) offset_add(s, A(k, 1), b);
    out[k] = s + A(k, D - 1) * cl;
  }
}

// P2G scatter of one particle (kernels/p2g.h, scatter_particle): mass w m (when mass is not null) and
// momentum w (q + A (o - 1)) to every stencil node.
template <class T, int D>
inline void scatter(const P2GParticle<T, D>& pp, const GridSpec<T, D>& g, T* mass, T* mv) {
  using V = typename Lanes<T>::V;
  const RowFrame<T, D> f(g, pp.base);
  const V wl = {pp.w[D - 1][0], pp.w[D - 1][1], pp.w[D - 1][2], T(0)};
  for_each_row(f, pp.w, [&](int64_t at, int a, int b, T wr) {
    V mom[D];
    row_field(pp.q, pp.A, a, b, mom);
    const V wv = wr * wl;
    if (mass) add_row(mass + f.origin + at, wv * pp.m, f.full);
    for (int k = 0; k < D; ++k) add_row(mv + k * f.nodes + f.origin + at, wv * mom[k], f.full);
  });
}

// G2P gather of one particle: v = sum w v_o and S = sum w v_o (o - 1)^T from the node velocities mv.
template <class T, int D>
inline void gather(const Stencil<T, D>& st, const GridSpec<T, D>& g, const T* mv, Vec<T, D>& v,
                   Mat<T, D>& S) {
  using V = typename Lanes<T>::V;
  const RowFrame<T, D> f(g, st.base);
  const V wl = {st.w[D - 1][0], st.w[D - 1][1], st.w[D - 1][2], T(0)};
  V sum[D], first[D], second[D];
  for (int k = 0; k < D; ++k) sum[k] = first[k] = second[k] = V{};
  for_each_row(f, st.w, [&](int64_t at, int a, int b, T wr) {
    const V wv = wr * wl;
    for (int k = 0; k < D; ++k) {
      V r;
      load_row(r, mv + k * f.nodes + f.origin + at, f.full);
      const V t = wv * r;
      sum[k] += t;
      offset_add(first[k], t, a);
      if (D == 3) offset_add(second[k], t, b);
    }
  });
  for (int k = 0; k < D; ++k) {
    v[k] = hsum(sum[k]);
    S(k, 0) = hsum(first[k]);
    if (D == 3) S(k, 1) = hsum(second[k]);
    S(k, D - 1) = sum[k][2] - sum[k][0];
  }
}

// The stencil's per-axis weight-gradient sums: fx_d gets sum_o s_o dw_o/dfx_d. Rows add s (one vector per
// row) through add(), finish() dots them with the last axis' weights.
template <class T, int D>
struct WeightGradient {
  using V = typename Lanes<T>::V;
  V acc[D];
  WeightGradient() {
    for (int d = 0; d < D; ++d) acc[d] = V{};
  }
  // row (a, b) with value s per lane
  void add(const Stencil<T, D>& st, int a, int b, const V& s) {
    if constexpr (D == 2) {
      acc[0] += st.dw[0][a] * s;
      acc[1] += st.w[0][a] * s;
    } else {
      acc[0] += (st.dw[0][a] * st.w[1][b]) * s;
      acc[1] += (st.w[0][a] * st.dw[1][b]) * s;
      acc[2] += (st.w[0][a] * st.w[1][b]) * s;
    }
  }
  void finish(const Stencil<T, D>& st, T* fx) const {
    const V wl = {st.w[D - 1][0], st.w[D - 1][1], st.w[D - 1][2], T(0)};
    const V dwl = {st.dw[D - 1][0], st.dw[D - 1][1], st.dw[D - 1][2], T(0)};
    for (int d = 0; d < D - 1; ++d) fx[d] += hsum(acc[d] * wl);
    fx[D - 1] += hsum(acc[D - 1] * dwl);
  }
};

// Adjoint of the P2G scatter of one particle, gathered from the node adjoints adj_m (mass) and adj_mv
// (momentum): adj q = sum w adj_q(o), adj A = sum w adj_q(o) (o - 1)^T, adj m += sum w adj_m(o), and
// adj fx_d += sum adj_w(o) dw_o/dfx_d with adj_w(o) = adj_m(o) m + adj_q(o) . (q + A (o - 1)).
template <class T, int D>
inline void adj_scatter(const P2GParticle<T, D>& pp, const Stencil<T, D>& st, const GridSpec<T, D>& g,
                        const T* adj_m, const T* adj_mv, Vec<T, D>& adj_q, Mat<T, D>& adj_A, T& adj_mass,
                        T* adj_fx) {
  using V = typename Lanes<T>::V;
  const RowFrame<T, D> f(g, pp.base);
  const V wl = {pp.w[D - 1][0], pp.w[D - 1][1], pp.w[D - 1][2], T(0)};
  const V cl = {T(-1), T(0), T(1), T(0)};
  V sum[D], first[D], second[D], msum = V{};
  for (int k = 0; k < D; ++k) sum[k] = first[k] = second[k] = V{};
  WeightGradient<T, D> wg;
  for_each_row(f, pp.w, [&](int64_t at, int a, int b, T wr) {
    V mom[D], am = V{}, aq[D] = {};
    row_field(pp.q, pp.A, a, b, mom);
    load_row(am, adj_m + f.origin + at, f.full);
    V s = am * pp.m;
    msum += wr * am;
    for (int k = 0; k < D; ++k) {
      load_row(aq[k], adj_mv + k * f.nodes + f.origin + at, f.full);
      s += aq[k] * mom[k];
      const V t = wr * aq[k];
      sum[k] += t;
      offset_add(first[k], t, a);
      if (D == 3) offset_add(second[k], t, b);
    }
    wg.add(st, a, b, s);
  });
  adj_mass += hsum(msum * wl);
  for (int k = 0; k < D; ++k) {
    adj_q[k] = hsum(sum[k] * wl);
    adj_A(k, 0) = hsum(first[k] * wl);
    if (D == 3) adj_A(k, 1) = hsum(second[k] * wl);
    adj_A(k, D - 1) = hsum(sum[k] * wl * cl);
  }
  wg.finish(st, adj_fx);
}

// The G2P adjoint's grid half for one particle, with q = adj v and A = adj S (kernels/g2p.h, G2PAdjoint):
// scatters w (q + A (o - 1)) into adj_v (the node velocities' adjoint) and adds sum_o adj_w(o) dw_o/dfx to
// adj_fx, adj_w(o) = v_o . (q + A (o - 1)).
template <class T, int D>
inline void adj_gather(const Stencil<T, D>& st, const GridSpec<T, D>& g, const T* mv, const Vec<T, D>& q,
                       const Mat<T, D>& A, T* adj_v, T* adj_fx) {
  using V = typename Lanes<T>::V;
  const RowFrame<T, D> f(g, st.base);
  const V wl = {st.w[D - 1][0], st.w[D - 1][1], st.w[D - 1][2], T(0)};
  WeightGradient<T, D> wg;
  for_each_row(f, st.w, [&](int64_t at, int a, int b, T wr) {
    V field[D], s = V{};
    row_field(q, A, a, b, field);
    const V wv = wr * wl;
    for (int k = 0; k < D; ++k) {
      V r;
      load_row(r, mv + k * f.nodes + f.origin + at, f.full);
      s += r * field[k];
      add_row(adj_v + k * f.nodes + f.origin + at, wv * field[k], f.full);
    }
    wg.add(st, a, b, s);
  });
  wg.finish(st, adj_fx);
}

}  // namespace ductile::rows
