#include "core/fault.h"

#include <cmath>
#include <sstream>

#include "core/error.h"

namespace ductile {

uint32_t first_stage(const Status& s) {
  uint32_t stage = 0;
  while (stage < 5 && !(s.stages & (1u << stage))) ++stage;
  return stage;
}

std::string fault_message(const Status& s, int64_t step, double time, int particle,
                          const std::string& material) {
  std::string what = (s.bits & kStatusNonFinite)     ? "NaN or infinity"
                     : (s.bits & kStatusOutOfDomain) ? "particle left the domain"
                                                     : "deformation gradient inverted (det F <= 0)";
  std::ostringstream os;
  os << what << " at step " << step << " (t = " << time << " s), stage " << stage_name(first_stage(s))
     << ", particle " << particle;
  if (!material.empty()) os << " of material '" << material << "'";
  if (s.bits & kStatusOutOfDomain)
    os << "; enlarge the domain, add a collider or wall, reduce the time step, or choose what happens there "
          "with domain.boundary.policy (clamp or delete)";
  else
    os << "; the time step may be too large for the material's stiffness (try a smaller dt or cfl)";
  return os.str();
}

void check_parameter_adjoints(const std::vector<double>& adj, const std::vector<std::string>& names,
                              const std::string& material, int64_t step) {
  for (size_t k = 0; k < adj.size(); ++k)
    if (!std::isfinite(adj[k]))
      fail("backward pass",
           "the gradient of " +
               (k < names.size() ? "parameter '" + names[k] + "'"
                                 : "learnable parameter " + std::to_string(k - names.size())) +
               " of material '" + material + "' became " + std::to_string(adj[k]) + " at step " +
               std::to_string(step));
}

}  // namespace ductile
