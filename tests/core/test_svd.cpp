// SVD: reconstruction, rotation factors, sign convention, degenerate inputs.
#include <doctest/doctest.h>

#include <random>

#include "core/svd.h"

using namespace ductile;

template <class T, int D>
static void check_svd(const Mat<T, D>& F, double tol) {
  Svd<T, D> s = svd(F);
  Mat<T, D> back = compose(s.U, s.sigma, s.V);
  double scale = 1;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) scale = std::max(scale, double(std::fabs(F(i, j))));
  for (int i = 0; i < D; ++i)
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) CHECK(std::fabs(double(back(i, j) - F(i, j))) <= tol * scale);
  CHECK(double(det(s.U)) == doctest::Approx(1).epsilon(tol * 10));
  CHECK(double(det(s.V)) == doctest::Approx(1).epsilon(tol * 10));
  for (int d = 0; d + 1 < D; ++d)
    CHECK(double(s.sigma[d]) >= std::fabs(double(s.sigma[d + 1])) - tol * scale);
  for (int d = 0; d + 1 < D; ++d) CHECK(s.sigma[d] >= T(0));
}

TEST_CASE_TEMPLATE("svd reconstructs random, rotated and degenerate matrices", T, float, double) {
  const double tol = sizeof(T) == 4 ? 2e-6 : 1e-13;
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(-1.5, 1.5);
  for (int trial = 0; trial < 200; ++trial) {
    Mat<T, 3> F;
    Mat<T, 2> G;
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) F(i, j) = T(u(rng) + (i == j ? 1.0 : 0.0));
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) G(i, j) = T(u(rng) + (i == j ? 1.0 : 0.0));
    check_svd<T, 3>(F, tol);
    check_svd<T, 2>(G, tol);
  }
  // identity, repeated and zero singular values, reflections
  check_svd<T, 3>(Mat<T, 3>::identity(), tol);
  check_svd<T, 3>(Mat<T, 3>::diag({{T(2), T(2), T(0.5)}}), tol);
  check_svd<T, 3>(Mat<T, 3>::diag({{T(1), T(0), T(0)}}), tol);
  check_svd<T, 3>(Mat<T, 3>::zero(), tol);
  check_svd<T, 3>(Mat<T, 3>::diag({{T(1), T(1), T(-1)}}), tol);
  check_svd<T, 2>(Mat<T, 2>::diag({{T(-1), T(1)}}), tol);
  check_svd<T, 2>(Mat<T, 2>::zero(), tol);
}

TEST_CASE("svd: negative determinant puts the sign on the smallest singular value") {
  Mat<double, 3> F = Mat<double, 3>::diag({{3.0, -2.0, 0.5}});
  Svd<double, 3> s = svd(F);
  CHECK(s.sigma[0] == doctest::Approx(3));
  CHECK(s.sigma[1] == doctest::Approx(2));
  CHECK(s.sigma[2] == doctest::Approx(-0.5));
}
