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

  DUCTILE_HD DUCTILE_INLINE void operator()(int64_t idx) const {
    const int64_t nodes = g.spec.num_nodes();
    T m = g.mass[idx];
    if (!(m > T(0))) {
      for (int d = 0; d < D; ++d) g.mv[d * nodes + idx] = 0;
      return;
    }
    // momentum -> velocity, plus gravity
    Vec<T, D> v;
    for (int d = 0; d < D; ++d) v[d] = g.mv[d * nodes + idx] / m + dt * gravity[d];
    int c[D];
    int64_t rest = idx;
    for (int d = D - 1; d >= 0; --d) {
      c[d] = int(rest % g.spec.res[d]);
      rest /= g.spec.res[d];
    }
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
    for (int d = 0; d < D; ++d) g.mv[d * nodes + idx] = v[d];
  }
};

}  // namespace ductile
