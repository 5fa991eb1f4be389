// Grid-to-particle transfer (Hu et al. 2018, eq. 17 and 28; Jiang et al. 2015 APIC): gather the particle's
// velocity v_p = sum_i w_ip v_i and affine field C_p = D^-1 sum_i w_ip v_i (x_i - x_p)^T, advect
// x_p += dt v_p and update the trial deformation gradient F_p <- (I + dt C_p) F_p.
//
// The gather is separable. With x_i - x_p = ((o - 1) - (fx - 1)) dx for the stencil offset o in {0, 1, 2}^D,
//   sum_i w v_i (x_i - x_p)^T = dx (S - v_p (fx - 1)^T),   S = sum_i w v_i (o - 1)^T,
// so C_p = 4 / dx (S - v_p (fx - 1)^T).
#pragma once

#include <cmath>
#include <limits>

#include "core/grid.h"
#include "core/state.h"
#include "core/status.h"
#include "kernels/bspline.h"
#include "kernels/p2g.h"

namespace ductile {

// C_p = 4 / dx (S - v (fx - 1)^T) from the gathered velocity v and first moment S = sum_i w v_i (o - 1)^T.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Mat<T, D> g2p_affine(T inv_dx, const Vec<T, D>& v, const Mat<T, D>& S,
                                               const T* fx) {
  Mat<T, D> C;
  const T k = T(4) * inv_dx;
  for (int a = 0; a < D; ++a)
    for (int b = 0; b < D; ++b) C(a, b) = k * (S(a, b) - v[a] * (fx[b] - T(1)));
  return C;
}

// Advection x + dt v and trial deformation gradient (I + dt C) F.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE void g2p_advect(T dt, const Vec<T, D>& x, const Vec<T, D>& v, const Mat<T, D>& C,
                                          const Mat<T, D>& F, Vec<T, D>& xn, Mat<T, D>& Fn) {
  for (int a = 0; a < D; ++a) xn[a] = x[a] + dt * v[a];
  for (int a = 0; a < D; ++a)
    for (int b = 0; b < D; ++b) {
      T s = F(a, b);
      for (int c = 0; c < D; ++c) s += dt * C(a, c) * F(c, b);
      Fn(a, b) = s;
    }
}

// The fault of a G2P result: kStatusNonFinite, kStatusOutOfDomain (outside [lo, hi]) or 0.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE uint32_t g2p_fault(const Vec<T, D>& v, const Vec<T, D>& xn, const Vec<T, D>& lo,
                                             const Vec<T, D>& hi) {
  // branch-free, so that loops over particles vectorize (|x| <= max is false for NaN and infinities)
  const T big = std::numeric_limits<T>::max();
  uint32_t finite = 1, inside = 1;
  for (int d = 0; d < D; ++d) {
    finite &= uint32_t(std::fabs(v[d]) <= big) & uint32_t(std::fabs(xn[d]) <= big);
    inside &= uint32_t(xn[d] >= lo[d]) & uint32_t(xn[d] <= hi[d]);
  }
  return (1u - finite) * kStatusNonFinite + (finite & (1u - inside)) * kStatusOutOfDomain;
}

// G2P's default: the trial F goes out as it is (the projection runs as its own stage).
struct NoProjection {
  template <class F, class T>
  DUCTILE_HD DUCTILE_INLINE void operator()(int, F&, T&) const {}
};

// G2P's default visit of the stencil: the dense grid's node indices, stepped along rows (the CUDA backend's
// sparse grid passes its own, kernels/cuda_grid.h).
struct DenseStencil {
  template <class T, int D, class Fn>
  DUCTILE_HD DUCTILE_INLINE void visit(const Stencil<T, D>& s, const GridSpec<T, D>& g, Fn&& fn) const {
    for_each_stencil_index(s, g, fn);
  }
  template <class T, int D>
  DUCTILE_HD DUCTILE_INLINE int64_t stride(const GridSpec<T, D>& g) const {
    return g.num_nodes();
  }
};

