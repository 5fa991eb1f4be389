// Herschel-Bulkley elasto-viscoplastic fluid (Yue et al. 2015): after the return mapping the flow rule
// residual x - x_tr + mubar dt ((x - tau_y)/K)^(1/n) is zero, the flow is isochoric and keeps the stress
// direction; below the yield stress nothing changes; steady simple shear reproduces x = tau_y + K gdot^n.
#include <doctest/doctest.h>

#include "material_test_util.h"
#include "materials/herschel_bulkley.h"

using namespace ductile;
using namespace ductile::test;

// Equivalent shear stress ||dev tau|| / sqrt(2) and mubar = mu tr(bbar) / D of a state.
template <int D>
static void shear_state(const std::vector<double>& prm, const Mat<double, D>& F, double& x, double& mubar,
                        Mat<double, D>& s) {
  double mu, kappa;
  HerschelBulkley::moduli<double, D>(prm.data(), mu, kappa);
  s = dev(HerschelBulkley::stress<double, D>(prm.data(), F, Mat<double, D>::zero(), 1.0));
  x = std::sqrt(ddot(s, s) / 2);
  mubar = mu * std::pow(det(F), -2.0 / D) * ddot(F, F) / D;
}

template <int D>
static void check_flow_rule(double n, double tau_y, double K, double dt) {
  std::mt19937 rng(51 + D);
  std::vector<double> prm = default_params<HerschelBulkley, double>();
  prm[HerschelBulkley::kYield] = tau_y;
  prm[HerschelBulkley::kConsistency] = K;
  prm[HerschelBulkley::kFlowIndex] = n;
  for (int trial = 0; trial < 20; ++trial) {
    const Mat<double, D> F0 = random_F<double, D>(rng, trial < 10 ? 0.3 : 0.02);
    double x_tr, mubar, x, unused;
    Mat<double, D> s_tr, s;
    shear_state<D>(prm, F0, x_tr, mubar, s_tr);
    Mat<double, D> F = F0;
    double plastic = 1;
    HerschelBulkley::project<double, D>(prm.data(), dt, F, plastic);
    CHECK(plastic == 1.0);
    INFO("n=" << n << " tau_y=" << tau_y << " K=" << K << " dt=" << dt << " x_tr=" << x_tr);
    if (x_tr <= tau_y) {
      CHECK(max_diff(F, F0) == 0.0);
      continue;
    }
    shear_state<D>(prm, F, x, unused, s);
    CHECK(x >= tau_y * (1 - 1e-12));
    CHECK(x <= x_tr * (1 + 1e-12));
    // the root of g(x) = x - x_tr + mubar dt ((x - tau_y)/K)^(1/n) lies within 1e-10 x_tr of x (a bracket:
    // g itself is ill-conditioned near tau_y for n > 1, where its slope is infinite)
    if (K > 0) {
      auto g = [&](double v) {
        return v - x_tr + mubar * dt * std::pow(std::fmax(v - tau_y, 0.0) / K, 1 / n);
      };
      const double delta = 1e-10 * x_tr;
      CHECK(g(x - delta) <= 0);
      CHECK(g(x + delta) >= 0);
    } else {
      CHECK(x == doctest::Approx(tau_y).epsilon(1e-9));
    }
    CHECK(det(F) == doctest::Approx(det(F0)).epsilon(1e-12));  // isochoric
    CHECK(max_diff(s, (x / x_tr) * s_tr) <= 1e-9 * x_tr);      // radial: same direction
  }
}

TEST_CASE("material herschel_bulkley: the flow rule residual is zero after the return mapping") {
  for (double n : {0.1, 0.3, 0.5, 1.0, 2.0, 4.0})
    for (double tau_y : {0.0, 100.0})
      for (double dt : {1e-5, 1e-3, 1e-1}) {
        check_flow_rule<2>(n, tau_y, 50, dt);
        check_flow_rule<3>(n, tau_y, 50, dt);
      }
  // K = 0: rate-independent, the stress returns to the yield stress
  check_flow_rule<3>(0.5, 100, 0, 1e-3);
}

TEST_CASE("material herschel_bulkley: identity below the yield stress and for dt = 0") {
  std::mt19937 rng(7);
  std::vector<double> prm = default_params<HerschelBulkley, double>();
  prm[HerschelBulkley::kYield] = 1e6;
  for (int trial = 0; trial < 10; ++trial) {
    const Mat<double, 3> F0 = random_F<double, 3>(rng, 0.3);
    Mat<double, 3> F = F0;
    double plastic = 1;
    HerschelBulkley::project<double, 3>(prm.data(), 1e-3, F, plastic);
    CHECK(max_diff(F, F0) == 0.0);
  }
  prm = default_params<HerschelBulkley, double>();
  const Mat<double, 3> F0 = random_F<double, 3>(rng, 0.3);
  Mat<double, 3> F = F0;
  double plastic = 1;
  HerschelBulkley::project<double, 3>(prm.data(), 0.0, F, plastic);
  CHECK(max_diff(F, F0) <= 1e-13);
}

TEST_CASE("material herschel_bulkley: steady simple shear follows x = tau_y + K gdot^n") {
  for (double n : {0.4, 1.0, 1.5}) {
    std::vector<double> prm = default_params<HerschelBulkley, double>();
    prm[HerschelBulkley::kE] = 1e5;  // elastic shear strain ~ 1e-3 at the flow stress
    prm[HerschelBulkley::kFlowIndex] = n;
    const double tau_y = prm[HerschelBulkley::kYield], K = prm[HerschelBulkley::kConsistency];
    const double gdot = 2.0, dt = 1e-5;
    Mat<double, 3> L = Mat<double, 3>::zero();
    L(0, 1) = gdot;
    Mat<double, 3> F = Mat<double, 3>::identity();
    double plastic = 1;
    for (int step = 0; step < 20000; ++step) {
      F = (Mat<double, 3>::identity() + dt * L) * F;
      HerschelBulkley::project<double, 3>(prm.data(), dt, F, plastic);
    }
    double x, mubar;
    Mat<double, 3> s;
    shear_state<3>(prm, F, x, mubar, s);
    INFO("n = " << n);
    CHECK(x == doctest::Approx(tau_y + K * std::pow(gdot, n)).epsilon(5e-3));
    CHECK(s(0, 1) / x == doctest::Approx(1.0).epsilon(5e-3));  // the stress is a shear stress
  }
}

TEST_CASE("material herschel_bulkley: scalar flow solver converges for extreme flow indices") {
  for (double n : {0.1, 0.2, 0.5, 1.0, 2.0, 4.0})
    for (double a : {1e-3, 1.0, 1e4})
      for (double y_tr : {1e-3, 1.0, 1e5}) {
        const double K = 30;
        const double y = HerschelBulkley::solve_flow<double>(y_tr, a, K, n);
        INFO("n=" << n << " a=" << a << " y_tr=" << y_tr);
        CHECK(y >= 0);
        CHECK(y <= y_tr);
        auto g = [&](double v) { return v + a * std::pow(std::fmax(v, 0.0) / K, 1 / n) - y_tr; };
        CHECK(std::fabs(g(y)) <= 1e-10 * y_tr);
        CHECK(g(y - 1e-13 * y_tr) <= 0);
        CHECK(g(y + 1e-13 * y_tr) >= 0);
      }
}
