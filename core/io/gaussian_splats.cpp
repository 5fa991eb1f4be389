// 3DGS PLY reading, checking and deformation of covariances by the deformation gradient, Sigma' = F Sigma F^T
// (PhysGaussian, Xie et al., CVPR 2024, eq. 6), re-decomposed into scales and a rotation for the PLY.
#include "core/io/gaussian_splats.h"

#include <Eigen/Dense>
#include <cmath>

#include "core/error.h"
#include "core/io/ply.h"

namespace ductile::io {

namespace {

const char* const kScale[3] = {"scale_0", "scale_1", "scale_2"};
const char* const kRot[4] = {"rot_0", "rot_1", "rot_2", "rot_3"};

struct Columns {
  int x, y, z, scale[3], rot[4];
};

Columns columns(const PointTable& t, const std::string& name) {
  Columns c;
  auto need = [&](const char* col) {
    const int k = t.column(col);
    if (k < 0)
      fail(name, std::string("not a 3D Gaussian splat PLY: the vertex element has no '") + col +
                     "' property (needs x y z, scale_0..2, rot_0..3)");
    return k;
  };
  c.x = need("x"), c.y = need("y"), c.z = need("z");
  for (int i = 0; i < 3; ++i) c.scale[i] = need(kScale[i]);
  for (int i = 0; i < 4; ++i) c.rot[i] = need(kRot[i]);
  return c;
}

// Rotation matrix of quaternion (w, x, y, z), normalized first.
Eigen::Matrix3d rotation(const double q_in[4]) {
  Eigen::Quaterniond q(q_in[0], q_in[1], q_in[2], q_in[3]);
  q.normalize();
  return q.toRotationMatrix();
}

}  // namespace

void check_gaussians(const PointTable& t, const std::string& name) {
  const Columns c = columns(t, name);
  const size_t w = t.names.size();
  if (t.values.size() != t.count * w) fail(name, "inconsistent table size");
  for (size_t r = 0; r < t.count; ++r) {
    const std::string where = "vertex " + std::to_string(r);
    for (size_t k = 0; k < w; ++k)
      if (!std::isfinite(t.values[r * w + k]))
        fail(name, where + ": " + t.names[k] + " is " + std::to_string(t.values[r * w + k]));
    for (int i = 0; i < 3; ++i)
      if (std::fabs(t.at(r, c.scale[i])) > 30)
        fail(name, where + ": " + kScale[i] + " = " + std::to_string(t.at(r, c.scale[i])) +
                       " is not a log standard deviation in [-30, 30]");
    double q2 = 0;
    for (int i = 0; i < 4; ++i) q2 += double(t.at(r, c.rot[i])) * t.at(r, c.rot[i]);
    if (!(q2 > 1e-30)) fail(name, where + ": rot_0..3 is the zero quaternion");
  }
}

PointTable read_gaussians(const std::string& path) {
  PointTable t = read_ply(path);
  if (t.count == 0) fail(path, "holds no Gaussians (vertex count 0)");
  check_gaussians(t, path);
  return t;
}

Mat3d covariance_of(const double log_scale[3], const double quat_wxyz[4]) {
  const Eigen::Matrix3d R = rotation(quat_wxyz);
  Eigen::Vector3d s2;
  for (int i = 0; i < 3; ++i) s2[i] = std::exp(2 * log_scale[i]);
  const Eigen::Matrix3d S = R * s2.asDiagonal() * R.transpose();
  Mat3d out;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) out[size_t(i)][size_t(j)] = S(i, j);
  return out;
}

Mat3d gaussian_covariance(const PointTable& t, size_t r) {
  const Columns c = columns(t, "table");
  double s[3], q[4];
  for (int i = 0; i < 3; ++i) s[i] = t.at(r, c.scale[i]);
  for (int i = 0; i < 4; ++i) q[i] = t.at(r, c.rot[i]);
  return covariance_of(s, q);
}

void decompose_covariance(const Mat3d& sigma, double log_scale[3], double quat_wxyz[4]) {
  Eigen::Matrix3d S;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) S(i, j) = 0.5 * (sigma[size_t(i)][size_t(j)] + sigma[size_t(j)][size_t(i)]);
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> es(S);
  Eigen::Matrix3d V = es.eigenvectors();
  if (V.determinant() < 0) V.col(2) *= -1;  // a rotation, not a reflection
  for (int i = 0; i < 3; ++i) log_scale[i] = 0.5 * std::log(std::max(es.eigenvalues()[i], 1e-30));
  Eigen::Quaterniond q(V);
  q.normalize();
  if (q.w() < 0) q.coeffs() *= -1;
  quat_wxyz[0] = q.w(), quat_wxyz[1] = q.x(), quat_wxyz[2] = q.y(), quat_wxyz[3] = q.z();
}

PointTable deform_gaussians(const PointTable& src, const std::vector<int>& rows, const Mat3d& A,
                            const std::vector<float>& x, const std::vector<float>& F) {
  const Columns c = columns(src, "gaussians");
  if (x.size() != 3 * rows.size() || F.size() != 9 * rows.size())
    fail("gaussians", "positions or deformation gradients do not match the rows");
  PointTable out;
  out.names = src.names;
  out.count = rows.size();
  const size_t w = src.names.size();
  out.values.resize(out.count * w);
  Eigen::Matrix3d Am;
  bool a_identity = true;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      Am(i, j) = A[size_t(i)][size_t(j)];
      a_identity = a_identity && Am(i, j) == (i == j ? 1.0 : 0.0);
    }
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < int64_t(rows.size()); ++k) {
    const size_t r = size_t(rows[size_t(k)]);
    float* dst = &out.values[size_t(k) * w];
    for (size_t m = 0; m < w; ++m) dst[m] = src.values[r * w + m];
    dst[c.x] = x[3 * size_t(k)], dst[c.y] = x[3 * size_t(k) + 1], dst[c.z] = x[3 * size_t(k) + 2];
    Eigen::Matrix3d Fm;
    bool identity = a_identity;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        Fm(i, j) = F[9 * size_t(k) + size_t(3 * i + j)];
        identity = identity && Fm(i, j) == (i == j ? 1.0 : 0.0);
      }
    if (identity) continue;
    double s[3], q[4];
    for (int i = 0; i < 3; ++i) s[i] = src.at(r, c.scale[i]);
    for (int i = 0; i < 4; ++i) q[i] = src.at(r, c.rot[i]);
    const Mat3d sig = covariance_of(s, q);
    Eigen::Matrix3d S;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) S(i, j) = sig[size_t(i)][size_t(j)];
    const Eigen::Matrix3d M = Fm * Am;
    const Eigen::Matrix3d Sd = M * S * M.transpose();
    Mat3d sd;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) sd[size_t(i)][size_t(j)] = Sd(i, j);
    decompose_covariance(sd, s, q);
    for (int i = 0; i < 3; ++i) dst[c.scale[i]] = float(s[i]);
    for (int i = 0; i < 4; ++i) dst[c.rot[i]] = float(q[i]);
  }
  return out;
}

}  // namespace ductile::io
