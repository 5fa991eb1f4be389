// Helpers for the constitutive-model tests: default parameters, random rotations and deformation gradients,
// matrix distances and finite-difference Kirchhoff stress from an energy.
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/math.h"
#include "materials/param.h"

namespace ductile::test {

// The model's default parameter values in precision T.
template <class Model, class T>
std::vector<T> default_params() {
  std::vector<T> p;
  for (const auto& s : Model::specs()) p.push_back(T(s.default_value));
  return p;
}

// The value of the named parameter's slot (the index into specs()).
template <class Model>
int param_index(const char* name) {
  const auto& s = Model::specs();
  for (size_t i = 0; i < s.size(); ++i)
    if (std::string(s[i].name) == name) return int(i);
  return -1;
}

// Largest absolute entry and largest absolute difference of matrices.
template <class T, int D>
double max_abs(const Mat<T, D>& a) {
  double m = 0;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) m = std::fmax(m, std::fabs(double(a(i, j))));
  return m;
}
template <class T, int D>
double max_diff(const Mat<T, D>& a, const Mat<T, D>& b) {
  return max_abs<T, D>(a - b);
}

// Uniformly random rotation: a random unit quaternion (3D) or angle (2D).
template <class T, int D>
Mat<T, D> random_rotation(std::mt19937& rng) {
  std::normal_distribution<double> g(0, 1);
  Mat<T, D> Q;
  if constexpr (D == 2) {
    double a = std::atan2(g(rng), g(rng));
    Q(0, 0) = T(std::cos(a)), Q(0, 1) = T(-std::sin(a));
    Q(1, 0) = T(std::sin(a)), Q(1, 1) = T(std::cos(a));
  } else {
    double w = g(rng), x = g(rng), y = g(rng), z = g(rng);
    double n = std::sqrt(w * w + x * x + y * y + z * z);
    w /= n, x /= n, y /= n, z /= n;
    double r[3][3] = {{1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)},
                      {2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)},
                      {2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)}};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) Q(i, j) = T(r[i][j]);
  }
  return Q;
}

// Random matrix with entries uniform in [-amp, amp].
template <class T, int D>
Mat<T, D> random_matrix(std::mt19937& rng, double amp) {
  std::uniform_real_distribution<double> u(-amp, amp);
  Mat<T, D> A;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) A(i, j) = T(u(rng));
  return A;
}

// Random deformation gradient I + A (|A_ij| <= amp) with det F >= 0.3.
template <class T, int D>
Mat<T, D> random_F(std::mt19937& rng, double amp) {
  for (;;) {
    Mat<T, D> F = Mat<T, D>::identity() + random_matrix<T, D>(rng, amp);
    if (double(det(F)) >= 0.3) return F;
  }
}

// Kirchhoff stress (d psi / dF) F^T by central differences of energy(F), step h relative to 1.
template <class T, int D, class Energy>
Mat<T, D> fd_kirchhoff(const Energy& energy, const Mat<T, D>& F, T h) {
  Mat<T, D> P;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      Mat<T, D> Fp = F, Fm = F;
      Fp(i, j) += h;
      Fm(i, j) -= h;
      P(i, j) = (energy(Fp) - energy(Fm)) / (T(2) * h);
    }
  return P * transpose(F);
}

// Deviatoric part of a matrix.
template <int D>
Mat<double, D> dev(const Mat<double, D>& a) {
  return a - (trace(a) / D) * Mat<double, D>::identity();
}

// F = Q1 diag(exp(eps)) Q2 for a principal Hencky strain eps and random rotations.
template <int D>
Mat<double, D> from_strain(std::mt19937& rng, const Vec<double, D>& eps) {
  Vec<double, D> s;
  for (int d = 0; d < D; ++d) s[d] = std::exp(eps[d]);
  return compose(random_rotation<double, D>(rng), s, random_rotation<double, D>(rng));
}

}  // namespace ductile::test
