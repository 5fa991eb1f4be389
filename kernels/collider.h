// Colliders as the grid update sees them: a signed distance in the collider's own frame, a rigid pose and
// velocity for this step, a surface condition and a Coulomb friction coefficient.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/math.h"

namespace ductile {

enum class Surface : int32_t { kSticky = 0, kSlip = 1, kSeparate = 2 };
enum class ColliderShape : int32_t { kPlane = 0, kBox = 1, kSphere = 2, kCylinder = 3, kSdf = 4 };

// Plain data, copied to the device once per step; the host evaluates the motion.
template <class T, int D>
struct ColliderData {
  ColliderShape shape = ColliderShape::kPlane;
  Surface surface = Surface::kSticky;
  T friction = 0;                       // Coulomb coefficient, dimensionless
  Mat<T, D> R = Mat<T, D>::identity();  // rotation local -> world at this step
  Vec<T, D> t = Vec<T, D>::zero();      // translation local -> world at this step [m]
  Vec<T, D> lin = Vec<T, D>::zero();    // linear velocity of the frame origin [m/s]
  T omega[3] = {0, 0, 0};               // angular velocity [rad/s] (2D uses omega[2] only)
  // shape parameters in the local frame:
  //   plane: normal p[0..D) through the origin; box: half extents p[0..D); sphere: radius p[0];
  //   cylinder: radius p[0], half height p[1], axis = local y (local z in 2D is unused: a 2D cylinder is a
  //   disk)
  T p[4] = {0, 0, 0, 0};
  // sampled signed distance (kSdf): trilinear on a dense grid in the local frame, last axis fastest
  const T* sdf = nullptr;
  int sdf_res[D] = {};
  Vec<T, D> sdf_origin = Vec<T, D>::zero();
  T sdf_dx = 0;
};

// Velocity of the rigid collider at world point x: lin + omega x (x - t).
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, D> collider_velocity(const ColliderData<T, D>& c, const Vec<T, D>& x) {
  Vec<T, D> r = x - c.t;
  Vec<T, D> v = c.lin;
  if constexpr (D == 2) {
    v[0] += -c.omega[2] * r[1];
    v[1] += c.omega[2] * r[0];
  } else {
    v[0] += c.omega[1] * r[2] - c.omega[2] * r[1];
    v[1] += c.omega[2] * r[0] - c.omega[0] * r[2];
    v[2] += c.omega[0] * r[1] - c.omega[1] * r[0];
  }
  return v;
}

// Trilinear (bilinear in 2D) sample of the SDF grid and its gradient; outside the grid the distance grows
// with the distance to the grid box so that points far away are never inside.
template <class T, int D>
DUCTILE_HD inline T sample_sdf(const ColliderData<T, D>& c, const Vec<T, D>& xl, Vec<T, D>& grad) {
  int b[D];
  T f[D];
  T outside = 0;
  for (int d = 0; d < D; ++d) {
    T u = (xl[d] - c.sdf_origin[d]) / c.sdf_dx;
    T hi = T(c.sdf_res[d] - 1);
    T uc = u < 0 ? T(0) : (u > hi ? hi : u);
    outside += (u - uc) * (u - uc);
    int bi = int(std::floor(uc));
    if (bi > c.sdf_res[d] - 2) bi = c.sdf_res[d] - 2;
    if (bi < 0) bi = 0;
    b[d] = bi;
    f[d] = uc - T(bi);
  }
  T phi = 0;
  for (int d = 0; d < D; ++d) grad[d] = 0;
  for (int corner = 0; corner < (1 << D); ++corner) {
    int64_t idx = 0;
    T w = 1;
    T dwd[D];
    for (int d = 0; d < D; ++d) {
      int o = (corner >> (D - 1 - d)) & 1;
      idx = idx * c.sdf_res[d] + (b[d] + o);
      w *= o ? f[d] : T(1) - f[d];
    }
    for (int d = 0; d < D; ++d) {
      int o = (corner >> (D - 1 - d)) & 1;
      T g = (o ? T(1) : T(-1)) / c.sdf_dx;
      for (int e = 0; e < D; ++e)
        if (e != d) g *= ((corner >> (D - 1 - e)) & 1) ? f[e] : T(1) - f[e];
      dwd[d] = g;
    }
    T val = c.sdf[idx];
    phi += w * val;
    for (int d = 0; d < D; ++d) grad[d] += dwd[d] * val;
  }
  return phi + std::sqrt(outside) * c.sdf_dx;
}

// Signed distance of world point x to the collider (negative inside) and the outward unit normal.
template <class T, int D>
DUCTILE_HD inline T collider_phi(const ColliderData<T, D>& c, const Vec<T, D>& x, Vec<T, D>& normal) {
  // world -> local
  Vec<T, D> xl = transpose(c.R) * (x - c.t);
  Vec<T, D> nl = Vec<T, D>::zero();
  T phi = 0;
  switch (c.shape) {
    case ColliderShape::kPlane: {
      for (int d = 0; d < D; ++d) nl[d] = c.p[d];
      phi = dot(xl, nl);
      break;
    }
    case ColliderShape::kSphere: {
      T r = norm(xl);
      phi = r - c.p[0];
      if (r > T(0))
        nl = (T(1) / r) * xl;
      else
        nl[D - 1] = 1;
      break;
    }
    case ColliderShape::kBox: {
      // exact box distance (Quilez): q = |x| - h
      Vec<T, D> q, qp;
      T maxq = -1e30f;
      int maxd = 0;
      for (int d = 0; d < D; ++d) {
        q[d] = std::fabs(xl[d]) - c.p[d];
        qp[d] = q[d] > 0 ? q[d] : T(0);
        if (q[d] > maxq) {
          maxq = q[d];
          maxd = d;
        }
      }
      T out = norm(qp);
      if (out > T(0)) {
        phi = out;
        for (int d = 0; d < D; ++d) nl[d] = (xl[d] < 0 ? T(-1) : T(1)) * qp[d] / out;
      } else {
        phi = maxq;
        nl[maxd] = xl[maxd] < 0 ? T(-1) : T(1);
      }
      break;
    }
    case ColliderShape::kCylinder: {
      if constexpr (D == 2) {
        T r = norm(xl);
        phi = r - c.p[0];
        if (r > T(0))
          nl = (T(1) / r) * xl;
        else
          nl[1] = 1;
      } else {
        // axis along local y: radial distance in x-z, capped at +-half height
        T rr = std::sqrt(xl[0] * xl[0] + xl[2] * xl[2]);
        T qr = rr - c.p[0], qy = std::fabs(xl[1]) - c.p[1];
        Vec<T, 3> radial{{rr > 0 ? xl[0] / rr : T(1), T(0), rr > 0 ? xl[2] / rr : T(0)}};
        Vec<T, 3> axial{{T(0), xl[1] < 0 ? T(-1) : T(1), T(0)}};
        if (qr > 0 && qy > 0) {
          phi = std::sqrt(qr * qr + qy * qy);
          nl = (qr / phi) * radial + (qy / phi) * axial;
        } else if (qr > qy) {
          phi = qr;
          nl = radial;
        } else {
          phi = qy;
          nl = axial;
        }
      }
      break;
    }
    case ColliderShape::kSdf: {
      Vec<T, D> g;
      phi = sample_sdf(c, xl, g);
      T gn = norm(g);
      if (gn > T(0))
        nl = (T(1) / gn) * g;
      else
        nl[D - 1] = 1;
      break;
    }
  }
  normal = c.R * nl;
  return phi;
}

// Derivative of sample_sdf's gradient with respect to the local point: the trilinear (bilinear) Hessian,
// zero on the diagonal and in the columns of clamped axes (a coordinate beyond the grid moves nothing).
template <class T, int D>
DUCTILE_HD inline Mat<T, D> sample_sdf_hessian(const ColliderData<T, D>& c, const Vec<T, D>& xl) {
  int b[D];
  T f[D];
  bool live[D];
  for (int d = 0; d < D; ++d) {
    T u = (xl[d] - c.sdf_origin[d]) / c.sdf_dx;
    T hi = T(c.sdf_res[d] - 1);
    live[d] = u >= T(0) && u <= hi;
    T uc = u < 0 ? T(0) : (u > hi ? hi : u);
    int bi = int(std::floor(uc));
    if (bi > c.sdf_res[d] - 2) bi = c.sdf_res[d] - 2;
    if (bi < 0) bi = 0;
    b[d] = bi;
    f[d] = uc - T(bi);
  }
  Mat<T, D> H = Mat<T, D>::zero();
  const T inv2 = T(1) / (c.sdf_dx * c.sdf_dx);
  for (int corner = 0; corner < (1 << D); ++corner) {
    int64_t idx = 0;
    int o[D];
    for (int d = 0; d < D; ++d) {
      o[d] = (corner >> (D - 1 - d)) & 1;
      idx = idx * c.sdf_res[d] + (b[d] + o[d]);
    }
    const T val = c.sdf[idx];
    for (int d = 0; d < D; ++d)
      for (int e = 0; e < D; ++e) {
        if (d == e || !live[e]) continue;
        T g = (o[d] ? T(1) : T(-1)) * (o[e] ? T(1) : T(-1)) * inv2;
        for (int k = 0; k < D; ++k)
          if (k != d && k != e) g *= o[k] ? f[k] : T(1) - f[k];
        H(d, e) += g * val;
      }
  }
  return H;
}

// d nl / d xl at local point xl inside the collider (phi < 0, the only place the grid update uses normals):
// zero for planes, box faces and cylinder caps; (I - nl nl^T) / |u| for the radial shapes; the normalised
// trilinear gradient's derivative for SDF colliders.
template <class T, int D>
DUCTILE_HD inline Mat<T, D> collider_normal_jacobian(const ColliderData<T, D>& c, const Vec<T, D>& xl) {
  Mat<T, D> J = Mat<T, D>::zero();
  // d (u / |u|) / du = (I - n n^T) / |u| for the radial shapes
  auto radial = [&](const Vec<T, D>& u, const Mat<T, D>& P) {
    const T r = norm(u);
    if (!(r > T(0))) return;
    const Vec<T, D> nr = (T(1) / r) * u;
    J = (T(1) / r) * (P - outer(nr, nr));
  };
  switch (c.shape) {
    case ColliderShape::kPlane:
    case ColliderShape::kBox:
      break;
    case ColliderShape::kSphere:
      radial(xl, Mat<T, D>::identity());
      break;
    case ColliderShape::kCylinder: {
      if constexpr (D == 2) {
        radial(xl, Mat<T, D>::identity());
      } else {
        const T rr = std::sqrt(xl[0] * xl[0] + xl[2] * xl[2]);
        const T qr = rr - c.p[0], qy = std::fabs(xl[1]) - c.p[1];
        if (qr > qy) {
          Vec<T, D> u = xl;
          u[1] = T(0);
          Mat<T, D> P = Mat<T, D>::identity();
          P(1, 1) = T(0);
          radial(u, P);
        }
      }
      break;
    }
    case ColliderShape::kSdf: {
      Vec<T, D> g;
      sample_sdf(c, xl, g);
      const T gn = norm(g);
      if (gn > T(0)) {
        const Vec<T, D> nl = (T(1) / gn) * g;
        J = (T(1) / gn) * ((Mat<T, D>::identity() - outer(nl, nl)) * sample_sdf_hessian(c, xl));
      }
      break;
    }
  }
  return J;
}

// Adjoint of collider_phi's normal with respect to the collider's translation t, for points inside the
// collider: n = R nl(xl), xl = R^T (x - t), so adj t = -R J^T R^T adj n with J = d nl / d xl.
template <class T, int D>
DUCTILE_HD inline Vec<T, D> adj_collider_normal_t(const ColliderData<T, D>& c, const Vec<T, D>& x,
                                                  const Vec<T, D>& adj_n) {
  const Vec<T, D> xl = transpose(c.R) * (x - c.t);
  const Mat<T, D> J = collider_normal_jacobian(c, xl);
  const Vec<T, D> local = transpose(J) * (transpose(c.R) * adj_n);
  return T(-1) * (c.R * local);
}

// Adjoint of collider_phi's normal n (the world normal it returned at x, inside the collider) with respect
// to the whole pose, accumulated (+=): n = R nl(xl), xl = R^T r, r = x - t, so with adj xl = J^T R^T adj n:
// adj t -= R adj xl and adj R += adj n nl^T + r adj xl^T (R as a general matrix; nl = R^T n).
template <class T, int D>
DUCTILE_HD inline void adj_collider_normal_pose(const ColliderData<T, D>& c, const Vec<T, D>& x,
                                                const Vec<T, D>& n, const Vec<T, D>& adj_n, Vec<T, D>& adj_t,
                                                Mat<T, D>& adj_R) {
  const Vec<T, D> r = x - c.t;
  const Vec<T, D> xl = transpose(c.R) * r;
  const Vec<T, D> nl = transpose(c.R) * n;
  const Vec<T, D> adj_xl = transpose(collider_normal_jacobian(c, xl)) * (transpose(c.R) * adj_n);
  adj_t = adj_t - c.R * adj_xl;
  adj_R = adj_R + outer(adj_n, nl) + outer(r, adj_xl);
}

// Adjoint of collider_velocity with respect to the translation t (v = lin + omega x (x - t); the adjoint of
// lin is adj_v itself): adj t = omega x adj_v, with omega along z in 2D.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, D> adj_collider_velocity_t(const ColliderData<T, D>& c,
                                                            const Vec<T, D>& adj_v) {
  Vec<T, D> r;
  if constexpr (D == 2) {
    // v0 = -w r1, v1 = w r0: adj r = (w adj_v1, -w adj_v0), adj t = -adj r
    r[0] = -c.omega[2] * adj_v[1];
    r[1] = c.omega[2] * adj_v[0];
  } else {
    r[0] = c.omega[1] * adj_v[2] - c.omega[2] * adj_v[1];
    r[1] = c.omega[2] * adj_v[0] - c.omega[0] * adj_v[2];
    r[2] = c.omega[0] * adj_v[1] - c.omega[1] * adj_v[0];
  }
  return r;
}

// Adjoint of collider_velocity with respect to the angular velocity: v = lin + omega x r, r = x - t, so
// adj omega = r x adj_v; in 2D only omega[2] enters (v0 = -w r1, v1 = w r0): adj w = r0 adj_v1 - r1 adj_v0.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, 3> adj_collider_velocity_omega(const ColliderData<T, D>& c,
                                                                const Vec<T, D>& x, const Vec<T, D>& adj_v) {
  const Vec<T, D> r = x - c.t;
  Vec<T, 3> w = Vec<T, 3>::zero();
  if constexpr (D == 2) {
    w[2] = r[0] * adj_v[1] - r[1] * adj_v[0];
  } else {
    w[0] = r[1] * adj_v[2] - r[2] * adj_v[1];
    w[1] = r[2] * adj_v[0] - r[0] * adj_v[2];
    w[2] = r[0] * adj_v[1] - r[1] * adj_v[0];
  }
  return w;
}

}  // namespace ductile
