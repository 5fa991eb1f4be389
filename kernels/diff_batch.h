// Batches of particles for the gradient engine's CPU transfers (kernels/diff_cpu.cpp): the per-particle
// arithmetic of the P2G scatter, the G2P gather and both adjoints runs across a batch of kBatch particles
// (loops over lanes that the compiler vectorizes, as the simulator's kernels/cpu_rows.h does), and the grid
// work runs particle by particle in stencil rows (kernels/diff_rows.h), in the batch's order. Each lane
// computes exactly what the per-particle functions of kernels/p2g.h and kernels/g2p.h compute, operation by
// operation, so a batch gives the same bits as those functions run one particle at a time in the same order.
#pragma once

#include "kernels/diff_rows.h"

namespace ductile::rows {

template <class T, int D>
struct Batch {
  static constexpr int kBatch = 16;
  using Lane = T[kBatch];

  const int32_t* idx;  // the batch's particles, idx[0..w)
  int w;
  bool direct;  // kBatch consecutive particles: their values are read and written in place

  Batch(const int32_t* i, int width) : idx(i), w(width), direct(width == kBatch) {
    for (int j = 1; j < kBatch && direct; ++j) direct = idx[j] == idx[0] + j;
  }

  // The lanes of SoA component array a: in place when direct, else copied into buf (lanes past w repeat the
  // last particle, so every lane computes on valid values).
  const T* in(const T* a, T* buf) const {
    if (direct) return a + idx[0];
    for (int j = 0; j < kBatch; ++j) buf[j] = a[idx[j < w ? j : w - 1]];
    return buf;
  }
  // D (or D * D) components of a SoA array of n particles.
  template <int W>
  void in(const T* a, int n, Lane* buf, const T** out) const {
    for (int c = 0; c < W; ++c) out[c] = in(a + int64_t(c) * n, buf[c]);
  }
  // a[idx[j]] += v[j] (set: =) for the lanes j < w with on[j].
  void add(T* a, const T* v, const bool* on, bool set = false) const {
    bool all = direct;
    for (int j = 0; j < kBatch; ++j) all = all && on[j];
    if (all) {
      T* p = a + idx[0];
      if (set)
        for (int j = 0; j < kBatch; ++j) p[j] = v[j];
      else
        for (int j = 0; j < kBatch; ++j) p[j] += v[j];
      return;
    }
    for (int j = 0; j < w; ++j)
      if (on[j]) a[idx[j]] = set ? v[j] : a[idx[j]] + v[j];
  }
};

// The stencils of a batch's particles (kernels/bspline.h, bspline_stencil, lane by lane).
template <class T, int D>
struct BatchStencils {
  using Lane = typename Batch<T, D>::Lane;
  static constexpr int kBatch = Batch<T, D>::kBatch;
  int base[D][kBatch];
  bool inside[kBatch];
  Lane fx[D], w[D][3], dw[D][3];

