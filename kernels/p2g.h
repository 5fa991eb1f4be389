// Particle-to-grid transfer of MLS-MPM (Hu et al. 2018, "A moving least squares material point method",
// eq. 29): each particle scatters mass m_p and momentum m_p v_p + A_p (x_i - x_p) with the affine matrix
// A_p = -dt V0_p D^-1 tau_p + m_p C_p, D^-1 = 4 / dx^2 for quadratic B-splines.
//
// The per-particle part is computed once (P2GParticle). With x_i - x_p = ((o - 1) + (1 - fx)) dx for the
// stencil offset o in {0, 1, 2}^D, the momentum given to node base + o is q + A' (o - 1), where
//   q = m v + A_p (1 - fx) dx,   A' = A_p dx,
// so each node costs D multiply-adds per axis step.
#pragma once

#include "core/grid.h"
#include "core/state.h"
#include "core/status.h"
#include "kernels/bspline.h"
#include "materials/material_lanes.h"

namespace ductile {

// What one particle scatters: stencil, mass and the affine momentum field q + A (o - 1).
template <class T, int D>
struct P2GParticle {
  int base[D];  // lowest stencil node
  T w[D][3];    // per-axis quadratic B-spline weights
  T m;          // mass [kg]
  Vec<T, D> q;  // momentum given to the stencil's centre offset o = 1 [kg m/s]
  Mat<T, D> A;  // momentum change per unit offset, A_p dx [kg m/s]
};

// What a particle with stencil st (at x), velocity v, affine field C, Kirchhoff stress tau, mass m and volume
// vol0 scatters (a pure function: the CPU backend runs it across batches of particles).
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE P2GParticle<T, D> p2g_particle_at(const GridSpec<T, D>& g, const Stencil<T, D>& st,
                                                            T dt, const Vec<T, D>& v, const Mat<T, D>& C,
                                                            const Mat<T, D>& tau, T m, T vol0) {
  P2GParticle<T, D> r;
  for (int d = 0; d < D; ++d) {
    r.base[d] = st.base[d];
    for (int a = 0; a < 3; ++a) r.w[d][a] = st.w[d][a];
  }
  r.m = m;
  // affine momentum matrix, eq. 29
  const T scale = -dt * vol0 * T(4) * g.inv_dx * g.inv_dx;
  Mat<T, D> affine;
  for (int a = 0; a < D; ++a)
    for (int b = 0; b < D; ++b) affine(a, b) = scale * tau(a, b) + m * C(a, b);
  // momentum at the centre offset: m v + affine (1 - fx) dx
  for (int a = 0; a < D; ++a) {
    T s = m * v[a];
    for (int b = 0; b < D; ++b) s += affine(a, b) * ((T(1) - st.fx[b]) * g.dx);
    r.q[a] = s;
  }
  r.A = g.dx * affine;
  return r;
}

// The same for a particle at x, with the B-spline stencil of x.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE P2GParticle<T, D> p2g_particle(const GridSpec<T, D>& g, T dt, const Vec<T, D>& x,
                                                         const Vec<T, D>& v, const Mat<T, D>& C,
                                                         const Mat<T, D>& tau, T m, T vol0) {
  return p2g_particle_at(g, bspline_stencil(g, x), dt, v, C, tau, m, vol0);
}

// Stencil weight of offset o and its gradient with respect to fx (per axis: dw_d(o_d) times the other axes'
// weights).
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE T stencil_weight(const T (*w)[3], const T (*dw)[3], const int* o, T* dw_dfx) {
  T wo = T(1);
  for (int d = 0; d < D; ++d) {
    wo *= w[d][o[d]];
    T g = dw[d][o[d]];
    for (int e = 0; e < D; ++e)
      if (e != d) g *= w[e][o[e]];
    dw_dfx[d] = g;
  }
  return wo;
}