template <class T, int D>
struct G2P {
  GridView<T, D> g;  // mv holds node velocities after the grid update
  ParticleView<T, D> in;
  ParticleView<T, D> out;  // x, v, C, F written; F is the trial F before plastic projection
  T dt;
  Vec<T, D> lo, hi;  // the domain; a particle leaving it raises kStatusOutOfDomain
  Status* status;
  // Per-particle constants carried along when particle i is written to another slot o (the CPU backend stores
  // particles in cell order): out's mass, volume, material and the particle's id (its index in the State).
  T* out_mass = nullptr;
  T* out_vol0 = nullptr;
  int32_t* out_material = nullptr;
  const int32_t* in_id = nullptr;
  int32_t* out_id = nullptr;
  // The material's projection across particle batches (CPU backend, every particle of one material): out.F
  // and out.plastic are then the projected ones (materials/material_lanes.h).
  const MaterialLanes<T, D>* lanes = nullptr;

  // C_p from the gathered velocity v and first moment S = sum_i w v_i (o - 1)^T (see the header).
  DUCTILE_HD DUCTILE_INLINE Mat<T, D> affine(const Vec<T, D>& v, const Mat<T, D>& S, const T* fx) const {
    return g2p_affine(g.spec.inv_dx, v, S, fx);
  }

  // Advects particle i with the gathered v and C, updates F, lets project(o, F, plastic) change the trial F
  // and plastic state (the CUDA backend's fused projection; by default nothing) and writes the result to slot
  // o of out.
  template <class Project = NoProjection>
  DUCTILE_HD DUCTILE_INLINE void finish(int i, int o, const Vec<T, D>& x, const Vec<T, D>& v,
                                        const Mat<T, D>& C, const Project& project = Project{}) const {
    const int n = in.n;
    Vec<T, D> xn;
    Mat<T, D> Fn;
    g2p_advect(dt, x, v, C, load_mat<T, D>(in.F, n, i), xn, Fn);
    if (uint32_t bit = g2p_fault(v, xn, lo, hi)) raise_status(status, bit, i, kStageG2P);
    T plastic = in.plastic[i];
    project(o, Fn, plastic);
    store_vec<T, D>(out.x, n, o, xn);
    store_vec<T, D>(out.v, n, o, v);
    store_mat<T, D>(out.C, n, o, C);
    store_mat<T, D>(out.F, n, o, Fn);
    out.plastic[o] = plastic;
  }

  // Copies particle i's constants to slot o of out (for the pointers that are set).
  DUCTILE_HD DUCTILE_INLINE void carry(int i, int o) const {
    if (out_mass) out_mass[o] = in.mass[i];
    if (out_vol0) out_vol0[o] = in.vol0[i];
    if (out_material) out_material[o] = in.material[i];
    if (out_id) out_id[o] = in_id[i];
  }

  // Particle i, gathered node by node (the stencil's nodes as nodes_of visits them), written to slot o with
  // its constants.
  template <class Project = NoProjection, class Nodes = DenseStencil>
  DUCTILE_HD DUCTILE_INLINE void operator()(int i, int o, const Project& project = Project{},
                                            const Nodes& nodes_of = Nodes{}) const {
    const int64_t nodes = nodes_of.stride(g.spec);
    Vec<T, D> x = load_vec<T, D>(in.x, in.n, i);
    Stencil<T, D> st = bspline_stencil(g.spec, x);
    Vec<T, D> v = Vec<T, D>::zero();
    Mat<T, D> S = Mat<T, D>::zero();
    if (stencil_inside(g.spec, st.base)) {
      // gather velocity and its first moment
      nodes_of.visit(st, g.spec, [&](const int* off, T w, int64_t idx) {
        for (int a = 0; a < D; ++a) {
          const T t = w * g.mv[a * nodes + idx];
          v[a] += t;
          for (int b = 0; b < D; ++b) S(a, b) += t * T(off[b] - 1);
        }
      });
    } else {
      raise_status(status, kStatusOutOfDomain, i, kStageG2P);
    }
    finish(i, o, x, v, affine(v, S, st.fx), project);
    carry(i, o);
  }
  DUCTILE_HD DUCTILE_INLINE void operator()(int i) const { (*this)(i, i); }
};

