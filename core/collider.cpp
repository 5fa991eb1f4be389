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

// d R / d w_i of Rodrigues' formula R = I + a K + b K^2, K = [w]x, a = sin(th) / th, b = (1 - cos(th)) / th^2
// (th = |w|): a E_i + b (E_i K + K E_i) + w_i (a' / th) K + w_i (b' / th) K^2 with E_i = [e_i]x. The
// coefficients' Taylor series below th = 1e-2 (error under 1e-20) keep it exact at and near w = 0.
void axis_angle_derivative(const double w[3], int i, double dR[3][3]) {
  const double t2 = w[0] * w[0] + w[1] * w[1] + w[2] * w[2], th = std::sqrt(t2);
  double a, b, da, db;  // a, b, a' / th, b' / th
  if (th < 1e-2) {
    a = 1 - t2 / 6 * (1 - t2 / 20 * (1 - t2 / 42));
    b = 0.5 - t2 / 24 * (1 - t2 / 30 * (1 - t2 / 56));
    da = -1.0 / 3 + t2 / 30 - t2 * t2 / 840 + t2 * t2 * t2 / 45360;
    db = -1.0 / 12 + t2 / 180 - t2 * t2 / 6720 + t2 * t2 * t2 / 453600;
  } else {
    const double s = std::sin(th), c = std::cos(th);
    a = s / th, b = (1 - c) / t2;
    da = (th * c - s) / (t2 * th);
    db = (th * s - 2 * (1 - c)) / (t2 * t2);
  }
  const double K[3][3] = {{0, -w[2], w[1]}, {w[2], 0, -w[0]}, {-w[1], w[0], 0}};
  double E[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
  const int j = (i + 1) % 3, k = (i + 2) % 3;  // [e_i]x: E[k][j] = 1, E[j][k] = -1
  E[k][j] = 1, E[j][k] = -1;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      double EK = 0, KE = 0, KK = 0;
      for (int m = 0; m < 3; ++m) EK += E[r][m] * K[m][c], KE += K[r][m] * E[m][c], KK += K[r][m] * K[m][c];
      dR[r][c] = a * E[r][c] + b * (EK + KE) + w[i] * (da * K[r][c] + db * KK);
    }
}

// The motion's translation pos (starting from the rest position), axis-angle rotation rot, linear velocity
// vel and angular velocity omg at time t: constant, pos += v t and rot = omega t; keyframes, linear
// interpolation of positions and axis-angle vectors between keys, held outside; static, no change.
void motion_pose(const Motion& motion, double t, double pos[3], double rot[3], double vel[3], double omg[3]) {
  for (int i = 0; i < 3; ++i) rot[i] = vel[i] = omg[i] = 0;
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
}

// The axis-angle vector a rotation turns about in D dimensions: all of w in 3D, its z entry in 2D.
template <int D>
void planar(const double w[3], double out[3]) {
  for (int i = 0; i < 3; ++i) out[i] = D == 2 && i < 2 ? 0.0 : w[i];
}

// sum_ab A_ab dR_ab over the D x D block of the derivative of rot(w) M along w_i (M = identity when null).
template <int D>
double contract_derivative(const double A[3][3], const double w[3], int i, const double (*M)[3] = nullptr) {
  double dR[3][3];
  axis_angle_derivative(w, i, dR);
  double s = 0;
  for (int r = 0; r < D; ++r)
    for (int c = 0; c < D; ++c) {
      double v = dR[r][c];
      if (M) {
        v = 0;
        for (int m = 0; m < 3; ++m) v += dR[r][m] * M[m][c];
      }
      s += A[r][c] * v;
    }
  return s;
}

}  // namespace

template <class T, int D>
ColliderData<T, D> Collider<T, D>::at(double t) const {
  ColliderData<T, D> c = shape;
  double pos[3] = {0, 0, 0}, rot[3], vel[3], omg[3];
  for (int d = 0; d < D; ++d) pos[d] = shape.t[d];
  // pose and velocity from the motion
  motion_pose(motion, t, pos, rot, vel, omg);
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

template <class T, int D>
void Collider<T, D>::set_rotation(const double w[3]) {
  double wp[3], R[3][3];
  planar<D>(w, wp);
  for (int i = 0; i < 3; ++i) rotation[i] = wp[i];
  axis_angle_matrix(wp, R);
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      double s = 0;
      for (int m = 0; m < 3; ++m) s += R[i][m] * frame[m][j];
      shape.R(i, j) = T(s);
    }
}

