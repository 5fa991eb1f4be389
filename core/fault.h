// The message of a step that raised the status word: what happened, where, and what to try.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace ductile {

// The first stage that raised a bit in s (kStageStress .. kStageProject).
uint32_t first_stage(const Status& s);
// "NaN or infinity at step 12 (t = 0.003 s), stage p2g, particle 7 of material 'jelly'; the time step ...".
// `material` may be empty.
std::string fault_message(const Status& s, int64_t step, double time, int particle,
                          const std::string& material);
// Throws Error "backward pass: the gradient of parameter 'E' of material 'jelly' became nan at step 12" for
// the first non-finite entry of a material's parameter adjoints (`names`: its parameters in specs() order;
// entries beyond them are its learnable parameters).
void check_parameter_adjoints(const std::vector<double>& adj, const std::vector<std::string>& names,
                              const std::string& material, int64_t step);

}  // namespace ductile