// Adjoint of G2P for particle i: from the adjoints of its outputs (x, v, C and trial F, read from adj_out),
// accumulates those of its input x and F (into adj_x, adj_F) and scatters those of the node velocities
// through add(pointer, value) (atomic on the GPU; the CPU orders particles so that adds never race).
//   x' = x + dt v, F' = F + dt C F        => adj v += dt adj x', adj C += dt adj F' F^T, adj F = (I + dt C)^T
//   adj F' C = k (S - v (fx - 1)^T), k = 4 / dx  => adj S = k adj C, adj v -= k adj C (fx - 1), adj fx_b -= k
//   (adj C^T v)_b v = sum w v_o, S = sum w v_o (o - 1)^T => adj v_o += w (adj v + adj S (o - 1)), adj w = v_o
//   . (same)
// The scatter has the P2G form q + A (o - 1) with q = adj v, A = adj S and no mass.
template <class T, int D>
struct G2PAdjoint {
  GridView<T, D> g;  // node velocities after the grid update
  ParticleView<T, D> in;
  T dt;
  ParticleView<T, D> adj_out;  // adjoints of the step's outputs x, v, C, F (trial)
  T* adj_x;                    // += adjoint of the input x
  T* adj_F;                    // += adjoint of the input F
  T* adj_grid_v;               // += adjoint of the node velocities, D components per node
  // The forward G2P's outputs v and C (SoA, like adj_out.v and adj_out.C), when kept: they spare the gather.
  const T* fwd_v = nullptr;
  const T* fwd_C = nullptr;

  template <class Add>
  DUCTILE_HD DUCTILE_INLINE void operator()(int i, Add&& add) const {
    const int n = in.n;
    const int64_t nodes = g.spec.num_nodes();
    const Vec<T, D> x = load_vec<T, D>(in.x, n, i);
    const Stencil<T, D> st = bspline_stencil(g.spec, x);
    if (!stencil_inside(g.spec, st.base)) return;  // the forward pass raised kStatusOutOfDomain
    // the gathered v and C: kept by the forward pass, or gathered again
    Vec<T, D> v = Vec<T, D>::zero();
    Mat<T, D> C;
    if (fwd_v) {
      v = load_vec<T, D>(fwd_v, n, i);
      C = load_mat<T, D>(fwd_C, n, i);
    } else {
      Mat<T, D> S = Mat<T, D>::zero();
      for_each_stencil_index(st, g.spec, [&](const int* o, T w, int64_t idx) {
        for (int a = 0; a < D; ++a) {
          const T t = w * g.mv[a * nodes + idx];
          v[a] += t;
          for (int b = 0; b < D; ++b) S(a, b) += t * T(o[b] - 1);
        }
      });
      C = g2p_affine(g.spec.inv_dx, v, S, st.fx);
    }
    const Mat<T, D> F = load_mat<T, D>(in.F, n, i);
    const Mat<T, D> aFn = load_mat<T, D>(adj_out.F, n, i);
    // advection and trial F
    Vec<T, D> ax = load_vec<T, D>(adj_out.x, n, i);
    Vec<T, D> av = load_vec<T, D>(adj_out.v, n, i) + dt * ax;
    Mat<T, D> aC = load_mat<T, D>(adj_out.C, n, i) + dt * (aFn * transpose(F));
    Mat<T, D> aF = aFn + dt * (transpose(C) * aFn);
    // C from v and S
    const T k = T(4) * g.spec.inv_dx;
    Mat<T, D> aS = k * aC;
    Vec<T, D> afx = Vec<T, D>::zero();
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) {
        av[a] -= k * aC(a, b) * (st.fx[b] - T(1));
        afx[b] -= k * aC(a, b) * v[a];
      }
    // gather's weights (through fx) and the node velocities' adjoints
    P2GParticle<T, D> pp;
    for (int d = 0; d < D; ++d) {
      pp.base[d] = st.base[d];
      for (int a = 0; a < 3; ++a) pp.w[d][a] = st.w[d][a];
    }
    pp.m = 0;
    pp.q = av;
    pp.A = aS;
    for_each_stencil_index(st, g.spec, [&](const int* o, T, int64_t idx) {
      T dw[D];
      stencil_weight<T, D>(st.w, st.dw, o, dw);
      T aw = 0;
      for (int a = 0; a < D; ++a) {
        T t = av[a];
        for (int b = 0; b < D; ++b) t += aS(a, b) * T(o[b] - 1);
        aw += g.mv[a * nodes + idx] * t;
      }
      for (int d = 0; d < D; ++d) afx[d] += aw * dw[d];
    });
    scatter_particle(pp, g.spec, static_cast<T*>(nullptr), adj_grid_v, add);
    for (int d = 0; d < D; ++d) ax[d] += g.spec.inv_dx * afx[d];
    store_vec<T, D>(adj_x, n, i, load_vec<T, D>(adj_x, n, i) + ax);
    store_mat<T, D>(adj_F, n, i, load_mat<T, D>(adj_F, n, i) + aF);
  }
};

}  // namespace ductile
