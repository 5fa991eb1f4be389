// materials/adjoint_scale.h: the exact power-of-two helpers, the stress VJP's scaling of a tiny adj_tau and
// the projection VJP's of tiny adjoints of F and of the plastic state (linear in them too; checked the same
// way at a trial F stretched by ~10%, in the plastic branches of the plastic models).
// The VJP is linear in adj_tau, so every analytic model's stress_vjp at 2^-k a (k = 60 to 100) must give
// exactly 2^-k times its adjoints at a (F and parameters, bit for bit), at F like the gradient benchmark's (a
// box at rest: a nearly diagonal F, off-diagonal entries of 1e-12 to 1e-9, whose SVD has rotations with
// entries that small), and for k <= 90 without raising FE_UNDERFLOW. Without the scaling every model fails
// one of these (products fall below float's normal range: on x86 slow microcode assists, and other rounding).
#include <doctest/doctest.h>

#include <cfenv>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/memory.h"
#include "materials/adjoint_scale.h"
#include "materials/registry.h"

using namespace ductile;

TEST_CASE("adjoint scale: binary exponent and exact powers of two") {
  for (int k = -126; k <= 126; ++k) {
    CHECK(pow2<float>(k) == std::ldexp(1.0f, k));
    CHECK(pow2<double>(k) == std::ldexp(1.0, k));
    CHECK(binary_exponent(std::ldexp(1.5f, k)) == k);
    CHECK(binary_exponent(std::ldexp(1.5, k)) == k);
  }
  CHECK(binary_exponent(std::numeric_limits<float>::denorm_min()) == -127);
  CHECK(binary_exponent(0.0f) == -127);
  CHECK(binary_exponent(0.0) == -1023);
}

TEST_CASE("adjoint scale: exponent of an output adjoint") {
  Mat<float, 2> a = Mat<float, 2>::zero();
  CHECK(adjoint_scale_exponent(a) == 0);  // zero: nothing to scale
  a(0, 1) = -3e-30f;
  a(1, 0) = 1e-31f;
  CHECK(adjoint_scale_exponent(a) == binary_exponent(3e-30f));
  CHECK(pow2<float>(-adjoint_scale_exponent(a)) * 3e-30f >= 1.0f);
  a(1, 1) = 0.75f;
  CHECK(adjoint_scale_exponent(a) == -1);
  a(1, 1) = 1.0f;  // unit size or more: left as it is
  CHECK(adjoint_scale_exponent(a) == 0);
  a(1, 1) = std::numeric_limits<float>::denorm_min();
  a(0, 1) = a(1, 0) = 0;
  CHECK(adjoint_scale_exponent(a) == -120);  // clamped: 2^120 is a normal float
  a(0, 0) = std::numeric_limits<float>::quiet_NaN();
  CHECK(adjoint_scale_exponent(a) == 0);  // the NaN reaches the result unchanged
  a(0, 0) = std::numeric_limits<float>::infinity();
  CHECK(adjoint_scale_exponent(a) == 0);
  // with a scalar beside the matrix: the larger of the two decides
  a = Mat<float, 2>::zero();
  a(0, 0) = 1e-30f;
  CHECK(adjoint_scale_exponent(a, 3e-20f) == binary_exponent(3e-20f));
  CHECK(adjoint_scale_exponent(a, -3e-40f) == binary_exponent(1e-30f));
  CHECK(adjoint_scale_exponent(a, 0.0f) == adjoint_scale_exponent(a));
}

namespace {

// 48 particles at rest whose F is diagonal, stretched by `stretch` times a standard normal per entry, with
// off-diagonal entries of 1e-12 to 1e-9 (random signs): the gradient benchmark's kind of F, whose SVD has
// rotations with entries that small.
template <class T, int D>
struct NearDiagonal {
  static constexpr int n = 48;
  std::vector<T> x = std::vector<T>(D * n), v = std::vector<T>(D * n), C = std::vector<T>(D * D * n, T(0)),
                 F = std::vector<T>(D * D * n), plastic = std::vector<T>(n, T(1)),
                 mass = std::vector<T>(n, T(1)), vol0 = std::vector<T>(n, T(1));
  std::vector<int32_t> index = std::vector<int32_t>(n);
  NearDiagonal(std::mt19937_64& rng, double stretch) {
    std::normal_distribution<double> normal;
    std::uniform_real_distribution<double> uniform(-12, -9);
    for (int p = 0; p < n; ++p)
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j)
          F[size_t(i * D + j) * n + p] = i == j
                                             ? T(1 + stretch * normal(rng))
                                             : T((normal(rng) < 0 ? -1 : 1) * std::pow(10.0, uniform(rng)));
    for (int p = 0; p < n; ++p) index[p] = p;
  }
  ParticleView<T, D> view() {
    return {n, x.data(), v.data(), C.data(), F.data(), plastic.data(), mass.data(), vol0.data(), nullptr};
  }
};

