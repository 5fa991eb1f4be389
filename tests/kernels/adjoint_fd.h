// Finite-difference checks of the kernel adjoints in double precision, shared by test_kernel_adjoints.cpp,
// test_grid_adjoints.cpp and test_collider_adjoints.cpp: random inputs and directions, central differences of
// <cotangent, output> against <adjoint, direction>, and the distance of a collider point to the switches of
// the collider's normal (where the normal is only piecewise smooth).
// Set DUCTILE_ADJOINT_REPORT=1 to print the largest relative error of every checked input group.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "kernels/collider.h"

namespace ductile::kadj {

using Rng = std::mt19937_64;
using Forward = std::function<std::vector<double>()>;

// n normal samples times scale.
inline std::vector<double> randn(Rng& rng, size_t n, double scale = 1) {
  std::normal_distribution<double> normal(0, 1);
  std::vector<double> r(n);
  for (double& x : r) x = scale * normal(rng);
  return r;
}
inline double uniform(Rng& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}
inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
inline void subtract(std::vector<double>& a, const std::vector<double>& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] -= b[i];
}

// The inputs of one group, perturbed in place by the checks (and restored).
using Inputs = std::vector<double*>;
inline void append(Inputs& in, std::vector<double>& v) {
  for (double& x : v) in.push_back(&x);
}
template <int D>
void append(Inputs& in, Vec<double, D>& v) {
  for (int d = 0; d < D; ++d) in.push_back(&v[d]);
}
inline void append(Inputs& in, double& x) {
  in.push_back(&x);
}
template <class... Args>
Inputs inputs(Args&... args) {
  Inputs in;
  (append(in, args), ...);
  return in;
}
template <int D>
std::vector<double> values(const Vec<double, D>& v) {
  return std::vector<double>(v.v, v.v + D);
}

// Largest relative error over `dirs` random directions dir = scale N(0, 1) of the inputs: the analytic
// derivative <adj, dir> against the central difference sum_i cot_i (y_i(p + h dir) - y_i(p - h dir)) / 2h of
// the outputs y = fwd(). Differences are taken per output, so outputs that the direction leaves alone cancel
// exactly. The error is relative to max(|an|, |fd|, 1e-4 S), S = sum |cot_i| |y_i| over the outputs that
// changed: the difference's round-off (about 1e-16 S / h = 1e-10 S) stays below 1e-6 of the floor.
inline double fd_error(const Inputs& in, const std::vector<double>& adj, double scale,
                       const std::vector<double>& cot, const Forward& fwd, Rng& rng, int dirs = 3,
                       double h = 1e-6) {
  REQUIRE(in.size() == adj.size());
  std::vector<double> p0(in.size());
  for (size_t i = 0; i < in.size(); ++i) p0[i] = *in[i];
  double worst = 0;
  for (int k = 0; k < dirs; ++k) {
    const std::vector<double> dir = randn(rng, in.size(), scale);
    const double an = dot(adj, dir);
    std::vector<double> y[2];
    for (int s = 0; s < 2; ++s) {
      for (size_t i = 0; i < in.size(); ++i) *in[i] = p0[i] + (s ? -h : h) * dir[i];
      y[s] = fwd();
    }
    for (size_t i = 0; i < in.size(); ++i) *in[i] = p0[i];
    REQUIRE(y[0].size() == cot.size());
    double fd = 0, size = 0;
    for (size_t i = 0; i < cot.size(); ++i) {
      if (y[0][i] == y[1][i]) continue;
      fd += cot[i] * (y[0][i] - y[1][i]);
      size += std::fabs(cot[i]) * std::fmax(std::fabs(y[0][i]), std::fabs(y[1][i]));
    }
    fd /= 2 * h;
    const double den = std::fmax(std::fmax(std::fabs(an), std::fabs(fd)), 1e-4 * size);
    worst = std::fmax(worst, den > 0 ? std::fabs(an - fd) / den : 0.0);
  }
  return worst;
}

// Checks one input group to tolerance tol (and reports its largest error when DUCTILE_ADJOINT_REPORT is set).
inline void check_group(const std::string& label, const Inputs& in, const std::vector<double>& adj,
                        double scale, const std::vector<double>& cot, const Forward& fwd, Rng& rng,
                        double tol = 1e-6, double h = 1e-6) {
  const double err = fd_error(in, adj, scale, cot, fwd, rng, 3, h);
  if (std::getenv("DUCTILE_ADJOINT_REPORT")) std::printf("%-44s max rel err %.2e\n", label.c_str(), err);
  CAPTURE(label);
  CHECK(err < tol);
}

