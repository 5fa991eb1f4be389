// Finite-difference checks of gradient entries: error estimate, verdict and choice of entries
// (core/fd_check.h).
#include "core/fd_check.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

namespace ductile {

FdEstimate richardson_estimate(double c_2h, double c_h, double c_half, double h, double loss, double eps) {
  FdEstimate e;
  // Richardson: c(h) = f' + a h^2 + O(h^4), so (4 c(h/2) - c(h)) / 3 = f' + O(h^4)
  e.value = (4 * c_half - c_h) / 3;
  // round-off: |dL| <= eps |L| per evaluation gives |dc(h)| <= eps |L| / h, |dc(h/2)| <= 2 eps |L| / h,
  // and (4 * 2 + 1) / 3 = 3 times eps |L| / h for the extrapolated value
  e.roundoff = 3 * eps * std::fabs(loss) / h;
  // step dependence: if c(h) = f' + E / h (round-off beyond eps |L|, or a jump of the loss inside the step),
  // c(h/2) - c(h) = E / h = 2 (c(h) - c(2h)) and the extrapolated value is off by 7/3 E / h; if c(h) = f' + a
  // h^2 (truncation), both comparisons exceed its O(h^4) error. Two comparisons: one sample of random
  // round-off can be small by chance (a Gaussian model leaves 14 % of errors above 7/3 |c(h/2) - c(h)|, 1 %
  // above the larger of the two)
  e.truncation = 7.0 / 3.0 * std::max(std::fabs(c_half - c_h), 2 * std::fabs(c_h - c_2h));
  e.uncertainty = e.roundoff + e.truncation;
  return e;
}

FdVerdict classify_fd(double analytic, const FdEstimate& fd, double tolerance, double loss) {
  FdVerdict v;
  v.absolute_error = std::fabs(analytic - fd.value);
  v.relative_error = v.absolute_error / std::max({std::fabs(analytic), std::fabs(fd.value),
                                                  1e-12 * std::max(1.0, std::fabs(loss))});
  const bool finite = std::isfinite(analytic) && std::isfinite(fd.value) && std::isfinite(fd.uncertainty);
  if (!finite)
    v.status = FdStatus::kFail;
  else if (v.relative_error <= tolerance)
    v.status = FdStatus::kPass;
  else if (v.absolute_error <= fd.uncertainty)
    v.status = FdStatus::kBelowResolution;
  else
    v.status = FdStatus::kFail;
  return v;
}

const char* fd_status_name(FdStatus s) {
  switch (s) {
    case FdStatus::kPass:
      return "pass";
    case FdStatus::kBelowResolution:
      return "below_resolution";
    case FdStatus::kFail:
      break;
  }
  return "fail";
}

std::vector<int> fd_check_order(const std::vector<double>& gradient) {
  const int n = int(gradient.size());
  if (n == 0) return {};
  // by magnitude, largest first (ties: lower index first)
  std::vector<int> largest(size_t(n), 0);
  std::iota(largest.begin(), largest.end(), 0);
  std::stable_sort(largest.begin(), largest.end(), [&](int a, int b) {
    return std::fabs(gradient[size_t(a)]) > std::fabs(gradient[size_t(b)]);
  });
  // spread over the index range: floor(q n) for q in the van der Corput sequence 1/2, 1/4, 3/4, 1/8, ...
  // (2^m >= n fractions reach every index), then 0
  std::vector<int> spread;
  int m = 0;
  while ((int64_t(1) << m) < n) ++m;
  const int64_t count = int64_t(1) << m;
  for (int64_t j = 1; j <= count; ++j) {
    const int64_t jj = j % count;  // the last one is q = 0
    double q = 0, f = 0.5;
    for (int64_t b = jj; b > 0; b >>= 1, f /= 2)
      if (b & 1) q += f;
    spread.push_back(std::min(n - 1, int(q * n)));
  }
  std::vector<char> used(size_t(n), 0);
  std::vector<int> order;
  size_t a = 0, s = 0;
  for (bool take_largest = true; int(order.size()) < n; take_largest = !take_largest) {
    auto& list = take_largest ? largest : spread;
    size_t& at = take_largest ? a : s;
    while (at < list.size() && used[size_t(list[at])]) ++at;
    if (at == list.size()) continue;  // the other list still has entries
    used[size_t(list[at])] = 1;
    order.push_back(list[at++]);
  }
  return order;
}

std::vector<std::pair<size_t, int>> fd_check_picks(const std::vector<std::vector<double>>& gradients, int k) {
  std::vector<std::vector<int>> orders;
  for (const auto& g : gradients) orders.push_back(fd_check_order(g));
  std::vector<std::pair<size_t, int>> picks;
  for (size_t round = 0; int(picks.size()) < k; ++round) {
    bool any = false;
    for (size_t p = 0; p < orders.size() && int(picks.size()) < k; ++p)
      if (round < orders[p].size()) picks.push_back({p, orders[p][round]}), any = true;
    if (!any) break;
  }
  return picks;
}

}  // namespace ductile
