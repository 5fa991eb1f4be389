// Grid update: momentum to velocity, gravity, then boundary conditions (domain walls and colliders).
#pragma once

#include <cmath>

#include "core/grid.h"
#include "kernels/collider.h"

namespace ductile {

// Boundary condition on a velocity relative to a surface with outward normal n (Stomakhin et al. 2013, sec.
// 8): sticky takes the surface velocity; slip removes the normal component; separate removes it only when the
// material moves into the surface. Slip and separate apply Coulomb friction to the tangential part:
// |v_t| <- max(0, |v_t| - mu |v_n|).
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, D> apply_surface(Surface s, T mu, const Vec<T, D>& v_rel,
                                                  const Vec<T, D>& n) {
  if (s == Surface::kSticky) return Vec<T, D>::zero();
  T vn = dot(v_rel, n);
  if (s == Surface::kSeparate && vn >= T(0)) return v_rel;
  Vec<T, D> vt = v_rel - vn * n;
  T vt_norm = norm(vt);
  if (mu > T(0) && vt_norm > T(0)) {
    T scale = T(1) + mu * (vn < T(0) ? vn : -vn) / vt_norm;
    vt = (scale > T(0) ? scale : T(0)) * vt;
  }
  return vt;
}

// Adjoint of apply_surface: from adj_out, accumulates (+=) the adjoints of v_rel, the normal n and mu. The
// sticky and separating branches and the friction clamp (scale <= 0) are differentiated piecewise: each
// branch's own derivative, none across the switch (docs/GRADIENTS.md).
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE void adj_apply_surface(Surface s, T mu, const Vec<T, D>& v_rel, const Vec<T, D>& n,
                                                 const Vec<T, D>& adj_out, Vec<T, D>& adj_v_rel,
                                                 Vec<T, D>& adj_n, T& adj_mu) {
  if (s == Surface::kSticky) return;
  const T vn = dot(v_rel, n);
  if (s == Surface::kSeparate && vn >= T(0)) {
    adj_v_rel = adj_v_rel + adj_out;
    return;
  }
  const Vec<T, D> vt = v_rel - vn * n;
  const T vt_norm = norm(vt);
  Vec<T, D> adj_vt = adj_out;
  T adj_vn = 0;
  if (mu > T(0) && vt_norm > T(0)) {
    // out = scale vt with scale = 1 - mu |vn| / |vt|, clamped at 0
    const T avn = vn < T(0) ? -vn : vn;
    const T scale = T(1) - mu * avn / vt_norm;
    if (!(scale > T(0))) return;
    const T a = dot(adj_out, vt);
    adj_vt = scale * adj_out + (a * mu * avn / (vt_norm * vt_norm * vt_norm)) * vt;
    adj_vn = -a * mu * (vn < T(0) ? T(-1) : T(1)) / vt_norm;
    adj_mu += -a * avn / vt_norm;
  }
  // vt = v - vn n, vn = v . n
  adj_vn -= dot(adj_vt, n);
  adj_v_rel = adj_v_rel + adj_vt + adj_vn * n;
  adj_n = adj_n + adj_vn * v_rel - vn * adj_vt;
}

// Domain walls: nodes within `cells` of a face of [lo, hi] (in node index) get that face's condition.
template <class T, int D>
struct WallData {
  int lo[D];  // first node index inside the domain per axis
  int hi[D];  // last node index inside the domain per axis
  int cells = 3;
  Surface surface = Surface::kSlip;
  T friction = 0;
};

template <class T, int D>
struct GridUpdate {
  GridView<T, D> g;
  Vec<T, D> gravity;
  T dt;
  WallData<T, D> walls;
  const ColliderData<T, D>* colliders;
  int num_colliders;
  T* v_out = nullptr;  // where the velocities go (null: over the momentum in g.mv)

  DUCTILE_HD DUCTILE_INLINE void operator()(int64_t idx) const {
    const int64_t nodes = g.spec.num_nodes();
    T* out = v_out ? v_out : g.mv;
    int c[D];
    int64_t rest = idx;
    for (int d = D - 1; d >= 0; --d) {
      c[d] = int(rest % g.spec.res[d]);
      rest /= g.spec.res[d];
    }
    Vec<T, D> mv;
    for (int d = 0; d < D; ++d) mv[d] = g.mv[d * nodes + idx];
    const Vec<T, D> v = velocity(c, g.mass[idx], mv);
    for (int d = 0; d < D; ++d) out[d * nodes + idx] = v[d];
  }

