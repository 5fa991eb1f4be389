// Particle-to-grid transfer of MLS-MPM (Hu et al. 2018, "A moving least squares material point method",
// eq. 29): each particle scatters mass m_p and momentum m_p v_p + A_p (x_i - x_p) with the affine matrix
// A_p = -dt V0_p D^-1 tau_p + m_p C_p, D^-1 = 4 / dx^2 for quadratic B-splines.
#pragma once

#include "core/grid.h"
#include "core/state.h"
#include "kernels/bspline.h"

namespace ductile {

template <class T, int D>
struct P2G {
  ParticleView<T, D> p;
  const T* tau;  // Kirchhoff stress per particle, D*D SoA components [Pa]
  GridView<T, D> g;
  T dt;

  // Scatters particle i through add(pointer, value): a plain += on the CPU (race-free by ordering), an
  // atomic add on the GPU.
  template <class Add>
  DUCTILE_HD DUCTILE_INLINE void operator()(int i, Add&& add) const {
    const int n = p.n;
    const int64_t nodes = g.spec.num_nodes();
    Vec<T, D> x = load_vec<T, D>(p.x, n, i);
    Vec<T, D> v = load_vec<T, D>(p.v, n, i);
    Mat<T, D> C = load_mat<T, D>(p.C, n, i);
    Mat<T, D> s = load_mat<T, D>(tau, n, i);
    const T m = p.mass[i];
    // affine momentum matrix, eq. 29
    Mat<T, D> affine = (-dt * p.vol0[i] * T(4) * g.spec.inv_dx * g.spec.inv_dx) * s + m * C;
    Vec<T, D> mv = m * v;
    Stencil<T, D> st = bspline_stencil(g.spec, x);
    for_each_stencil_node(st, g.spec.dx, [&](const int* off, T w, const Vec<T, D>& dpos) {
      int c[D];
      for (int d = 0; d < D; ++d) c[d] = st.base[d] + off[d];
      int64_t idx = g.spec.index(c);
      Vec<T, D> mom = mv + affine * dpos;
      add(g.mass + idx, w * m);
      for (int d = 0; d < D; ++d) add(g.mv + d * nodes + idx, w * mom[d]);
    });
  }
};

}  // namespace ductile
