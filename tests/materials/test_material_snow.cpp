// Snow (Stomakhin et al. 2013): singular values end within [1 - theta_c, 1 + theta_s], J_P takes up the
// removed volume (det F_E J_P is conserved), states inside the clamp are untouched, and the Lame parameters
// harden with exp(xi (1 - J_P)) inside the documented clamp [0.1, 5].
#include <doctest/doctest.h>

#include "material_test_util.h"
#include "materials/fixed_corotated.h"
#include "materials/snow.h"

using namespace ductile;
using namespace ductile::test;

template <int D>
static void check_clamp() {
  std::mt19937 rng(41 + D);
  const std::vector<double> prm = default_params<Snow, double>();
  const double lo = 1 - prm[Snow::kCompression], hi = 1 + prm[Snow::kStretch];
  int clamped = 0;
  for (int trial = 0; trial < 100; ++trial) {
    const Mat<double, D> F0 = random_F<double, D>(rng, trial < 50 ? 0.2 : 0.003);
    Mat<double, D> F = F0;
    double jp = 0.9 + 0.002 * trial;
    const double jp0 = jp;
    Snow::project<double, D>(prm.data(), 1e-3, F, jp);
    Svd<double, D> s = svd(F);
    for (int d = 0; d < D; ++d) {
      CHECK(s.sigma[d] >= lo - 1e-12);
      CHECK(s.sigma[d] <= hi + 1e-12);
    }
    CHECK(det(F) * jp == doctest::Approx(det(F0) * jp0).epsilon(1e-12));  // det(F_E F_P) conserved
    Svd<double, D> s0 = svd(F0);
    bool inside = true;
    for (int d = 0; d < D; ++d) inside = inside && s0.sigma[d] >= lo && s0.sigma[d] <= hi;
    if (inside) {
      CHECK(max_diff(F, F0) == 0.0);
      CHECK(jp == jp0);
    } else {
      ++clamped;
    }
  }
  CHECK(clamped >= 50);
}

TEST_CASE("material snow: singular values end within the critical compression and stretch") {
  check_clamp<2>();
  check_clamp<3>();
}

TEST_CASE("material snow: hardening scales the corotated stress by exp(xi (1 - Jp)) clamped to [0.1, 5]") {
  std::mt19937 rng(2);
  const std::vector<double> prm = default_params<Snow, double>();
  const Mat<double, 3> F = random_F<double, 3>(rng, 0.1), Z = Mat<double, 3>::zero();
  const Mat<double, 3> t1 = Snow::stress<double, 3>(prm.data(), F, Z, 1.0);
  const double cases[][2] = {
      {1.0, 1.0}, {0.95, std::exp(0.5)}, {1.1, std::exp(-1.0)}, {0.5, 5.0}, {2.0, 0.1}};
  for (const auto& c : cases) {
    const Mat<double, 3> t = Snow::stress<double, 3>(prm.data(), F, Z, c[0]);
    CHECK(max_diff(t, c[1] * t1) <= 1e-12 * max_abs(t1) * c[1]);
    CHECK(Snow::hardening_factor(prm.data(), c[0]) == doctest::Approx(c[1]).epsilon(1e-14));
  }
  // the fixed-corotated formula at Jp = 1
  const std::vector<double> fc = {prm[0], prm[1], prm[2]};
  CHECK(max_diff(t1, FixedCorotated::stress<double, 3>(fc.data(), F, Z, 1.0)) <= 1e-12 * max_abs(t1));
}

TEST_CASE("material snow: energy matches the hardened stress away from Jp = 1") {
  std::mt19937 rng(6);
  const std::vector<double> prm = default_params<Snow, double>();
  for (double jp : {0.97, 1.04}) {
    for (int trial = 0; trial < 10; ++trial) {
      const Mat<double, 3> F = random_F<double, 3>(rng, 0.2);
      auto psi = [&](const Mat<double, 3>& G) { return Snow::energy<double, 3>(prm.data(), G, jp); };
      Mat<double, 3> tau = Snow::stress<double, 3>(prm.data(), F, Mat<double, 3>::zero(), jp);
      CHECK(max_diff(fd_kirchhoff<double, 3>(psi, F, 1e-6), tau) <= 1e-6 * max_abs(tau));
    }
  }
}
