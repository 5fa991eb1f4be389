// Drucker-Prager sand (Klar et al. 2016): compressed and sheared states land on the cone, expanded states on
// its tip, states inside are untouched; cohesion moves the apex; the optional volume correction stores and
// consumes the volume gained at the tip.
#include <doctest/doctest.h>

#include "material_test_util.h"
#include "materials/drucker_prager.h"

using namespace ductile;
using namespace ductile::test;

// Yield function ||dev tau|| + alpha tr tau - alpha_c of a state.
template <int D>
static double yield_fn(const std::vector<double>& prm, const Mat<double, D>& F) {
  double alpha, alpha_c;
  DruckerPrager::cone<double, D>(prm.data(), alpha, alpha_c);
  Mat<double, D> tau = DruckerPrager::stress<double, D>(prm.data(), F, Mat<double, D>::zero(), 1.0);
  return std::sqrt(ddot(dev(tau), dev(tau))) + alpha * trace(tau) - alpha_c;
}

template <int D>
static void check_cone(double phi, double cohesion) {
  std::mt19937 rng(31 + D);
  std::vector<double> prm = default_params<DruckerPrager, double>();
  prm[DruckerPrager::kFriction] = phi;
  prm[DruckerPrager::kCohesion] = cohesion;
  double mu, lambda, alpha, alpha_c;
  lame(prm[DruckerPrager::kE], prm[DruckerPrager::kNu], mu, lambda);
  DruckerPrager::cone<double, D>(prm.data(), alpha, alpha_c);
  const double bulk = D * lambda + 2 * mu;
  int on_cone = 0, on_tip = 0, inside = 0;
  for (int trial = 0; trial < 200; ++trial) {
    Vec<double, D> eps;
    std::uniform_real_distribution<double> u(-0.2, 0.2);
    for (int d = 0; d < D; ++d) eps[d] = u(rng);
    const Mat<double, D> F0 = from_strain<D>(rng, eps);
    const double f0 = yield_fn<D>(prm, F0), scale = 2 * mu * norm(principal_deviator(eps)) + bulk * 0.2;
    Mat<double, D> F = F0;
    double plastic = 1;
    DruckerPrager::project<double, D>(prm.data(), 1e-3, F, plastic);
    CHECK(plastic == 1.0);  // volume correction off
    const double tr = principal_trace(eps);
    if (alpha > 0 && bulk * tr * alpha >= alpha_c) {
      // tip: isotropic state at tr tau = alpha_c / alpha
      ++on_tip;
      Mat<double, D> tau = DruckerPrager::stress<double, D>(prm.data(), F, Mat<double, D>::zero(), 1.0);
      CHECK(max_abs(dev(tau)) <= 1e-9 * (1 + alpha_c / alpha));
      CHECK(std::fabs(trace(tau) - alpha_c / alpha) <= 1e-10 * (alpha_c / alpha + 2 * mu));
      if (cohesion == 0) CHECK(max_diff(F * transpose(F), Mat<double, D>::identity()) <= 1e-12);
    } else if (f0 > 0) {
      // cone: f = 0 and the volume is unchanged
      ++on_cone;
      CHECK(std::fabs(yield_fn<D>(prm, F)) <= 1e-9 * scale);
      CHECK(det(F) == doctest::Approx(det(F0)).epsilon(1e-12));
    } else {
      ++inside;
      CHECK(max_diff(F, F0) == 0.0);
    }
  }
  CHECK(on_cone > 10);
  if (alpha > 0) CHECK(on_tip > 10);
}

TEST_CASE("material drucker_prager: return onto the cone, the tip, or identity inside") {
  check_cone<2>(25, 0);
  check_cone<3>(25, 0);
  check_cone<3>(45, 0);
  check_cone<3>(35, 2e4);
  check_cone<2>(35, 2e4);
}

TEST_CASE("material drucker_prager: identity inside the cone (compressed, little shear)") {
  std::mt19937 rng(3);
  std::vector<double> prm = default_params<DruckerPrager, double>();
  for (int trial = 0; trial < 10; ++trial) {
    Vec<double, 3> eps{{-0.05, -0.04, -0.045}};
    const Mat<double, 3> F0 = from_strain<3>(rng, eps);
    Mat<double, 3> F = F0;
    double plastic = 1;
    DruckerPrager::project<double, 3>(prm.data(), 1e-3, F, plastic);
    CHECK(max_diff(F, F0) == 0.0);
  }
}

TEST_CASE("material drucker_prager: zero friction angle with cohesion is a von Mises cylinder") {
  std::vector<double> prm = default_params<DruckerPrager, double>();
  prm[DruckerPrager::kFriction] = 0;
  prm[DruckerPrager::kCohesion] = 1e4;
  double alpha, alpha_c;
  DruckerPrager::cone<double, 3>(prm.data(), alpha, alpha_c);
  CHECK(alpha == 0.0);
  CHECK(alpha_c == doctest::Approx(3 * 1e4 * std::sqrt(2.0 / 3.0) * 2 / 3));
  Mat<double, 3> F = Mat<double, 3>::diag({{1.1, 0.95, 1.02}});
  double plastic = 1;
  DruckerPrager::project<double, 3>(prm.data(), 1e-3, F, plastic);
  Mat<double, 3> tau = DruckerPrager::stress<double, 3>(prm.data(), F, Mat<double, 3>::zero(), 1.0);
  CHECK(std::sqrt(ddot(dev(tau), dev(tau))) == doctest::Approx(alpha_c).epsilon(1e-10));
}

TEST_CASE("material drucker_prager: volume correction stores the volume gained at the tip") {
  std::mt19937 rng(4);
  std::vector<double> prm = default_params<DruckerPrager, double>();
  prm[DruckerPrager::kVolumeCorrection] = 1;
  const Mat<double, 3> Q = random_rotation<double, 3>(rng);
  // expansion: to the tip (F = rotation), plastic = gained volume 1.1^3
  Mat<double, 3> F = 1.1 * Q;
  double plastic = 1;
  DruckerPrager::project<double, 3>(prm.data(), 1e-3, F, plastic);
  CHECK(plastic == doctest::Approx(1.1 * 1.1 * 1.1).epsilon(1e-12));
  CHECK(max_diff(F, Q) <= 1e-12);
  // mild compression is absorbed by the stored volume: still at the tip, less stored volume
  F = 0.98 * F;
  DruckerPrager::project<double, 3>(prm.data(), 1e-3, F, plastic);
  CHECK(plastic == doctest::Approx(std::pow(1.1 * 0.98, 3)).epsilon(1e-12));
  CHECK(max_diff(F, Q) <= 1e-12);
  // strong compression uses the rest up: plastic back to 1, a hydrostatic state stays as it is
  F = 0.8 * F;
  const Mat<double, 3> F0 = F;
  DruckerPrager::project<double, 3>(prm.data(), 1e-3, F, plastic);
  CHECK(plastic == 1.0);
  CHECK(max_diff(F, F0) == 0.0);
  // without the correction, plastic stays 1 through the same sequence
  prm[DruckerPrager::kVolumeCorrection] = 0;
  F = 1.1 * Q;
  plastic = 1;
  DruckerPrager::project<double, 3>(prm.data(), 1e-3, F, plastic);
  CHECK(plastic == 1.0);
}
