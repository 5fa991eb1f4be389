// The active stress of actuators: its adjoint against central differences, zero at zero activation, and
// rotation equivariance (kernels/actuation.h).
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "kernels/actuation.h"

namespace ductile {

namespace {

// tau of one particle (n = 1) with level L, deformation F and fiber f.
template <int D>
void active_tau(const double* F, const double* f, double L, double* tau) {
  const int32_t act = 0;
  for (int i = 0; i < D * D; ++i) tau[i] = 0;
  Actuation<double, D> k{1, F, &act, f, &L, tau};
  k(0);
}

template <int D>
void check_adjoint(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  double F[D * D], f[D], G[D * D];
  for (int i = 0; i < D * D; ++i) F[i] = (i % (D + 1) == 0 ? 1.0 : 0.0) + 0.3 * u(rng), G[i] = u(rng);
  double norm = 0;
  for (int i = 0; i < D; ++i) f[i] = u(rng), norm += f[i] * f[i];
  for (int i = 0; i < D; ++i) f[i] /= std::sqrt(norm);
  double L = 700 * u(rng);
  // loss = <G, tau>
  auto loss = [&]() {
    double tau[D * D];
    active_tau<D>(F, f, L, tau);
    double s = 0;
    for (int i = 0; i < D * D; ++i) s += G[i] * tau[i];
    return s;
  };
  const int32_t act = 0;
  double adj_F[D * D] = {}, adj_L = 0;
  Actuation<double, D> fwd{1, F, &act, f, &L, nullptr};
  ActuationAdjoint<double, D>{fwd, G, adj_F, &adj_L}(0);
  const double h = 1e-6;
  for (int i = 0; i < D * D; ++i) {
    const double keep = F[i];
    F[i] = keep + h;
    const double lp = loss();
    F[i] = keep - h;
    const double lm = loss();
    F[i] = keep;
    CHECK(adj_F[i] == doctest::Approx((lp - lm) / (2 * h)).epsilon(1e-7));
  }
  const double keep = L;
  L = keep + h;
  const double lp = loss();
  L = keep - h;
  const double lm = loss();
  L = keep;
  CHECK(adj_L == doctest::Approx((lp - lm) / (2 * h)).epsilon(1e-7));
}

}  // namespace

TEST_CASE("robots: the active stress's adjoint matches central differences (2D and 3D)") {
  for (uint64_t s = 1; s <= 5; ++s) check_adjoint<2>(s), check_adjoint<3>(s);
}

TEST_CASE("robots: no activation, no active stress, passive particles untouched") {
  const double F[9] = {1.1, 0.2, 0, -0.1, 0.9, 0.3, 0, 0.1, 1.2}, f[3] = {0, 1, 0};
  double tau[9];
  active_tau<3>(F, f, 0.0, tau);
  for (double t : tau) CHECK(t == 0.0);
  const int32_t passive = -1;
  double L = 5, tau2[9] = {};
  Actuation<double, 3>{1, F, &passive, f, &L, tau2}(0);
  for (double t : tau2) CHECK(t == 0.0);
}

TEST_CASE("robots: the active stress rotates with the material (tau(RF) = R tau(F) R^T)") {
  const double F[4] = {1.2, 0.1, -0.2, 0.8}, f[2] = {0.6, 0.8};
  const double a = 0.7, R[4] = {std::cos(a), -std::sin(a), std::sin(a), std::cos(a)};
  double RF[4] = {}, tau[4], tau_r[4];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k) RF[i * 2 + j] += R[i * 2 + k] * F[k * 2 + j];
  active_tau<2>(F, f, 3.0, tau);
  active_tau<2>(RF, f, 3.0, tau_r);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double e = 0;
      for (int k = 0; k < 2; ++k)
        for (int l = 0; l < 2; ++l) e += R[i * 2 + k] * tau[k * 2 + l] * R[j * 2 + l];
      CHECK(tau_r[i * 2 + j] == doctest::Approx(e).epsilon(1e-12));
    }
}

}  // namespace ductile