// Adjoint of p2g_particle followed by the scatter, gathered from the grid adjoints: with adj_m(o) and
// adj_q(o) the adjoints of node o's mass and momentum, accumulates (+=) the adjoints of x, v, C, tau, the
// extra momentum e (see P2G::force) and m. Node o received w_o m and w_o (q + A (o - 1)), so
//   adj q = sum w_o adj_q(o),  adj A = sum w_o adj_q(o) (o - 1)^T,
//   adj w_o = adj_m(o) m + adj_q(o) . (q + A (o - 1))   (w depends on x through fx),
// then q = m v + e + affine (1 - fx) dx, A = affine dx, affine = scale tau + m C (eq. 29).
template <class T, int D, class Node>
DUCTILE_HD DUCTILE_INLINE void adj_p2g_particle(const GridSpec<T, D>& g, T dt, const Vec<T, D>& x,
                                                const Vec<T, D>& v, const Mat<T, D>& C, const Mat<T, D>& tau,
                                                T m, T vol0, const Vec<T, D>& e, Node&& node,
                                                Vec<T, D>& adj_x, Vec<T, D>& adj_v, Mat<T, D>& adj_C,
                                                Mat<T, D>& adj_tau, Vec<T, D>& adj_e, T& adj_m) {
  P2GParticle<T, D> pp = p2g_particle(g, dt, x, v, C, tau, m, vol0);
  for (int k = 0; k < D; ++k) pp.q[k] += e[k];
  Stencil<T, D> st = bspline_stencil(g, x);
  const T scale = -dt * vol0 * T(4) * g.inv_dx * g.inv_dx;
  Mat<T, D> affine = g.inv_dx * pp.A;
  Vec<T, D> adj_q = Vec<T, D>::zero(), adj_fx = Vec<T, D>::zero();
  Mat<T, D> adj_A = Mat<T, D>::zero();
  T adj_mass = 0;
  // gather the node adjoints over the stencil
  for_each_stencil_node(st, g.dx, [&](const int* o, T, const Vec<T, D>&) {
    int c[D];
    for (int d = 0; d < D; ++d) c[d] = st.base[d] + o[d];
    T am;
    Vec<T, D> aq;
    node(c, am, aq);
    T dw[D];
    const T w = stencil_weight<T, D>(st.w, st.dw, o, dw);
    Vec<T, D> val = pp.q;
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) val[a] += pp.A(a, b) * T(o[b] - 1);
    const T adj_w = am * m + dot(aq, val);
    for (int d = 0; d < D; ++d) adj_fx[d] += adj_w * dw[d];
    adj_mass += w * am;
    for (int a = 0; a < D; ++a) {
      adj_q[a] += w * aq[a];
      for (int b = 0; b < D; ++b) adj_A(a, b) += w * aq[a] * T(o[b] - 1);
    }
  });
  // q = m v + e + affine (1 - fx) dx, A = affine dx
  Mat<T, D> adj_affine = g.dx * adj_A;
  for (int a = 0; a < D; ++a) {
    adj_v[a] += m * adj_q[a];
    adj_e[a] += adj_q[a];
    adj_mass += v[a] * adj_q[a];
    for (int b = 0; b < D; ++b) {
      adj_affine(a, b) += adj_q[a] * (T(1) - st.fx[b]) * g.dx;
      adj_fx[b] -= adj_q[a] * affine(a, b) * g.dx;
    }
  }
  // affine = scale tau + m C; fx = (x - origin) / dx - base
  adj_tau = adj_tau + scale * adj_affine;
  adj_C = adj_C + m * adj_affine;
  adj_mass += ddot(adj_affine, C);
  adj_m += adj_mass;
  for (int d = 0; d < D; ++d) adj_x[d] += g.inv_dx * adj_fx[d];
}

// Visits what one particle scatters, node by node: fn(c, w, qo) for stencil node c with weight w, which
// receives mass w m and momentum w qo, qo = q + A (o - 1).
template <class T, int D, class Fn>
DUCTILE_HD DUCTILE_INLINE void for_each_scatter_node(const P2GParticle<T, D>& pp, Fn&& fn) {
  int c[D];
  const int rows = D == 2 ? 3 : 9;
  DUCTILE_UNROLL
  for (int r = 0; r < rows; ++r) {
    // row r: offsets (a) in 2D or (a, b) in 3D, then the last axis' three nodes
    const int a = D == 2 ? r : r / 3, b = r % 3;
    T wr = pp.w[0][a];
    Vec<T, D> qr = pp.q;
    for (int k = 0; k < D; ++k) qr[k] = qr[k] + pp.A(k, 0) * T(a - 1);
    if (D == 3) {
      wr = wr * pp.w[1][b];
      for (int k = 0; k < D; ++k) qr[k] = qr[k] + pp.A(k, 1) * T(b - 1);
    }
    DUCTILE_UNROLL
    for (int cz = 0; cz < 3; ++cz) {
      c[0] = pp.base[0] + a;
      if (D == 3) c[1] = pp.base[1] + b;
      c[D - 1] = pp.base[D - 1] + cz;
      Vec<T, D> qo;
      for (int k = 0; k < D; ++k) qo[k] = qr[k] + pp.A(k, D - 1) * T(cz - 1);
      fn(c, wr * pp.w[D - 1][cz], qo);
    }
  }
}

// Adds what one particle scatters to its stencil node by node through add(pointer, value) (mass only where
// mass is not null).
template <class T, int D, class Add>
DUCTILE_HD DUCTILE_INLINE void scatter_particle(const P2GParticle<T, D>& pp, const GridSpec<T, D>& spec,
                                                T* mass, T* mv, Add&& add) {
  const int64_t nodes = spec.num_nodes();
  for_each_scatter_node(pp, [&](const int* c, T w, const Vec<T, D>& qo) {
    const int64_t idx = spec.index(c);
    if (mass) add(mass + idx, w * pp.m);
    for (int k = 0; k < D; ++k) add(mv + k * nodes + idx, w * qo[k]);
  });
}

