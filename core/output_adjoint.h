// Output adjoints: the gradient of a loss computed outside the tape (in PyTorch, say) with respect to the
// particle positions and velocities at chosen steps, which seeds the tape's backward pass
// (Tape::set_output_adjoints).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace ductile {

// step -> (dL/dx, dL/dv), D values per particle laid out like State::x, the caller's particle order.
using OutputAdjoints = std::map<int64_t, std::pair<std::vector<double>, std::vector<double>>>;

// Throws Error naming the step and particle unless every step lies in 0..steps and both arrays hold D * n
// values that are finite and representable in T.
template <class T, int D>
void check_output_adjoints(const OutputAdjoints& adj, int64_t steps, int n) {
  const double big = double(std::numeric_limits<T>::max());
  for (const auto& [t, xv] : adj) {
    const std::string at = "output adjoint at step " + std::to_string(t);
    if (t < 0 || t > steps) fail("tape", at + ": the last forward run has steps 0.." + std::to_string(steps));
    for (const auto* a : {&xv.first, &xv.second}) {
      const char* what = a == &xv.first ? "x" : "v";
      if (a->size() != size_t(D) * n)
        fail("tape", at + ": d/d" + what + " holds " + std::to_string(a->size()) + " values; " +
                         std::to_string(n) + " particles need " + std::to_string(size_t(D) * n));
      for (size_t i = 0; i < a->size(); ++i)
        if (!(std::fabs((*a)[i]) <= big))
          fail("tape", at + ": d/d" + what + " of particle " + std::to_string(i % size_t(n)) + " is " +
                           std::to_string((*a)[i]) + (sizeof(T) == 4 ? " (not finite in float)" : ""));
    }
  }
}

}  // namespace ductile