  // The updated velocity of node c with mass m and momentum mv (zero where there is no mass).
  DUCTILE_HD DUCTILE_INLINE Vec<T, D> velocity(const int* c, T m, const Vec<T, D>& mv) const {
    if (!(m > T(0))) return Vec<T, D>::zero();
    // momentum -> velocity, plus gravity
    Vec<T, D> v;
    for (int d = 0; d < D; ++d) v[d] = mv[d] / m + dt * gravity[d];
    // colliders, in scene order
    Vec<T, D> xn = g.spec.node_position(c);
    for (int k = 0; k < num_colliders; ++k) {
      Vec<T, D> nrm;
      T phi = collider_phi(colliders[k], xn, nrm);
      if (phi < T(0)) {
        Vec<T, D> vc = collider_velocity(colliders[k], xn);
        v = vc + apply_surface(colliders[k].surface, colliders[k].friction, v - vc, nrm);
      }
    }
    // domain walls, one face at a time (the inward normal points into the domain)
    DUCTILE_UNROLL
    for (int d = 0; d < D; ++d) {
      Vec<T, D> nrm = Vec<T, D>::zero();
      if (c[d] < walls.lo[d] + walls.cells) {
        nrm[d] = T(1);
        v = apply_surface(walls.surface, walls.friction, v, nrm);
      } else if (c[d] > walls.hi[d] - walls.cells) {
        nrm[d] = T(-1);
        v = apply_surface(walls.surface, walls.friction, v, nrm);
      }
    }
    return v;
  }
};

// Layout of the grid update's parameter adjoints: gravity (D), wall friction (1), then per collider its
// linear velocity (D), translation (D), friction (1), angular velocity (1 in 2D: about z; 3 in 3D) and
// rotation R (D x D, row-major, as a general matrix).
template <int D>
struct GridParamLayout {
  static constexpr int kGravity = 0;
  static constexpr int kWallFriction = D;
  static constexpr int kColliderBase = D + 1;
  static constexpr int kOmega = D == 2 ? 1 : 3;
  static constexpr int kPerCollider = 2 * D + 1 + kOmega + D * D;
  static constexpr int size(int colliders) { return kColliderBase + kPerCollider * colliders; }
  static constexpr int lin(int k) { return kColliderBase + kPerCollider * k; }
  static constexpr int trans(int k) { return lin(k) + D; }
  static constexpr int friction(int k) { return lin(k) + 2 * D; }
  static constexpr int omega(int k) { return friction(k) + 1; }
  static constexpr int rot(int k) { return omega(k) + kOmega; }
};

// Adjoint of GridUpdate, one row of nodes along the last axis per call (rows are independent; nodes
// z_lo..z_hi of it): from the adjoints of the updated velocities adj_v, writes those of the momentum and mass
// (adj_mv, adj_mass) and adds each parameter's adjoint summed over the row into row_params[row * P + j] (P =
// GridParamLayout size): a fixed-order partial sum that a second pass reduces, so results do not depend on
// the thread count. The chain v0 = mv / m + dt g, then each collider and wall face in order, is replayed per
// node; the adjoint walks it backwards, recomputing each stage's input (stages are few).
template <class T, int D>
struct GridUpdateAdjoint {
  GridUpdate<T, D> fwd;  // fwd.g.mv holds the momentum before the update (fwd.v_out is not used)
  const T* adj_v;
  T* adj_mv;
  T* adj_mass;
  T* row_params;
  int z_lo = 0, z_hi = -1;  // the nodes of each row to visit (z_hi < 0: all)

  DUCTILE_HD DUCTILE_INLINE int64_t rows() const { return fwd.g.spec.num_nodes() / fwd.g.spec.res[D - 1]; }

  // Stage j of the chain at node c (position xn) on velocity v: colliders 0..K-1, then wall faces per axis.
  DUCTILE_HD DUCTILE_INLINE Vec<T, D> stage(int j, const int* c, const Vec<T, D>& xn,
                                            const Vec<T, D>& v) const {
    Vec<T, D> nrm;
    if (j < fwd.num_colliders) {
      const ColliderData<T, D>& cd = fwd.colliders[j];
      if (collider_phi(cd, xn, nrm) >= T(0)) return v;
      const Vec<T, D> vc = collider_velocity(cd, xn);
      return vc + apply_surface(cd.surface, cd.friction, v - vc, nrm);
    }
    const int d = j - fwd.num_colliders;
    if (!wall_normal(d, c, nrm)) return v;
    return apply_surface(fwd.walls.surface, fwd.walls.friction, v, nrm);
  }