template <class T, int D>
struct P2G {
  ParticleView<T, D> p;
  const T* tau;  // Kirchhoff stress per particle, D*D SoA components [Pa]
  GridView<T, D> g;
  T dt;
  Status* status = nullptr;  // a particle whose stencil leaves the grid raises kStatusOutOfDomain (if set)
  // External force per particle, D SoA components [N], adding dt f to the particle's momentum (null: none;
  // the gradient engine's transfers only, the fast CPU backend refuses it).
  const T* force = nullptr;
  // The material's stress across particle batches (CPU backend, every particle of one material): tau is
  // then not read but computed from F, C and plastic inside the scatter (materials/material_lanes.h).
  const MaterialLanes<T, D>* lanes = nullptr;

  // Stencil, mass and affine momentum of particle i with Kirchhoff stress tau_i (eq. 29).
  DUCTILE_HD DUCTILE_INLINE P2GParticle<T, D> particle(int i, const Mat<T, D>& tau_i) const {
    const int n = p.n;
    P2GParticle<T, D> r = p2g_particle(g.spec, dt, load_vec<T, D>(p.x, n, i), load_vec<T, D>(p.v, n, i),
                                       load_mat<T, D>(p.C, n, i), tau_i, p.mass[i], p.vol0[i]);
    if (force)
      for (int k = 0; k < D; ++k) r.q[k] += dt * force[k * n + i];
    return r;
  }
  // The same with the stress from tau.
  DUCTILE_HD DUCTILE_INLINE P2GParticle<T, D> particle(int i) const {
    return particle(i, load_mat<T, D>(tau, p.n, i));
  }

  // Scatters particle i node by node through add(pointer, value): an atomic add on the GPU. (The CPU backend
  // scatters rows of nodes from particle(i) itself, race-free by ordering.)
  template <class Add>
  DUCTILE_HD DUCTILE_INLINE void operator()(int i, Add&& add) const {
    P2GParticle<T, D> pp = particle(i);
    if (!stencil_inside(g.spec, pp.base)) {
      if (status) raise_status(status, kStatusOutOfDomain, i, kStageP2G);
      return;
    }
    scatter_particle(pp, g.spec, g.mass, g.mv, add);
  }
};

// Adjoint of P2G for particle i, gathered (no races): from the grid adjoints of mass and momentum,
// accumulates the adjoints of the particle's x, v, C, tau (written, not accumulated: the stress adjoint
// starts here), force (dt times the momentum adjoint) and mass.
template <class T, int D>
struct P2GAdjoint {
  P2G<T, D> fwd;
  const T* adj_grid_mass;
  const T* adj_grid_mv;
  T* adj_x;
  T* adj_v;
  T* adj_C;
  T* adj_tau;
  T* adj_force = nullptr;  // may be null
  T* adj_mass;

  DUCTILE_HD DUCTILE_INLINE void operator()(int i) const {
    const int n = fwd.p.n;
    const int64_t nodes = fwd.g.spec.num_nodes();
    Stencil<T, D> st = bspline_stencil(fwd.g.spec, load_vec<T, D>(fwd.p.x, n, i));
    if (!stencil_inside(fwd.g.spec, st.base)) return;  // the forward pass raised kStatusOutOfDomain
    Vec<T, D> e = Vec<T, D>::zero();
    if (fwd.force)
      for (int k = 0; k < D; ++k) e[k] = fwd.dt * fwd.force[k * n + i];
    Vec<T, D> ax = load_vec<T, D>(adj_x, n, i), av = load_vec<T, D>(adj_v, n, i), ae = Vec<T, D>::zero();
    Mat<T, D> aC = load_mat<T, D>(adj_C, n, i), at = Mat<T, D>::zero();
    T am = adj_mass[i];
    adj_p2g_particle(
        fwd.g.spec, fwd.dt, load_vec<T, D>(fwd.p.x, n, i), load_vec<T, D>(fwd.p.v, n, i),
        load_mat<T, D>(fwd.p.C, n, i), load_mat<T, D>(fwd.tau, n, i), fwd.p.mass[i], fwd.p.vol0[i], e,
        [&](const int* c, T& m_adj, Vec<T, D>& q_adj) {
          const int64_t idx = fwd.g.spec.index(c);
          m_adj = adj_grid_mass[idx];
          for (int k = 0; k < D; ++k) q_adj[k] = adj_grid_mv[k * nodes + idx];
        },
        ax, av, aC, at, ae, am);
    store_vec<T, D>(adj_x, n, i, ax);
    store_vec<T, D>(adj_v, n, i, av);
    store_mat<T, D>(adj_C, n, i, aC);
    store_mat<T, D>(adj_tau, n, i, at);
    if (adj_force)
      for (int k = 0; k < D; ++k) adj_force[k * n + i] += fwd.dt * ae[k];
    adj_mass[i] = am;
  }
};

}  // namespace ductile
