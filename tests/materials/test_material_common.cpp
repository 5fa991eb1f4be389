// Properties every analytic model shares: zero stress and identity projection at rest (float and double),
// rotation equivariance of the stress and of the return mapping, tau = (d psi/dF) F^T by central finite
// differences, and the small-strain limit of the elastic models (linear elasticity with E, nu).
#include <doctest/doctest.h>

#include <type_traits>

#include "material_test_util.h"
#include "materials/all_models.h"

using namespace ductile;
using namespace ductile::test;

#define DUCTILE_ALL_ANALYTIC FixedCorotated, NeoHookean, VonMises, DruckerPrager, Snow, Fluid, HerschelBulkley

// Largest parameter value, a scale for absolute stress tolerances.
template <class Model, class T>
static double param_scale(const std::vector<T>& prm) {
  double s = 1;
  for (size_t i = 1; i < prm.size(); ++i) s = std::fmax(s, std::fabs(double(prm[i])));
  return s;
}

template <class Model, class T, int D>
static void check_rest() {
  const std::vector<T> prm = default_params<Model, T>();
  const double tol = (sizeof(T) == 4 ? 1e-6 : 1e-13) * param_scale<Model>(prm);
  Mat<T, D> I = Mat<T, D>::identity();
  Mat<T, D> tau = Model::template stress<T, D>(prm.data(), I, Mat<T, D>::zero(), T(1));
  CHECK(max_abs(tau) <= tol);
  Mat<T, D> F = I;
  T plastic = 1;
  Model::template project<T, D>(prm.data(), T(1e-3), F, plastic);
  CHECK(max_diff(F, I) <= (sizeof(T) == 4 ? 1e-6 : 1e-14));
  CHECK(double(plastic) == doctest::Approx(1.0));
}

TEST_CASE_TEMPLATE("material: zero stress and identity projection at rest, float and double", M,
                   DUCTILE_ALL_ANALYTIC) {
  check_rest<M, float, 2>();
  check_rest<M, float, 3>();
  check_rest<M, double, 2>();
  check_rest<M, double, 3>();
}

TEST_CASE_TEMPLATE("material: parameter table starts with density, defaults inside their ranges", M,
                   DUCTILE_ALL_ANALYTIC) {
  const auto& specs = M::specs();
  REQUIRE(specs.size() >= 2);
  REQUIRE(int(specs.size()) <= kMaxMaterialParams);
  CHECK(std::string(specs[0].name) == "density");
  CHECK(std::string(specs[0].unit) == "kg/m^3");
  for (const auto& s : specs) {
    INFO(M::kName << "/" << s.name);
    CHECK(std::string(s.unit).size() > 0);
    CHECK(std::string(s.meaning).size() > 0);
    CHECK((s.min_exclusive ? s.default_value > s.min : s.default_value >= s.min));
    CHECK((s.max_exclusive ? s.default_value < s.max : s.default_value <= s.max));
  }
  if (param_index<M>("E") >= 0) {
    CHECK(param_index<M>("E") == 1);
    CHECK(param_index<M>("nu") == 2);
  }
  const std::vector<double> prm = default_params<M, double>();
  CHECK(M::template wave_speed<double>(prm.data()) > 0);
}

template <class Model, int D>
static void check_equivariance() {
  std::mt19937 rng(11 + D);
  const std::vector<double> prm = default_params<Model, double>();
  for (int trial = 0; trial < 40; ++trial) {
    const Mat<double, D> F = random_F<double, D>(rng, 0.3);
    const Mat<double, D> C = random_matrix<double, D>(rng, 2.0);
    const Mat<double, D> Q = random_rotation<double, D>(rng);
    const double plastic = 1;
    // stress: tau(QF, Q C Q^T) = Q tau(F, C) Q^T
    Mat<double, D> a = Model::template stress<double, D>(prm.data(), Q * F, Q * C * transpose(Q), plastic);
    Mat<double, D> b = Q * Model::template stress<double, D>(prm.data(), F, C, plastic) * transpose(Q);
    CHECK(max_diff(a, b) <= 1e-10 * std::fmax(1.0, max_abs(b)));
    // return mapping: project(QF) = Q project(F) (the fluid forgets rotations: project(QF) = project(F))
    Mat<double, D> Fa = Q * F, Fb = F;
    double pa = plastic, pb = plastic;
    Model::template project<double, D>(prm.data(), 1e-3, Fa, pa);
    Model::template project<double, D>(prm.data(), 1e-3, Fb, pb);
    if constexpr (std::is_same_v<Model, Fluid>)
      CHECK(max_diff(Fa, Fb) <= 1e-12);
    else
      CHECK(max_diff(Fa, Q * Fb) <= 1e-11);
    CHECK(pa == doctest::Approx(pb).epsilon(1e-11));
  }
}

TEST_CASE_TEMPLATE("material: stress and projection are rotation equivariant", M, DUCTILE_ALL_ANALYTIC) {
  check_equivariance<M, 2>();
  check_equivariance<M, 3>();
}

template <class Model, int D>
static void check_energy(std::vector<double> prm, double plastic, int seed) {
  std::mt19937 rng(seed);
  for (int trial = 0; trial < 20; ++trial) {
    const Mat<double, D> F = random_F<double, D>(rng, 0.25);
    auto psi = [&](const Mat<double, D>& G) {
      return Model::template energy<double, D>(prm.data(), G, plastic);
    };
    Mat<double, D> fd = fd_kirchhoff<double, D>(psi, F, 1e-6);
    Mat<double, D> tau = Model::template stress<double, D>(prm.data(), F, Mat<double, D>::zero(), plastic);
    INFO(Model::kName << " D=" << D << " trial " << trial);
    CHECK(max_diff(fd, tau) <= 1e-6 * max_abs(tau));
  }
  CHECK(std::fabs(Model::template energy<double, D>(prm.data(), Mat<double, D>::identity(), plastic)) <=
        1e-12);
}

TEST_CASE_TEMPLATE("material: Kirchhoff stress is dpsi/dF F^T (central differences, double)", M,
                   DUCTILE_ALL_ANALYTIC) {
  const std::vector<double> prm = default_params<M, double>();
  check_energy<M, 2>(prm, 1.0, 3);
  check_energy<M, 3>(prm, 1.0, 4);
}

template <class Model, int D>
static void check_small_strain() {
  std::mt19937 rng(5);
  const std::vector<double> prm = default_params<Model, double>();
  double mu, lambda;
  lame(prm[1], prm[2], mu, lambda);
  for (int trial = 0; trial < 10; ++trial) {
    const double e = 1e-6;
    Mat<double, D> S = sym(random_matrix<double, D>(rng, 1.0));
    Mat<double, D> Q = random_rotation<double, D>(rng);
    Mat<double, D> F = Q * (Mat<double, D>::identity() + e * S);
    Mat<double, D> tau = Model::template stress<double, D>(prm.data(), F, Mat<double, D>::zero(), 1.0);
    Mat<double, D> lin =
        Q * ((2 * mu * e) * S + (lambda * e * trace(S)) * Mat<double, D>::identity()) * transpose(Q);
    CHECK(max_diff(tau, lin) <= 1e-4 * max_abs(lin));
  }
}

TEST_CASE_TEMPLATE("material: elastic models linearise to Hooke's law with the Lame constants of E, nu", M,
                   FixedCorotated, NeoHookean, VonMises, DruckerPrager, Snow, HerschelBulkley) {
  check_small_strain<M, 2>();
  check_small_strain<M, 3>();
}
