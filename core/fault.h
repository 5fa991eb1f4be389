// The message of a step that raised the status word: what happened, where, and what to try.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace ductile {

// The first stage that raised a bit in s (kStageStress .. kStageProject).
uint32_t first_stage(const Status& s);
// "NaN or infinity at step 12 (t = 0.003 s), stage p2g, particle 7 of material 'jelly'; the time step ...".
// `material` may be empty.
std::string fault_message(const Status& s, int64_t step, double time, int particle,
                          const std::string& material);

}  // namespace ductile
