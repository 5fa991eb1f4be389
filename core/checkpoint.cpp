#include "core/checkpoint.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "core/error.h"

namespace ductile {

CheckpointPolicy CheckpointPolicy::parse(const std::string& text, const std::string& where) {
  CheckpointPolicy p;
  auto number = [&](const std::string& s, double& v) {
    char* end = nullptr;
    v = std::strtod(s.c_str(), &end);
    return end && end != s.c_str() ? std::string(end) : std::string("?");
  };
  if (text == "all") {
    p.kind = Kind::kEveryStep;
  } else if (text == "sqrt") {
    p.kind = Kind::kSqrtT;
  } else if (text.rfind("every:", 0) == 0) {
    double k = 0;
    if (number(text.substr(6), k) != "" || k < 1 || k != std::floor(k) || k > 1e9)
      fail(where, "'" + text + "': expected every:K with K a positive integer");
    p.kind = Kind::kEveryK;
    p.every = int(k);
  } else if (text.rfind("budget:", 0) == 0) {
    double v = 0;
    const std::string unit = number(text.substr(7), v);
    const double scale = unit == "B" || unit == "" ? 1.0
                         : unit == "KB"            ? 1e3
                         : unit == "MB"            ? 1e6
                         : unit == "GB"            ? 1e9
                                                   : -1.0;
    if (scale < 0 || !(v > 0))
      fail(where, "'" + text + "': expected budget:SIZE with SIZE like 512MB or 4GB");
    p.kind = Kind::kBudget;
    p.budget_bytes = v * scale;
  } else {
    fail(where, "'" + text + "': expected all, sqrt, every:K or budget:SIZE (e.g. budget:4GB)");
  }
  return p;
}

std::string CheckpointPolicy::describe() const {
  std::ostringstream os;
  switch (kind) {
    case Kind::kEveryStep:
      os << "all";
      break;
    case Kind::kSqrtT:
      os << "sqrt";
      break;
    case Kind::kEveryK:
      os << "every:" << every;
      break;
    case Kind::kBudget:
      os << "budget:" << budget_bytes / 1e6 << "MB";
      break;
  }
  return os.str();
}

int checkpoint_interval(const CheckpointPolicy& p, int64_t steps, double state_bytes, double fixed_bytes) {
  if (steps <= 1) return 1;
  switch (p.kind) {
    case CheckpointPolicy::Kind::kEveryStep:
      return 1;
    case CheckpointPolicy::Kind::kEveryK:
      return int(std::min<int64_t>(p.every, steps));
    case CheckpointPolicy::Kind::kSqrtT:
      return int(std::ceil(std::sqrt(double(steps))));
    case CheckpointPolicy::Kind::kBudget:
      break;
  }
  // the memory ceil(T / K) + K - 1 states falls until K ~ sqrt(T): take the smallest K that fits
  const int kmax = int(std::ceil(std::sqrt(double(steps))));
  for (int K = 1; K <= kmax; ++K)
    if (checkpoint_bytes(steps, K, state_bytes) + fixed_bytes <= p.budget_bytes) return K;
  std::ostringstream os;
  os << "the gradient of " << steps << " steps needs at least "
     << (checkpoint_bytes(steps, kmax, state_bytes) + fixed_bytes) / 1e6 << " MB (" << 2 * kmax - 1
     << " states of " << state_bytes / 1e6 << " MB plus " << fixed_bytes / 1e6
     << " MB of working arrays), more than the budget of " << p.budget_bytes / 1e6 << " MB";
  fail("checkpoint budget", os.str());
}

}  // namespace ductile
