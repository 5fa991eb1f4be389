// von Mises return mapping on the Hencky strain: states far outside land on the yield surface
// ||dev tau|| = yield_stress (+ hardening), volume and flow direction are kept, the accumulated plastic
// strain goes into `plastic`, and states inside are left untouched.
#include <doctest/doctest.h>

#include "material_test_util.h"
#include "materials/von_mises.h"

using namespace ductile;
using namespace ductile::test;

template <int D>
static void check_return(double xi, double plastic0) {
  std::mt19937 rng(21 + D);
  std::vector<double> prm = default_params<VonMises, double>();
  prm[VonMises::kHardening] = xi;
  double mu, lambda;
  lame(prm[VonMises::kE], prm[VonMises::kNu], mu, lambda);
  const double sy = prm[VonMises::kYield];
  for (int trial = 0; trial < 30; ++trial) {
    Vec<double, D> eps;
    std::uniform_real_distribution<double> u(-0.3, 0.3);
    for (int d = 0; d < D; ++d) eps[d] = u(rng);
    Mat<double, D> F = from_strain<D>(rng, eps);
    const Mat<double, D> tau0 = VonMises::stress<double, D>(prm.data(), F, Mat<double, D>::zero(), 1.0);
    const double radius0 = sy + 2 * mu * xi * (plastic0 - 1);
    if (norm(principal_deviator(eps)) * 2 * mu < 2 * radius0) continue;  // want states well outside
    const double J0 = det(F);
    double plastic = plastic0;
    VonMises::project<double, D>(prm.data(), 1e-3, F, plastic);
    const Mat<double, D> tau = VonMises::stress<double, D>(prm.data(), F, Mat<double, D>::zero(), 1.0);
    const double radius = sy + 2 * mu * xi * (plastic - 1);
    const double n = std::sqrt(ddot(dev(tau), dev(tau)));
    CHECK(n == doctest::Approx(radius).epsilon(1e-10));
    CHECK(plastic > plastic0);
    CHECK(det(F) == doctest::Approx(J0).epsilon(1e-12));  // isochoric flow
    CHECK(max_diff(dev(tau), (n / std::sqrt(ddot(dev(tau0), dev(tau0)))) * dev(tau0)) <= 1e-8 * n);  // radial
    CHECK(max_diff(tau - dev(tau), tau0 - dev(tau0)) <= 1e-8 * max_abs(tau0));  // pressure kept
    // on the surface the return mapping is (to round-off) the identity
    Mat<double, D> G = F;
    double p2 = plastic;
    VonMises::project<double, D>(prm.data(), 1e-3, G, p2);
    CHECK(max_diff(G, F) <= 1e-12);
    CHECK(p2 == doctest::Approx(plastic).epsilon(1e-12));
  }
}

TEST_CASE("material von_mises: states outside return onto ||dev tau|| = yield_stress") {
  check_return<2>(0.0, 1.0);
  check_return<3>(0.0, 1.0);
}

TEST_CASE("material von_mises: linear hardening grows the radius with the accumulated plastic strain") {
  check_return<2>(0.5, 1.0);
  check_return<3>(0.5, 1.0);
  check_return<3>(2.0, 1.01);
  // accumulated strain adds up: two yields give plastic - 1 = dgamma1 + dgamma2
  std::vector<double> prm = default_params<VonMises, double>();
  double mu, lambda;
  lame(prm[VonMises::kE], prm[VonMises::kNu], mu, lambda);
  Mat<double, 3> F = Mat<double, 3>::diag({{1.2, 1 / std::sqrt(1.2), 1 / std::sqrt(1.2)}});
  double plastic = 1;
  VonMises::project<double, 3>(prm.data(), 1e-3, F, plastic);
  const double expected1 =
      norm(principal_deviator(hencky_strain(Vec<double, 3>{{1.2, 1 / std::sqrt(1.2), 1 / std::sqrt(1.2)}}))) -
      prm[VonMises::kYield] / (2 * mu);
  CHECK(plastic - 1 == doctest::Approx(expected1).epsilon(1e-10));
}

TEST_CASE("material von_mises: identity inside the elastic region") {
  std::mt19937 rng(8);
  std::vector<double> prm = default_params<VonMises, double>();
  for (int trial = 0; trial < 20; ++trial) {
    // deviatoric Hencky strain well below yield_stress / (2 mu) = 0.0208, any volume change
    Vec<double, 3> eps{{0.004, -0.003, -0.001}};
    const double vol = 0.1 * (trial - 10) / 10.0;
    for (int d = 0; d < 3; ++d) eps[d] += vol;
    const Mat<double, 3> F0 = from_strain<3>(rng, eps);
    Mat<double, 3> F = F0;
    double plastic = 1.3;
    VonMises::project<double, 3>(prm.data(), 1e-3, F, plastic);
    CHECK(max_diff(F, F0) == 0.0);
    CHECK(plastic == 1.3);
  }
}

TEST_CASE("material von_mises: Hencky stress clamps singular values at 0.05") {
  std::vector<double> prm = default_params<VonMises, double>();
  Mat<double, 3> a = Mat<double, 3>::diag({{1.0, 1.0, 0.01}});
  Mat<double, 3> b = Mat<double, 3>::diag({{1.0, 1.0, 0.05}});
  Mat<double, 3> c = Mat<double, 3>::diag({{1.0, 1.0, -0.3}});
  Mat<double, 3> Z = Mat<double, 3>::zero();
  Mat<double, 3> tb = VonMises::stress<double, 3>(prm.data(), b, Z, 1.0);
  CHECK(max_diff(VonMises::stress<double, 3>(prm.data(), a, Z, 1.0), tb) == 0.0);
  CHECK(max_diff(VonMises::stress<double, 3>(prm.data(), c, Z, 1.0), tb) <= 1e-9 * max_abs(tb));
  CHECK(std::isfinite(max_abs(tb)));
}
