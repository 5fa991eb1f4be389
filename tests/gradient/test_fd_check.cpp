// The verdicts of `ductile grad --fd-check` (core/fd_check.h): Richardson estimate and its uncertainty, pass
// / below FD resolution / fail, and which entries are checked.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "core/fd_check.h"

using namespace ductile;

namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();

// Central difference of f at x with step h, computed like the CLI does (two evaluations of f).
template <class F>
double central(F f, double x, double h) {
  return (f(x + h) - f(x - h)) / (2 * h);
}

}  // namespace

TEST_CASE("fd estimate: Richardson value, round-off and truncation terms") {
  // f = exp(x) at x = 0.3: c(h) = f' (1 + h^2 / 6 + ...), so the extrapolation removes the h^2 term
  const auto f = [](double x) { return std::exp(x); };
  const double x = 0.3, h = 1e-2, exact = std::exp(x);
  const FdEstimate e =
      richardson_estimate(central(f, x, 2 * h), central(f, x, h), central(f, x, h / 2), h, f(x), kEps);
  CHECK(std::fabs(e.value - exact) < 1e-9);
  CHECK(e.roundoff == doctest::Approx(3 * kEps * exact / h));
  // c(h) = f' (1 + h^2 / 6 + ...): 2 |c(h) - c(2h)| = f' h^2 > |c(h/2) - c(h)| = f' h^2 / 8
  CHECK(e.truncation == doctest::Approx(7.0 / 3.0 * exact * h * h).epsilon(1e-3));
  CHECK(e.uncertainty == e.roundoff + e.truncation);
  // the estimate bounds the real error
  CHECK(std::fabs(e.value - exact) <= e.uncertainty);
}

TEST_CASE("fd verdict: an entry tiny next to the loss is below resolution, not a failure") {
  // L(p) = 1e3 + 1e-9 p, evaluated in double: the differences at h = 1e-6 see the loss's round-off
  // (eps * 1e3 / 1e-6 ~ 2e-7 per difference), far more than the entry 1e-9
  const double big = 1e3, slope = 1e-9, h = 1e-6;
  const auto L = [&](double p) {
    volatile double v = big + slope * p;  // rounded to double like a simulation's loss
    return double(v);
  };
  const double p = 0.37;
  const FdEstimate e =
      richardson_estimate(central(L, p, 2 * h), central(L, p, h), central(L, p, h / 2), h, L(p), kEps);
  const FdVerdict v = classify_fd(slope, e, 1e-4, L(p));
  INFO("fd " << e.value << " +- " << e.uncertainty << ", relative error " << v.relative_error);
  CHECK(v.relative_error > 1e-4);  // the old per-entry check called this a failure
  CHECK(v.absolute_error <= e.uncertainty);
  CHECK(v.status == FdStatus::kBelowResolution);
  CHECK(std::string(fd_status_name(v.status)) == "below_resolution");
  // a big entry of the same loss at the same step is resolved, and passes
  const auto L2 = [&](double q) { return big + 0.5 * q * q; };
  const FdEstimate e2 = richardson_estimate(central(L2, 2.0, 2 * h), central(L2, 2.0, h),
                                            central(L2, 2.0, h / 2), h, L2(2.0), kEps);
  const FdVerdict v2 = classify_fd(2.0, e2, 1e-4, L2(2.0));
  CHECK(v2.status == FdStatus::kPass);
}

TEST_CASE("fd estimate: a jump of the loss inside the step is covered by the uncertainty") {
  // L = p^2 + J [p > 0.5 + h / 4]: both differences straddle the jump (c(h) = 2p + J / 2h, c(h/2) = 2p + J /
  // h)
  // (h = 2^-20 keeps p +- h exact); the worst case, where the bound 7/3 |c(h/2) - c(h)| is tight
  const double h = std::ldexp(1.0, -20), p = 0.5, jump = 1e-9;
  for (double at : {0.25, 0.75}) {  // inside both steps; inside h only
    const auto L = [&](double q) { return q * q + (q > p + at * h ? jump : 0.0); };
    const FdEstimate e =
        richardson_estimate(central(L, p, 2 * h), central(L, p, h), central(L, p, h / 2), h, L(p), kEps);
    const double error = std::fabs(e.value - 2 * p);
    INFO("jump at p + " << at << " h: error " << error << ", uncertainty " << e.uncertainty);
    CHECK(error > 1e-4);  // 7/6 J / h or 1/6 J / h
    CHECK(error <= e.uncertainty);
    CHECK(classify_fd(2 * p, e, 1e-4, L(p)).status == FdStatus::kBelowResolution);
  }
}