template <class T, int D>
void check_tiny_adjoint(const std::string& model) {
  CAPTURE(model);
  CAPTURE(D);
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  NearDiagonal<T, D> ps(rng, 1e-3);
  const int n = ps.n;
  std::vector<T> adj_tau(D * D * n);
  for (auto& a : adj_tau) a = T(normal(rng));
  std::vector<int32_t>& index = ps.index;
  const ParticleView<T, D> pv = ps.view();
  auto mat = MaterialRegistry::instance().make<T, D>(model);
  auto vjp = [&](const std::vector<T>& a, std::vector<T>& aF, std::vector<T>& ap) {
    aF.assign(size_t(D * D) * n, T(0));
    ap.assign(mat->specs().size(), T(0));
    Status status{};
    mat->stress_vjp(Device::kCpu, pv, {index.data(), n}, a.data(), aF.data(), nullptr, nullptr, ap.data(),
                    &status);
    CHECK(status.bits == 0);
  };
  std::vector<T> aF, ap, tF, tp, tiny(adj_tau.size());
  vjp(adj_tau, aF, ap);
  for (int k : {60, 70, 80, 90, 100}) {
    CAPTURE(k);
    for (size_t i = 0; i < adj_tau.size(); ++i) tiny[i] = pow2<T>(-k) * adj_tau[i];
    // at 2^-60 the adjoints themselves are normal, and the scaled VJP raises no underflow (the batch is below
    // the parallel threshold, so it runs on this thread, whose flags these are)
    std::feclearexcept(FE_UNDERFLOW);
    vjp(tiny, tF, tp);
    if (k <= 90) CHECK(std::fetestexcept(FE_UNDERFLOW) == 0);
    int differ = 0;
    for (size_t i = 0; i < aF.size(); ++i) differ += tF[i] != pow2<T>(-k) * aF[i];
    for (size_t i = 0; i < ap.size(); ++i) differ += tp[i] != pow2<T>(-k) * ap[i];
    CHECK(differ == 0);
  }
}

// The projection VJP at 2^-k (adj_F_out, adj_plastic_out), k = 60 to 100: exactly 2^-k times its adjoints at
// k = 0, and for k <= 70 no FE_UNDERFLOW (beyond that, results of 1e-9 of the largest fall below the normal
// range after the scaling back, legitimately).
template <class T, int D>
void check_tiny_projection_adjoint(const std::string& model) {
  CAPTURE(model);
  CAPTURE(D);
  std::mt19937_64 rng(12);
  std::normal_distribution<double> normal;
  NearDiagonal<T, D> ps(rng, 0.1);
  const int n = ps.n;
  std::vector<T> adj_F(D * D * n), adj_p(n);
  for (auto& a : adj_F) a = T(normal(rng));
  for (auto& a : adj_p) a = T(normal(rng));
  std::vector<int32_t>& index = ps.index;
  const ParticleView<T, D> pv = ps.view();
  auto mat = MaterialRegistry::instance().make<T, D>(model);
  auto vjp = [&](const std::vector<T>& aFo, const std::vector<T>& aPo, std::vector<T>& aF, std::vector<T>& aP,
                 std::vector<T>& ap) {
    aF.assign(size_t(D * D) * n, T(0));
    aP.assign(n, T(0));
    ap.assign(mat->specs().size(), T(0));
    Status status{};
    mat->project_vjp(Device::kCpu, T(1e-4), pv, {index.data(), n}, aFo.data(), aPo.data(), aF.data(),
                     aP.data(), ap.data(), &status);
    CHECK(status.bits == 0);
  };
  std::vector<T> aF, aP, ap, tF, tP, tp, tinyF(adj_F.size()), tinyP(adj_p.size());
  vjp(adj_F, adj_p, aF, aP, ap);
  for (int k : {60, 70, 80, 90, 100}) {
    CAPTURE(k);
    for (size_t i = 0; i < adj_F.size(); ++i) tinyF[i] = pow2<T>(-k) * adj_F[i];
    for (size_t i = 0; i < adj_p.size(); ++i) tinyP[i] = pow2<T>(-k) * adj_p[i];
    std::feclearexcept(FE_UNDERFLOW);
    vjp(tinyF, tinyP, tF, tP, tp);
    if (k <= 70) CHECK(std::fetestexcept(FE_UNDERFLOW) == 0);
    int differ = 0;
    for (size_t i = 0; i < aF.size(); ++i) differ += tF[i] != pow2<T>(-k) * aF[i];
    for (size_t i = 0; i < aP.size(); ++i) differ += tP[i] != pow2<T>(-k) * aP[i];
    for (size_t i = 0; i < ap.size(); ++i) differ += tp[i] != pow2<T>(-k) * ap[i];
    CHECK(differ == 0);
  }
}

}  // namespace

TEST_CASE("adjoint scale: every analytic projection VJP is exactly linear in tiny output adjoints") {
  for (const char* m : {"fixed_corotated", "neo_hookean", "snow", "von_mises", "drucker_prager", "fluid",
                        "herschel_bulkley"}) {
    check_tiny_projection_adjoint<float, 2>(m);
    check_tiny_projection_adjoint<float, 3>(m);
    check_tiny_projection_adjoint<double, 3>(m);
  }
}

TEST_CASE("adjoint scale: every analytic stress VJP is exactly linear in a tiny adj_tau") {
  for (const char* m : {"fixed_corotated", "neo_hookean", "snow", "von_mises", "drucker_prager", "fluid",
                        "herschel_bulkley"}) {
    check_tiny_adjoint<float, 2>(m);
    check_tiny_adjoint<float, 3>(m);
    check_tiny_adjoint<double, 3>(m);
  }
}