  BatchStencils(const GridSpec<T, D>& g, const T* const* x) {
    for (int j = 0; j < kBatch; ++j) inside[j] = true;
    for (int d = 0; d < D; ++d)
      for (int j = 0; j < kBatch; ++j) {
        const int b = floor_int((x[d][j] - g.origin[d]) * g.inv_dx - T(0.5));
        const T f = (x[d][j] - g.origin[d]) * g.inv_dx - T(b);
        base[d][j] = b;
        inside[j] = inside[j] && b >= 0 && b + 2 < g.res[d];
        fx[d][j] = f;
        w[d][0][j] = T(0.5) * (T(1.5) - f) * (T(1.5) - f);
        w[d][1][j] = T(0.75) - (f - T(1)) * (f - T(1));
        w[d][2][j] = T(0.5) * (f - T(0.5)) * (f - T(0.5));
        dw[d][0][j] = f - T(1.5);
        dw[d][1][j] = T(-2) * (f - T(1));
        dw[d][2][j] = f - T(0.5);
      }
  }
  // Lane j as a Stencil.
  Stencil<T, D> at(int j) const {
    Stencil<T, D> s;
    for (int d = 0; d < D; ++d) {
      s.base[d] = base[d][j];
      s.fx[d] = fx[d][j];
      for (int a = 0; a < 3; ++a) s.w[d][a] = w[d][a][j], s.dw[d][a] = dw[d][a][j];
    }
    return s;
  }
};

// Lane j of lanes a (a[c][j]: component c) as a vector or a matrix, and back.
template <class T, int D, class A>
DUCTILE_INLINE Vec<T, D> lane_vec(const A& a, int j) {
  Vec<T, D> r;
  for (int c = 0; c < D; ++c) r[c] = a[c][j];
  return r;
}
template <class T, int D, class A>
DUCTILE_INLINE Mat<T, D> lane_mat(const A& a, int j) {
  Mat<T, D> r;
  for (int c = 0; c < D * D; ++c) r.m[c / D][c % D] = a[c][j];
  return r;
}
template <class T, int D, class Lane>
DUCTILE_INLINE void set_lane(Lane* a, int j, const Vec<T, D>& v) {
  for (int c = 0; c < D; ++c) a[c][j] = v[c];
}
template <class T, int D, class Lane>
DUCTILE_INLINE void set_lane(Lane* a, int j, const Mat<T, D>& m) {
  for (int c = 0; c < D * D; ++c) a[c][j] = m.m[c / D][c % D];
}

// What the batch's particles scatter (P2G::particle, lane by lane): q includes dt times the external force.
template <class T, int D>
struct BatchP2G {
  using B = Batch<T, D>;
  using Lane = typename B::Lane;
  static constexpr int kBatch = B::kBatch;
  BatchStencils<T, D> st;
  Lane m, q[D], A[D * D];

