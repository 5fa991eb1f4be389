// Judging a gradient entry against finite differences (`ductile grad --fd-check`, docs/GRADIENTS.md
// "Checking gradients"): the Richardson-extrapolated central difference, an estimate of its own error (loss
// round-off and truncation), the verdict pass / below FD resolution / fail, and which entries to check.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ductile {

// A Richardson-extrapolated central difference and its estimated absolute error.
struct FdEstimate {
  // (4 c(h/2) - c(h)) / 3
  double value = 0;
  // 3 eps |L| / h: each loss evaluation off by up to eps |L|
  double roundoff = 0;
  // 7/3 max(|c(h/2) - c(h)|, 2 |c(h) - c(2h)|): bounds the error of a step dependence like h^2 (truncation)
  // or 1/h (round-off beyond eps |L|, a jump of the loss inside the step)
  double truncation = 0;
  // roundoff + truncation
  double uncertainty = 0;
};

// c_h = (L(p + h) - L(p - h)) / 2h, c_2h and c_half the same at 2h and h / 2; loss = L(p); eps = the
// simulation precision's machine epsilon.
FdEstimate richardson_estimate(double c_2h, double c_h, double c_half, double h, double loss, double eps);

enum class FdStatus { kPass, kBelowResolution, kFail };

struct FdVerdict {
  FdStatus status = FdStatus::kFail;
  double absolute_error = 0;  // |analytic - fd|
  double relative_error = 0;  // |analytic - fd| / max(|analytic|, |fd|, 1e-12 max(1, |L|))
};

// Pass: relative error <= tolerance. Below FD resolution: not a pass, but |analytic - fd| <= the estimate's
// uncertainty, so the finite difference cannot tell. Fail: everything else, including any non-finite value.
FdVerdict classify_fd(double analytic, const FdEstimate& fd, double tolerance, double loss);

// "pass", "below_resolution", "fail"
const char* fd_status_name(FdStatus s);

// The order in which a parameter's entries are checked: the largest |gradient| first, then alternately the
// next largest and one spread over the index range (positions 1/2, 1/4, 3/4, 1/8, ... of it); each entry
// once.
std::vector<int> fd_check_order(const std::vector<double>& gradient);

// K (parameter, entry) pairs: round-robin over the parameters, each in fd_check_order.
std::vector<std::pair<size_t, int>> fd_check_picks(const std::vector<std::vector<double>>& gradients, int k);

}  // namespace ductile
