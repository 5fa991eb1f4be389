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

// What a particle at x with velocity v, affine field C, Kirchhoff stress tau, mass m and volume vol0 scatters
// (a pure function: the CPU backend runs it across batches of particles).
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE P2GParticle<T, D> p2g_particle(const GridSpec<T, D>& g, T dt, const Vec<T, D>& x,
                                                         const Vec<T, D>& v, const Mat<T, D>& C,
                                                         const Mat<T, D>& tau, T m, T vol0) {
  P2GParticle<T, D> r;
  Stencil<T, D> st = bspline_stencil(g, x);
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

template <class T, int D>
struct P2G {
  ParticleView<T, D> p;
  const T* tau;  // Kirchhoff stress per particle, D*D SoA components [Pa]
  GridView<T, D> g;
  T dt;
  Status* status = nullptr;  // a particle whose stencil leaves the grid raises kStatusOutOfDomain (if set)

  // Stencil, mass and affine momentum of particle i (eq. 29).
  DUCTILE_HD DUCTILE_INLINE P2GParticle<T, D> particle(int i) const {
    const int n = p.n;
    return p2g_particle(g.spec, dt, load_vec<T, D>(p.x, n, i), load_vec<T, D>(p.v, n, i),
                        load_mat<T, D>(p.C, n, i), load_mat<T, D>(tau, n, i), p.mass[i], p.vol0[i]);
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
    const int64_t nodes = g.spec.num_nodes();
    int c[D];
    const int rows = D == 2 ? 3 : 9;
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
      for (int cz = 0; cz < 3; ++cz) {
        c[0] = pp.base[0] + a;
        if (D == 3) c[1] = pp.base[1] + b;
        c[D - 1] = pp.base[D - 1] + cz;
        const int64_t idx = g.spec.index(c);
        const T w = wr * pp.w[D - 1][cz];
        add(g.mass + idx, w * pp.m);
        for (int k = 0; k < D; ++k) add(g.mv + k * nodes + idx, w * (qr[k] + pp.A(k, D - 1) * T(cz - 1)));
      }
    }
  }
};

}  // namespace ductile