  BatchP2G(const P2G<T, D>& k, const B& b, const T* const* x) : st(k.g.spec, x) {
    const int n = k.p.n;
    const GridSpec<T, D>& g = k.g.spec;
    Lane bv[D], bC[D * D], btau[D * D], bf[D], bm, bvol;
    const T *v[D], *C[D * D], *tau[D * D], *f[D] = {};
    b.template in<D>(k.p.v, n, bv, v);
    b.template in<D * D>(k.p.C, n, bC, C);
    b.template in<D * D>(k.tau, n, btau, tau);
    if (k.force) b.template in<D>(k.force, n, bf, f);
    const T* mass = b.in(k.p.mass, bm);
    const T* vol0 = b.in(k.p.vol0, bvol);
    for (int j = 0; j < kBatch; ++j) {
      // p2g_particle_at, then the force
      const T scale = -k.dt * vol0[j] * T(4) * g.inv_dx * g.inv_dx;
      Mat<T, D> affine;
      for (int a = 0; a < D; ++a)
        for (int c = 0; c < D; ++c) affine(a, c) = scale * tau[a * D + c][j] + mass[j] * C[a * D + c][j];
      for (int a = 0; a < D; ++a) {
        T s = mass[j] * v[a][j];
        for (int c = 0; c < D; ++c) s += affine(a, c) * ((T(1) - st.fx[c][j]) * g.dx);
        q[a][j] = s;
      }
      set_lane<T, D>(A, j, g.dx * affine);
      m[j] = mass[j];
    }
    if (k.force)
      for (int a = 0; a < D; ++a)
        for (int j = 0; j < kBatch; ++j) q[a][j] += k.dt * f[a][j];
  }
  // Lane j as a P2GParticle.
  P2GParticle<T, D> at(int j) const {
    P2GParticle<T, D> r;
    for (int d = 0; d < D; ++d) {
      r.base[d] = st.base[d][j];
      for (int a = 0; a < 3; ++a) r.w[d][a] = st.w[d][a][j];
    }
    r.m = m[j];
    for (int a = 0; a < D; ++a) r.q[a] = q[a][j];
    for (int c = 0; c < D * D; ++c) r.A.m[c / D][c % D] = A[c][j];
    return r;
  }
};

// P2G scatter of a batch (kernels/diff_cpu.cpp runs batches of one tile in order).
template <class T, int D>
inline void scatter_batch(const P2G<T, D>& k, const int32_t* idx, int w) {
  const Batch<T, D> b(idx, w);
  typename Batch<T, D>::Lane bx[D];
  const T* x[D];
  b.template in<D>(k.p.x, k.p.n, bx, x);
  const BatchP2G<T, D> pp(k, b, x);
  for (int j = 0; j < w; ++j) {
    if (!pp.st.inside[j]) {
      if (k.status) raise_status(k.status, kStatusOutOfDomain, idx[j], kStageP2G);
      continue;
    }
    scatter(pp.at(j), k.g.spec, k.g.mass, k.g.mv);
  }
}

// G2P of a batch into the same slots (kernels/g2p.h, G2P with the gather by rows).
template <class T, int D>
inline void gather_batch(const G2P<T, D>& k, const int32_t* idx, int w) {
  using Lane = typename Batch<T, D>::Lane;
  constexpr int kBatch = Batch<T, D>::kBatch;
  const Batch<T, D> b(idx, w);
  const GridSpec<T, D>& spec = k.g.spec;
  const int n = k.in.n;
  Lane bx[D], bF[D * D];
  const T *x[D], *F[D * D];
  b.template in<D>(k.in.x, n, bx, x);
  b.template in<D * D>(k.in.F, n, bF, F);
  const BatchStencils<T, D> st(spec, x);
  Lane v[D], S[D * D];
  for (int j = 0; j < kBatch; ++j) {
    Vec<T, D> vj = Vec<T, D>::zero();
    Mat<T, D> Sj = Mat<T, D>::zero();
    if (j < w && st.inside[j])
      gather(st.at(j), spec, k.g.mv, vj, Sj);
    else if (j < w)
      raise_status(k.status, kStatusOutOfDomain, idx[j], kStageG2P);
    set_lane<T, D>(v, j, vj);
    set_lane<T, D>(S, j, Sj);
  }
  // C, advection, trial F (G2P::finish)
  Lane xn[D], Cn[D * D], Fn[D * D];
  uint32_t fault[kBatch];
  bool all[kBatch];
  for (int j = 0; j < kBatch; ++j) {
    const Vec<T, D> vj = lane_vec<T, D>(v, j);
    T f[D];
    for (int c = 0; c < D; ++c) f[c] = st.fx[c][j];
    const Mat<T, D> C = g2p_affine(spec.inv_dx, vj, lane_mat<T, D>(S, j), f);
    Vec<T, D> xo;
    Mat<T, D> Fo;
    g2p_advect(k.dt, lane_vec<T, D>(x, j), vj, C, lane_mat<T, D>(F, j), xo, Fo);
    fault[j] = g2p_fault(vj, xo, k.lo, k.hi);
    set_lane<T, D>(xn, j, xo);
    set_lane<T, D>(Cn, j, C);
    set_lane<T, D>(Fn, j, Fo);
    all[j] = true;
  }
  for (int c = 0; c < D; ++c)
    b.add(k.out.x + c * n, xn[c], all, true), b.add(k.out.v + c * n, v[c], all, true);
  for (int c = 0; c < D * D; ++c)
    b.add(k.out.C + c * n, Cn[c], all, true), b.add(k.out.F + c * n, Fn[c], all, true);
  for (int j = 0; j < w; ++j) {
    if (fault[j]) raise_status(k.status, fault[j], idx[j], kStageG2P);
    k.out.plastic[idx[j]] = k.in.plastic[idx[j]];
    k.carry(idx[j], idx[j]);
  }
}

// Adjoint of G2P for a batch with the kept v and C (kernels/g2p.h, G2PAdjoint; kernels/diff_cpu.cpp's
// g2p_adjoint_particle lane by lane): the node velocities' adjoints are scattered particle by particle in
// the batch's order.
template <class T, int D>
inline void g2p_adjoint_batch(const G2PAdjoint<T, D>& k, const int32_t* idx, int w) {
  using Lane = typename Batch<T, D>::Lane;
  constexpr int kBatch = Batch<T, D>::kBatch;
  const Batch<T, D> b(idx, w);
  const GridSpec<T, D>& spec = k.g.spec;
  const int n = k.in.n;
  Lane bx[D], bv[D], bC[D * D], bF[D * D], baF[D * D], bax[D], bav[D], baC[D * D];
  const T *x[D], *v[D], *C[D * D], *F[D * D], *aFo[D * D], *axo[D], *avo[D], *aCo[D * D];
  b.template in<D>(k.in.x, n, bx, x);
  b.template in<D>(k.fwd_v, n, bv, v);
  b.template in<D * D>(k.fwd_C, n, bC, C);
  b.template in<D * D>(k.in.F, n, bF, F);
  b.template in<D * D>(k.adj_out.F, n, baF, aFo);
  b.template in<D>(k.adj_out.x, n, bax, axo);
  b.template in<D>(k.adj_out.v, n, bav, avo);
  b.template in<D * D>(k.adj_out.C, n, baC, aCo);
  const BatchStencils<T, D> st(spec, x);
  // advection and trial F, C from v and S: the scatter's q = adj v, A = adj S
  Lane av[D], aS[D * D], afx[D], aF[D * D];
  const T kk = T(4) * spec.inv_dx;
  for (int j = 0; j < kBatch; ++j) {
    const Mat<T, D> Fj = lane_mat<T, D>(F, j), aFn = lane_mat<T, D>(aFo, j), Cj = lane_mat<T, D>(C, j);
    const Vec<T, D> vj = lane_vec<T, D>(v, j);
    Vec<T, D> avj = lane_vec<T, D>(avo, j) + k.dt * lane_vec<T, D>(axo, j);
    const Mat<T, D> aC = lane_mat<T, D>(aCo, j) + k.dt * (aFn * transpose(Fj));
    set_lane<T, D>(aF, j, aFn + k.dt * (transpose(Cj) * aFn));
    T af[D] = {};
    for (int a = 0; a < D; ++a)
      for (int c = 0; c < D; ++c) {
        avj[a] -= kk * aC(a, c) * (st.fx[c][j] - T(1));
        af[c] -= kk * aC(a, c) * vj[a];
      }
    set_lane<T, D>(av, j, avj);
    set_lane<T, D>(aS, j, kk * aC);
    for (int c = 0; c < D; ++c) afx[c][j] = af[c];
  }
  // the node velocities' adjoints and the gather's weights, particle by particle
  for (int j = 0; j < w; ++j) {
    if (!st.inside[j]) continue;  // the forward pass raised kStatusOutOfDomain
    T af[D];
    for (int c = 0; c < D; ++c) af[c] = afx[c][j];
    adj_gather(st.at(j), spec, k.g.mv, lane_vec<T, D>(av, j), lane_mat<T, D>(aS, j), k.adj_grid_v, af);
    for (int c = 0; c < D; ++c) afx[c][j] = af[c];
  }
  Lane ax[D];
  for (int c = 0; c < D; ++c)
    for (int j = 0; j < kBatch; ++j) ax[c][j] = axo[c][j] + spec.inv_dx * afx[c][j];
  for (int c = 0; c < D; ++c) b.add(k.adj_x + c * n, ax[c], st.inside);
  for (int c = 0; c < D * D; ++c) b.add(k.adj_F + c * n, aF[c], st.inside);
}

// Adjoint of P2G for a batch (kernels/p2g.h, P2GAdjoint; kernels/diff_cpu.cpp's p2g_adjoint_particle lane by
// lane): gathers the node adjoints of mass and momentum particle by particle.
template <class T, int D>
inline void p2g_adjoint_batch(const P2GAdjoint<T, D>& k, const int32_t* idx, int w) {
  using Lane = typename Batch<T, D>::Lane;
  constexpr int kBatch = Batch<T, D>::kBatch;
  const P2G<T, D>& fwd = k.fwd;
  const GridSpec<T, D>& g = fwd.g.spec;
  const int n = fwd.p.n;
  const Batch<T, D> b(idx, w);
  Lane bx[D], bv[D], bC[D * D];
  const T *x[D], *v[D], *C[D * D];
  b.template in<D>(fwd.p.x, n, bx, x);
  b.template in<D>(fwd.p.v, n, bv, v);
  b.template in<D * D>(fwd.p.C, n, bC, C);
  const BatchP2G<T, D> pp(fwd, b, x);
  const BatchStencils<T, D>& st = pp.st;
  // the node adjoints over the stencil's rows, particle by particle
  Lane adj_q[D], adj_A[D * D], adj_m, adj_fx[D];
  for (int j = 0; j < kBatch; ++j) {
    Vec<T, D> aq = Vec<T, D>::zero();
    Mat<T, D> aA = Mat<T, D>::zero();
    T am = 0, af[D] = {};
    if (j < w && st.inside[j])
      adj_scatter(pp.at(j), st.at(j), g, k.adj_grid_mass, k.adj_grid_mv, aq, aA, am, af);
    set_lane<T, D>(adj_q, j, aq);
    set_lane<T, D>(adj_A, j, aA);
    adj_m[j] = am;
    for (int c = 0; c < D; ++c) adj_fx[c][j] = af[c];
  }
  // q = m v + e + affine (1 - fx) dx, A = affine dx; affine = scale tau + m C; fx = (x - origin) / dx - base
  Lane bav[D], bax[D], bmass, bvol;
  const T *av0[D], *ax0[D];
  b.template in<D>(k.adj_v, n, bav, av0);
  b.template in<D>(k.adj_x, n, bax, ax0);
  const T* mass = b.in(fwd.p.mass, bmass);
  const T* vol0 = b.in(fwd.p.vol0, bvol);
  Lane ax[D], av[D], aC[D * D], atau[D * D], amass;
  for (int j = 0; j < kBatch; ++j) {
    const T m = mass[j];
    const T scale = -fwd.dt * vol0[j] * T(4) * g.inv_dx * g.inv_dx;
    const Mat<T, D> affine = g.inv_dx * lane_mat<T, D>(pp.A, j);
    Mat<T, D> adj_affine = g.dx * lane_mat<T, D>(adj_A, j);
    Vec<T, D> avj = lane_vec<T, D>(av0, j);
    T a_mass = adj_m[j], af[D];
    for (int c = 0; c < D; ++c) af[c] = adj_fx[c][j];
    for (int a = 0; a < D; ++a) {
      avj[a] += m * adj_q[a][j];
      a_mass += v[a][j] * adj_q[a][j];
      for (int c = 0; c < D; ++c) {
        adj_affine(a, c) += adj_q[a][j] * (T(1) - st.fx[c][j]) * g.dx;
        af[c] -= adj_q[a][j] * affine(a, c) * g.dx;
      }
    }
    a_mass += ddot(adj_affine, lane_mat<T, D>(C, j));
    for (int c = 0; c < D; ++c) ax[c][j] = ax0[c][j] + g.inv_dx * af[c];
    set_lane<T, D>(av, j, avj);
    set_lane<T, D>(aC, j, m * adj_affine);
    set_lane<T, D>(atau, j, scale * adj_affine);
    amass[j] = a_mass;
  }
  for (int c = 0; c < D; ++c) b.add(k.adj_x + c * n, ax[c], st.inside, true);
  for (int c = 0; c < D; ++c) b.add(k.adj_v + c * n, av[c], st.inside, true);
  for (int c = 0; c < D * D; ++c) b.add(k.adj_C + c * n, aC[c], st.inside);
  for (int c = 0; c < D * D; ++c) b.add(k.adj_tau + c * n, atau[c], st.inside, true);
  if (k.adj_force) {
    Lane fq[D];
    for (int c = 0; c < D; ++c)
      for (int j = 0; j < kBatch; ++j) fq[c][j] = fwd.dt * adj_q[c][j];
    for (int c = 0; c < D; ++c) b.add(k.adj_force + c * n, fq[c], st.inside);
  }
  b.add(k.adj_mass, amass, st.inside);
}

}  // namespace ductile::rows
