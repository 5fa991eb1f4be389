// Checkpoint policies of the tape: which particle states the forward pass keeps so that the backward pass can
// recompute the rest (Griewank and Walther, "Algorithm 799: Revolve", 2000, for the trade-off).
#pragma once

#include <cstdint>
#include <string>

namespace ductile {

struct CheckpointPolicy {
  enum class Kind { kEveryStep, kEveryK, kSqrtT, kBudget } kind = Kind::kSqrtT;
  int every = 1;            // kEveryK: a checkpoint every `every` steps
  double budget_bytes = 0;  // kBudget: the largest memory the tape may use

  // "all" (every step), "every:K", "sqrt", "budget:SIZE" with SIZE like 512MB or 4GB. Throws Error naming
  // `where` on anything else.
  static CheckpointPolicy parse(const std::string& text, const std::string& where);
  std::string describe() const;
};

// The segment length K for `steps` steps: checkpoints every K steps, K - 1 states recomputed per segment, so
// the tape holds ceil(steps / K) + K - 1 states of state_bytes each next to fixed_bytes of working arrays.
// kBudget takes the smallest K that fits (least recomputation) and throws Error when none does.
int checkpoint_interval(const CheckpointPolicy& p, int64_t steps, double state_bytes, double fixed_bytes);

// Bytes the tape's states take for segment length K.
inline double checkpoint_bytes(int64_t steps, int K, double state_bytes) {
  return double((steps + K - 1) / K + K - 1) * state_bytes;
}

}  // namespace ductile
