#include "core/collider.h"

#include <cmath>

namespace ductile {

namespace {

// Rotation matrix of an axis-angle vector (Rodrigues).
void axis_angle_matrix(const double w[3], double R[3][3]) {
  double th = std::sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
  double k[3] = {0, 0, 1};
  if (th > 0)
    for (int i = 0; i < 3; ++i) k[i] = w[i] / th;
  double c = std::cos(th), s = std::sin(th), C = 1 - c;
  double K[3][3] = {{0, -k[2], k[1]}, {k[2], 0, -k[0]}, {-k[1], k[0], 0}};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) R[i][j] = (i == j ? c : 0) + s * K[i][j] + C * k[i] * k[j];
}

}  // namespace

template <class T, int D>
ColliderData<T, D> Collider<T, D>::at(double t) const {
  ColliderData<T, D> c = shape;
  double pos[3] = {0, 0, 0}, rot[3] = {0, 0, 0}, vel[3] = {0, 0, 0}, omg[3] = {0, 0, 0};
  for (int d = 0; d < D; ++d) pos[d] = shape.t[d];
  // pose and velocity from the motion
  if (motion.kind == Motion::Kind::kConstant) {
    for (int i = 0; i < 3; ++i) {
      vel[i] = motion.velocity[i];
      omg[i] = motion.angular_velocity[i];
      pos[i] += vel[i] * t;
      rot[i] = omg[i] * t;
    }
  } else if (motion.kind == Motion::Kind::kKeyframes && !motion.keys.empty()) {
    const auto& k = motion.keys;
    if (t <= k.front().t || k.size() == 1) {
      for (int i = 0; i < 3; ++i) pos[i] = k.front().position[i], rot[i] = k.front().rotation[i];
    } else if (t >= k.back().t) {
      for (int i = 0; i < 3; ++i) pos[i] = k.back().position[i], rot[i] = k.back().rotation[i];
    } else {
      size_t j = 1;
      while (k[j].t < t) ++j;
      double h = k[j].t - k[j - 1].t, a = (t - k[j - 1].t) / h;
      for (int i = 0; i < 3; ++i) {
        pos[i] = (1 - a) * k[j - 1].position[i] + a * k[j].position[i];
        rot[i] = (1 - a) * k[j - 1].rotation[i] + a * k[j].rotation[i];
        vel[i] = (k[j].position[i] - k[j - 1].position[i]) / h;
        omg[i] = (k[j].rotation[i] - k[j - 1].rotation[i]) / h;
      }
    }
  }
  // the rest rotation composed with the motion's rotation
  double R[3][3];
  if (D == 2) {
    double w[3] = {0, 0, rot[2]};
    axis_angle_matrix(w, R);
  } else {
    axis_angle_matrix(rot, R);
  }
  Mat<T, D> Rm;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) Rm(i, j) = T(R[i][j]);
  c.R = Rm * shape.R;
  for (int d = 0; d < D; ++d) {
    c.t[d] = T(pos[d]);
    c.lin[d] = T(vel[d]);
  }
  for (int i = 0; i < 3; ++i) c.omega[i] = T(D == 2 && i < 2 ? 0.0 : omg[i]);
  // outside its active window a collider becomes a sphere of radius 0 far away (1e15 m: its squared distance
  // still fits a float), at rest
  if (t < active_from || t > active_until) {
    c.shape = ColliderShape::kSphere;
    c.p[0] = T(0);
    for (int d = 0; d < D; ++d) c.t[d] = T(1e15), c.lin[d] = T(0);
    for (int i = 0; i < 3; ++i) c.omega[i] = T(0);
  }
  c.sdf = sdf.empty() ? nullptr : sdf.data();
  return c;
}

// at(t) gives translation p(t) and velocity v(t) of the motion: constant, p = p0 + v t; keyframes, linear
// interpolation p = (1 - a) P_{j-1} + a P_j with v = (P_j - P_{j-1}) / h; static, p = p0.
template <class T, int D>
void Collider<T, D>::adj_at(double t, const double* adj_lin, const double* adj_t, ColliderGradient& g) const {
  if (t < active_from || t > active_until) return;
  double lin[3] = {0, 0, 0}, tr[3] = {0, 0, 0};
  for (int d = 0; d < D; ++d) lin[d] = adj_lin[d], tr[d] = adj_t[d];
  if (motion.kind == Motion::Kind::kStatic) {
    for (int d = 0; d < 3; ++d) g.position[d] += tr[d];
  } else if (motion.kind == Motion::Kind::kConstant) {
    for (int d = 0; d < 3; ++d) {
      g.position[d] += tr[d];
      g.velocity[d] += lin[d] + t * tr[d];
    }
  } else if (!motion.keys.empty()) {
    const auto& ks = motion.keys;
    g.key_position.resize(ks.size());
    if (t <= ks.front().t || ks.size() == 1) {
      for (int d = 0; d < 3; ++d) g.key_position.front()[d] += tr[d];
    } else if (t >= ks.back().t) {
      for (int d = 0; d < 3; ++d) g.key_position.back()[d] += tr[d];
    } else {
      size_t j = 1;
      while (ks[j].t < t) ++j;
      const double h = ks[j].t - ks[j - 1].t, al = (t - ks[j - 1].t) / h;
      for (int d = 0; d < 3; ++d) {
        g.key_position[j - 1][d] += (1 - al) * tr[d] - lin[d] / h;
        g.key_position[j][d] += al * tr[d] + lin[d] / h;
      }
    }
  }
}

template struct Collider<float, 2>;
template struct Collider<float, 3>;
template struct Collider<double, 2>;
template struct Collider<double, 3>;

}  // namespace ductile
