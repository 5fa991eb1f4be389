// Grid-to-particle transfer (Hu et al. 2018, eq. 17 and 28; Jiang et al. 2015 APIC): gather the particle's
// velocity v_p = sum_i w_ip v_i and affine field C_p = D^-1 sum_i w_ip v_i (x_i - x_p)^T, advect
// x_p += dt v_p and update the trial deformation gradient F_p <- (I + dt C_p) F_p.
#pragma once

#include "core/grid.h"
#include "core/state.h"
#include "core/status.h"
#include "kernels/bspline.h"

namespace ductile {

template <class T, int D>
struct G2P {
  GridView<T, D> g;  // mv holds node velocities after the grid update
  ParticleView<T, D> in;
  ParticleView<T, D> out;  // x, v, C, F written; F is the trial F before plastic projection
  T dt;
  Vec<T, D> lo, hi;  // the domain; a particle leaving it raises kStatusOutOfDomain
  Status* status;

  DUCTILE_HD DUCTILE_INLINE void operator()(int i) const {
    const int n = in.n;
    const int64_t nodes = g.spec.num_nodes();
    Vec<T, D> x = load_vec<T, D>(in.x, n, i);
    Stencil<T, D> st = bspline_stencil(g.spec, x);
    Vec<T, D> v = Vec<T, D>::zero();
    Mat<T, D> B = Mat<T, D>::zero();
    // gather velocity and the APIC matrix
    for_each_stencil_node(st, g.spec.dx, [&](const int* off, T w, const Vec<T, D>& dpos) {
      int c[D];
      for (int d = 0; d < D; ++d) c[d] = st.base[d] + off[d];
      int64_t idx = g.spec.index(c);
      Vec<T, D> gv;
      for (int d = 0; d < D; ++d) gv[d] = g.mv[d * nodes + idx];
      v = v + w * gv;
      B = B + w * outer(gv, dpos);
    });
    Mat<T, D> C = (T(4) * g.spec.inv_dx * g.spec.inv_dx) * B;
    // advect and update F
    Mat<T, D> F = load_mat<T, D>(in.F, n, i);
    Mat<T, D> Fn = (Mat<T, D>::identity() + dt * C) * F;
    Vec<T, D> xn = x + dt * v;
    // faults: non-finite velocity, or a particle outside the domain
    bool finite = true, inside = true;
    for (int d = 0; d < D; ++d) {
      finite = finite && std::isfinite(v[d]) && std::isfinite(xn[d]);
      inside = inside && xn[d] >= lo[d] && xn[d] <= hi[d];
    }
    if (!finite) raise_status(status, kStatusNonFinite, i, kStageG2P);
    else if (!inside) raise_status(status, kStatusOutOfDomain, i, kStageG2P);
    store_vec<T, D>(out.x, n, i, xn);
    store_vec<T, D>(out.v, n, i, v);
    store_mat<T, D>(out.C, n, i, C);
    store_mat<T, D>(out.F, n, i, Fn);
    out.plastic[i] = in.plastic[i];
  }
};

}  // namespace ductile