TEST_CASE("fd estimate: random round-off far above eps |L| is caught by comparing the steps") {
  // L = p^2 + noise, the noise 1e-12 (4500 eps |L|) and independent at every evaluation; a right derivative
  // is then below resolution or passes, hardly ever fails; one 1 % wrong mostly fails
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.0, 1e-12);
  const auto L = [&](double q) { return q * q + noise(rng); };
  const double h = 1e-6;
  int right_fails = 0, wrong_fails = 0;
  const int n = 400;
  for (int k = 0; k < n; ++k) {
    const double p = 0.3 + 1e-3 * k;
    const FdEstimate e =
        richardson_estimate(central(L, p, 2 * h), central(L, p, h), central(L, p, h / 2), h, p * p, kEps);
    right_fails += classify_fd(2 * p, e, 1e-8, p * p).status == FdStatus::kFail;
    wrong_fails += classify_fd(2 * p * 1.01, e, 1e-8, p * p).status == FdStatus::kFail;
  }
  INFO("right ones failing " << right_fails << ", wrong ones failing " << wrong_fails << " of " << n);
  CHECK(right_fails <= n / 20);  // a Gaussian model: about 1 %
  CHECK(wrong_fails == n);       // 1 % of 2p is 1e-2, the noise's effect ~1e-6
}

TEST_CASE("fd verdict: a wrong analytic value fails, a right one passes") {
  // L = sin(3p) + 2 at p = 0.4, a smooth loss whose differences resolve the derivative to ~1e-10
  const auto L = [](double p) { return std::sin(3 * p) + 2; };
  const double p = 0.4, h = 1e-6, right = 3 * std::cos(3 * p);
  const FdEstimate e =
      richardson_estimate(central(L, p, 2 * h), central(L, p, h), central(L, p, h / 2), h, L(p), kEps);
  CHECK(e.uncertainty < 1e-7 * std::fabs(right));
  CHECK(classify_fd(right, e, 1e-6, L(p)).status == FdStatus::kPass);
  // 1 % off, a sign flip, a dropped term (0) and non-finite values fail
  for (double wrong : {right * 1.01, -right, 0.0, std::nan(""), double(INFINITY)}) {
    const FdVerdict v = classify_fd(wrong, e, 1e-4, L(p));
    INFO("analytic " << wrong);
    CHECK(v.status == FdStatus::kFail);
    CHECK(std::string(fd_status_name(v.status)) == "fail");
  }
  // a difference exactly at the tolerance passes; below resolution needs |difference| <= uncertainty
  FdEstimate exact;
  exact.value = 1.0;
  CHECK(classify_fd(1.0 + 1e-4, exact, 1e-4, 1.0).status == FdStatus::kPass);
  exact.uncertainty = 1e-3;
  CHECK(classify_fd(1.0009, exact, 1e-4, 1.0).status == FdStatus::kBelowResolution);
  CHECK(classify_fd(1.0011, exact, 1e-4, 1.0).status == FdStatus::kFail);
}

TEST_CASE("fd check order: largest first, then largest and spread entries alternately, each once") {
  std::vector<double> g(100, 0.0);
  for (int i = 0; i < 100; ++i) g[size_t(i)] = 1e-3 * (i % 7);
  g[13] = -5;  // the largest
  g[71] = 4;   // the second largest
  const std::vector<int> order = fd_check_order(g);
  REQUIRE(order.size() == 100);
  CHECK(std::set<int>(order.begin(), order.end()).size() == 100);
  CHECK(order[0] == 13);
  CHECK(order[1] == 50);  // the middle of the index range
  CHECK(order[2] == 71);
  CHECK(order[3] == 25);  // a quarter
  CHECK(order[5] == 75);  // three quarters
  for (int n : {0, 1, 2, 3, 5, 64, 65}) {
    const std::vector<int> o = fd_check_order(std::vector<double>(size_t(n), 1.0));
    CHECK(std::set<int>(o.begin(), o.end()).size() == size_t(n));
    CHECK(int(o.size()) == n);
  }
  // picks: round-robin over the parameters, each in its order, stopping when all are used
  const auto picks = fd_check_picks({{0.1}, g, {1, 3}}, 6);
  REQUIRE(picks.size() == 6);
  CHECK(picks[0] == std::pair<size_t, int>{0, 0});
  CHECK(picks[1] == std::pair<size_t, int>{1, 13});
  CHECK(picks[2] == std::pair<size_t, int>{2, 1});
  CHECK(picks[3] == std::pair<size_t, int>{1, 50});
  CHECK(picks[4] == std::pair<size_t, int>{2, 0});
  CHECK(picks[5] == std::pair<size_t, int>{1, 71});
  CHECK(fd_check_picks({{0.1}, {1, 3}}, 10).size() == 3);
}