// A random rotation by at most max_angle (about z in 2D, about a random axis in 3D; Rodrigues' formula).
template <int D>
Mat<double, D> random_rotation(Rng& rng, double max_angle) {
  const double a = uniform(rng, -max_angle, max_angle);
  Mat<double, D> R = Mat<double, D>::identity();
  if constexpr (D == 2) {
    R(0, 0) = std::cos(a), R(0, 1) = -std::sin(a), R(1, 0) = std::sin(a), R(1, 1) = std::cos(a);
  } else {
    std::vector<double> k = randn(rng, 3);
    const double kn = std::sqrt(k[0] * k[0] + k[1] * k[1] + k[2] * k[2]);
    Mat<double, 3> K = Mat<double, 3>::zero();
    K(0, 1) = -k[2] / kn, K(0, 2) = k[1] / kn, K(1, 2) = -k[0] / kn;
    K(1, 0) = -K(0, 1), K(2, 0) = -K(0, 2), K(2, 1) = -K(1, 2);
    R = R + std::sin(a) * K + (1 - std::cos(a)) * (K * K);
  }
  return R;
}

// Distance of world point x, inside collider c (phi < 0), to the switches of the collider's normal, in the
// collider's units: the radial shapes' centre, the box's ties between faces, the 3D cylinder's side/cap tie,
// and the SDF's cell faces (where its trilinear gradient jumps).
template <int D>
double normal_margin(const ColliderData<double, D>& c, const Vec<double, D>& x) {
  const Vec<double, D> xl = transpose(c.R) * (x - c.t);
  double m = 1e30;
  switch (c.shape) {
    case ColliderShape::kPlane:
      break;
    case ColliderShape::kSphere:
      m = norm(xl);
      break;
    case ColliderShape::kBox: {
      double q[D];
      for (int d = 0; d < D; ++d) q[d] = std::fabs(xl[d]) - c.p[d];
      std::sort(q, q + D);
      m = q[D - 1] - q[D - 2];
      for (int d = 0; d < D; ++d) m = std::fmin(m, std::fabs(xl[d]));
      break;
    }
    case ColliderShape::kCylinder: {
      if constexpr (D == 2) {
        m = norm(xl);
      } else {
        const double rr = std::sqrt(xl[0] * xl[0] + xl[2] * xl[2]);
        m = std::fmin(std::fmin(rr, std::fabs(xl[1])),
                      std::fabs((rr - c.p[0]) - (std::fabs(xl[1]) - c.p[1])));
      }
      break;
    }
    case ColliderShape::kSdf: {
      for (int d = 0; d < D; ++d) {
        const double u = (xl[d] - c.sdf_origin[d]) / c.sdf_dx;
        const double f = u - std::floor(u);
        m = std::fmin(m, std::fmin(f, 1 - f) * c.sdf_dx);
        if (u < 0 || u > c.sdf_res[d] - 1) m = 0;  // outside the sampled grid
      }
      break;
    }
  }
  return m;
}

// An SDF collider sampling fn(y) (y the local point, a Vec) on a dense grid of 13^D nodes spaced 0.05 over
// [-0.3, 0.3]^D in the local frame; data holds the samples.
template <int D, class Fn>
ColliderData<double, D> sampled_sdf(std::vector<double>& data, Fn&& fn) {
  ColliderData<double, D> c;
  c.shape = ColliderShape::kSdf;
  c.sdf_dx = 0.05;
  const int res = 13;
  for (int d = 0; d < D; ++d) c.sdf_res[d] = res, c.sdf_origin[d] = -0.3;
  int total = 1;
  for (int d = 0; d < D; ++d) total *= res;
  data.assign(size_t(total), 0.0);
  for (int i = 0; i < total; ++i) {
    Vec<double, D> y;
    for (int d = D - 1, rest = i; d >= 0; --d, rest /= res) y[d] = c.sdf_origin[d] + (rest % res) * c.sdf_dx;
    data[size_t(i)] = fn(y);
  }
  c.sdf = data.data();
  return c;
}

// The ellipse or ellipsoid |diag(1, 1.5, 1.2) y| - r (not an exact distance), sampled as above.
template <int D>
ColliderData<double, D> ellipsoid_sdf(std::vector<double>& data, double r) {
  return sampled_sdf<D>(data, [&](const Vec<double, D>& y) {
    const double s[3] = {1.0, 1.5, 1.2};
    double q = 0;
    for (int d = 0; d < D; ++d) q += s[d] * s[d] * y[d] * y[d];
    return std::sqrt(q) - r;
  });
}

}  // namespace ductile::kadj