  // The inward normal of the wall face touching node c along axis d, if any.
  DUCTILE_HD DUCTILE_INLINE bool wall_normal(int d, const int* c, Vec<T, D>& nrm) const {
    nrm = Vec<T, D>::zero();
    if (c[d] < fwd.walls.lo[d] + fwd.walls.cells)
      nrm[d] = T(1);
    else if (c[d] > fwd.walls.hi[d] - fwd.walls.cells)
      nrm[d] = T(-1);
    else
      return false;
    return true;
  }

  DUCTILE_HD DUCTILE_INLINE void operator()(int64_t row) const {
    const GridSpec<T, D>& spec = fwd.g.spec;
    const int64_t nodes = spec.num_nodes();
    const int len = spec.res[D - 1];
    using L = GridParamLayout<D>;
    const int P = L::size(fwd.num_colliders);
    T* part = row_params + row * P;
    for (int j = 0; j < P; ++j) part[j] = 0;
    const int z1 = z_hi < 0 ? len - 1 : z_hi;
    for (int z = z_lo; z <= z1; ++z) {
      const int64_t idx = row * len + z;
      const T m = fwd.g.mass[idx];
      if (!(m > T(0))) {
        adj_mass[idx] = 0;
        for (int d = 0; d < D; ++d) adj_mv[d * nodes + idx] = 0;
        continue;
      }
      int c[D];
      int64_t rest = idx;
      for (int d = D - 1; d >= 0; --d) {
        c[d] = int(rest % spec.res[d]);
        rest /= spec.res[d];
      }
      const Vec<T, D> xn = spec.node_position(c);
      Vec<T, D> mv, v0;
      for (int d = 0; d < D; ++d) {
        mv[d] = fwd.g.mv[d * nodes + idx];
        v0[d] = mv[d] / m + fwd.dt * fwd.gravity[d];
      }
      Vec<T, D> a;
      for (int d = 0; d < D; ++d) a[d] = adj_v[d * nodes + idx];
      // stages in reverse
      const int stages = fwd.num_colliders + D;
      for (int j = stages - 1; j >= 0; --j) {
        Vec<T, D> v = v0;
        for (int s = 0; s < j; ++s) v = stage(s, c, xn, v);
        Vec<T, D> nrm, adj_in = Vec<T, D>::zero(), adj_n = Vec<T, D>::zero();
        if (j < fwd.num_colliders) {
          const ColliderData<T, D>& cd = fwd.colliders[j];
          if (collider_phi(cd, xn, nrm) >= T(0)) continue;
          // v_out = vc + apply(v - vc)
          const Vec<T, D> vc = collider_velocity(cd, xn);
          T adj_mu = 0;
          adj_apply_surface(cd.surface, cd.friction, v - vc, nrm, a, adj_in, adj_n, adj_mu);
          const Vec<T, D> adj_vc = a - adj_in;
          // the pose: vc = lin + omega x (xn - t), n = R nl(R^T (xn - t))
          Vec<T, D> adj_t = adj_collider_velocity_t(cd, adj_vc);
          Mat<T, D> adj_R = Mat<T, D>::zero();
          adj_collider_normal_pose(cd, xn, nrm, adj_n, adj_t, adj_R);
          const Vec<T, 3> adj_w = adj_collider_velocity_omega(cd, xn, adj_vc);
          for (int d = 0; d < D; ++d) {
            part[L::lin(j) + d] += adj_vc[d];
            part[L::trans(j) + d] += adj_t[d];
            for (int e = 0; e < D; ++e) part[L::rot(j) + D * d + e] += adj_R(d, e);
          }
          part[L::friction(j)] += adj_mu;
          for (int w = 0; w < L::kOmega; ++w) part[L::omega(j) + w] += adj_w[3 - L::kOmega + w];
        } else {
          if (!wall_normal(j - fwd.num_colliders, c, nrm)) continue;
          T adj_mu = 0;
          adj_apply_surface(fwd.walls.surface, fwd.walls.friction, v, nrm, a, adj_in, adj_n, adj_mu);
          part[L::kWallFriction] += adj_mu;
        }
        a = adj_in;
      }
      // v0 = mv / m + dt g
      T am = 0;
      for (int d = 0; d < D; ++d) {
        adj_mv[d * nodes + idx] = a[d] / m;
        am -= a[d] * mv[d] / (m * m);
        part[L::kGravity + d] += fwd.dt * a[d];
      }
      adj_mass[idx] = am;
    }
  }
};

}  // namespace ductile
