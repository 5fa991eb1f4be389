// Weakly compressible fluid: pressure sign, the Taichi J-fluid forms, the bulk modulus at rest, isotropic F
// after projection, and a viscous stress that vanishes for rigid rotation.
#include <doctest/doctest.h>

#include "material_test_util.h"
#include "materials/fluid.h"

using namespace ductile;
using namespace ductile::test;

static std::vector<double> fluid_params(double K, double gamma, double eta) {
  std::vector<double> p = default_params<Fluid, double>();
  p[Fluid::kBulk] = K, p[Fluid::kGamma] = gamma, p[Fluid::kViscosity] = eta;
  return p;
}

TEST_CASE(
    "material fluid: compression gives positive pressure (negative tau diagonal), expansion the opposite") {
  for (double gamma : {1.0, -1.0, 0.0, 7.0, 2.0, -2.0}) {
    const auto prm = fluid_params(1e5, gamma, 0);
    const Mat<double, 3> Z = Mat<double, 3>::zero();
    const Mat<double, 3> tc = Fluid::stress<double, 3>(prm.data(), 0.95 * Mat<double, 3>::identity(), Z, 1.0);
    const Mat<double, 3> te = Fluid::stress<double, 3>(prm.data(), 1.05 * Mat<double, 3>::identity(), Z, 1.0);
    INFO("gamma " << gamma);
    CHECK(Fluid::pressure(prm.data(), 0.9) > 0);
    CHECK(Fluid::pressure(prm.data(), 1.1) < 0);
    for (int i = 0; i < 3; ++i) {
      CHECK(tc(i, i) < 0);
      CHECK(te(i, i) > 0);
      for (int j = 0; j < 3; ++j)
        if (i != j) CHECK(tc(i, j) == 0.0);
    }
    // K is the bulk modulus at rest: -J dp/dJ = K at J = 1
    const double h = 1e-6;
    CHECK(-(Fluid::pressure(prm.data(), 1 + h) - Fluid::pressure(prm.data(), 1 - h)) / (2 * h) ==
          doctest::Approx(1e5).epsilon(1e-7));
  }
}

TEST_CASE(
    "material fluid: gamma = 1 is the taichi mpm3d J-fluid tau = K (J-1) I, gamma = -1 mpm128's K J (J-1) "
    "I") {
  std::mt19937 rng(9);
  for (int trial = 0; trial < 20; ++trial) {
    const Mat<double, 3> F = random_F<double, 3>(rng, 0.2);
    const double J = det(F);
    const Mat<double, 3> I = Mat<double, 3>::identity(), Z = Mat<double, 3>::zero();
    auto a = fluid_params(400, 1, 0), b = fluid_params(400, -1, 0);
    CHECK(max_diff(Fluid::stress<double, 3>(a.data(), F, Z, 1.0), (400 * (J - 1)) * I) <= 1e-12);
    CHECK(max_diff(Fluid::stress<double, 3>(b.data(), F, Z, 1.0), (400 * J * (J - 1)) * I) <= 1e-12);
  }
  // the defaults are the taichi form
  CHECK(Fluid::specs()[Fluid::kGamma].default_value == 1.0);
  const auto d = default_params<Fluid, double>();
  CHECK(Fluid::wave_speed<double>(d.data()) ==
        doctest::Approx(std::sqrt(d[Fluid::kBulk] / d[Fluid::kDensity])));
}

TEST_CASE("material fluid: energy gives the EOS stress for every gamma") {
  std::mt19937 rng(10);
  for (double gamma : {1.0, -1.0, 0.0, 7.0, 2.5, 1e-8, 1 + 1e-8}) {
    const auto prm = fluid_params(2e5, gamma, 0);
    for (int trial = 0; trial < 5; ++trial) {
      const Mat<double, 3> F = random_F<double, 3>(rng, 0.2);
      auto psi = [&](const Mat<double, 3>& G) { return Fluid::energy<double, 3>(prm.data(), G, 1.0); };
      const Mat<double, 3> tau = Fluid::stress<double, 3>(prm.data(), F, Mat<double, 3>::zero(), 1.0);
      INFO("gamma " << gamma);
      CHECK(max_diff(fd_kirchhoff<double, 3>(psi, F, 1e-6), tau) <= 1e-6 * max_abs(tau));
    }
  }
}

template <int D>
static void check_project() {
  std::mt19937 rng(12 + D);
  const auto prm = default_params<Fluid, double>();
  for (int trial = 0; trial < 20; ++trial) {
    const Mat<double, D> F0 = random_F<double, D>(rng, 0.3);
    Mat<double, D> F = F0;
    double plastic = 1;
    Fluid::project<double, D>(prm.data(), 1e-3, F, plastic);
    CHECK(max_diff(F, F(0, 0) * Mat<double, D>::identity()) == 0.0);
    CHECK(det(F) == doctest::Approx(det(F0)).epsilon(1e-13));
    CHECK(plastic == 1.0);
    // stress depends on J only, so the projection leaves it unchanged
    const Mat<double, D> Z = Mat<double, D>::zero();
    CHECK(max_diff(Fluid::stress<double, D>(prm.data(), F, Z, 1.0),
                   Fluid::stress<double, D>(prm.data(), F0, Z, 1.0)) <= 1e-9);
  }
}

TEST_CASE("material fluid: projection leaves F isotropic with the same J") {
  check_project<2>();
  check_project<3>();
}

template <int D>
static void check_viscosity() {
  std::mt19937 rng(13 + D);
  const double eta = 0.8;
  const auto prm = fluid_params(1e5, 1, eta), inviscid = fluid_params(1e5, 1, 0);
  for (int trial = 0; trial < 20; ++trial) {
    const Mat<double, D> F = random_F<double, D>(rng, 0.2);
    const Mat<double, D> A = random_matrix<double, D>(rng, 3.0);
    const Mat<double, D> W = A - transpose(A);  // rigid rotation rate
    const Mat<double, D> t0 = Fluid::stress<double, D>(inviscid.data(), F, Mat<double, D>::zero(), 1.0);
    CHECK(max_diff(Fluid::stress<double, D>(prm.data(), F, W, 1.0), t0) <= 1e-12 * max_abs(t0));
    // general C: viscous part is J 2 eta dev(sym C), traceless
    const Mat<double, D> visc = Fluid::stress<double, D>(prm.data(), F, A, 1.0) - t0;
    const Mat<double, D> dev = sym(A) - (trace(A) / D) * Mat<double, D>::identity();
    const double tol = 1e-12 * max_abs(t0);  // visc is a difference of stresses of size t0
    CHECK(max_diff(visc, (2 * eta * det(F)) * dev) <= tol);
    CHECK(std::fabs(trace(visc)) <= tol);
    // expansion rate C = c I gives no viscous stress (no bulk viscosity)
    CHECK(max_diff(Fluid::stress<double, D>(prm.data(), F, 2.0 * Mat<double, D>::identity(), 1.0), t0) <=
          1e-12 * max_abs(t0));
  }
}

TEST_CASE("material fluid: viscous stress is zero for rigid rotation and deviatoric otherwise") {
  check_viscosity<2>();
  check_viscosity<3>();
}