// at(t) gives translation p(t) and velocity v(t) of the motion: constant, p = p0 + v t; keyframes, linear
// interpolation p = (1 - a) P_{j-1} + a P_j with v = (P_j - P_{j-1}) / h; static, p = p0. The rotation is
// R(t) = rot(r(t)) S with S = rot(w0) frame the rest orientation and r(t), omega(t) the motion's axis-angle
// vector and angular velocity (constant: r = omega t; keyframes: r = (1 - a) r_{j-1} + a r_j with omega =
// (r_j - r_{j-1}) / h): adj r_i = <adj R S^T, d rot / d r_i>, adj w0_i = <rot(r)^T adj R, d rot / d w0_i
// frame>.
template <class T, int D>
void Collider<T, D>::adj_at(double t, const ColliderAdjoint& a, ColliderGradient& g) const {
  if (t < active_from || t > active_until) return;
  double lin[3] = {0, 0, 0}, tr[3] = {0, 0, 0};
  for (int d = 0; d < D; ++d) lin[d] = a.lin[d], tr[d] = a.t[d];
  // the rotations: adj of the motion's rotation rot(r) = adj R S^T and of S = rot(r)^T adj R
  double pos[3] = {0, 0, 0}, r3[3], vel[3], omg[3], r[3], M[3][3];
  motion_pose(motion, t, pos, r3, vel, omg);
  planar<D>(r3, r);
  axis_angle_matrix(r, M);
  double adj_M[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}, adj_S[3][3] = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j)
      for (int m = 0; m < D; ++m) {
        adj_M[i][j] += a.R[i][m] * double(shape.R(j, m));
        adj_S[i][j] += M[m][i] * a.R[m][j];
      }
  double adj_r[3] = {0, 0, 0}, adj_w[3] = {0, 0, 0}, w0[3];
  planar<D>(rotation, w0);
  for (int i = D == 2 ? 2 : 0; i < 3; ++i) {
    adj_r[i] = contract_derivative<D>(adj_M, r, i);
    g.rotation[i] += contract_derivative<D>(adj_S, w0, i, frame);
    adj_w[i] = a.omega[i];
  }
  if (motion.kind == Motion::Kind::kStatic) {
    for (int d = 0; d < 3; ++d) g.position[d] += tr[d];
  } else if (motion.kind == Motion::Kind::kConstant) {
    for (int d = 0; d < 3; ++d) {
      g.position[d] += tr[d];
      g.velocity[d] += lin[d] + t * tr[d];
      g.angular_velocity[d] += adj_w[d] + t * adj_r[d];
    }
  } else if (!motion.keys.empty()) {
    const auto& ks = motion.keys;
    g.key_position.resize(ks.size());
    g.key_rotation.resize(ks.size());
    if (t <= ks.front().t || ks.size() == 1) {
      for (int d = 0; d < 3; ++d) g.key_position.front()[d] += tr[d], g.key_rotation.front()[d] += adj_r[d];
    } else if (t >= ks.back().t) {
      for (int d = 0; d < 3; ++d) g.key_position.back()[d] += tr[d], g.key_rotation.back()[d] += adj_r[d];
    } else {
      size_t j = 1;
      while (ks[j].t < t) ++j;
      const double h = ks[j].t - ks[j - 1].t, al = (t - ks[j - 1].t) / h;
      for (int d = 0; d < 3; ++d) {
        g.key_position[j - 1][d] += (1 - al) * tr[d] - lin[d] / h;
        g.key_position[j][d] += al * tr[d] + lin[d] / h;
        g.key_rotation[j - 1][d] += (1 - al) * adj_r[d] - adj_w[d] / h;
        g.key_rotation[j][d] += al * adj_r[d] + adj_w[d] / h;
      }
    }
  }
}

template struct Collider<float, 2>;
template struct Collider<float, 3>;
template struct Collider<double, 2>;
template struct Collider<double, 3>;

}  // namespace ductile
