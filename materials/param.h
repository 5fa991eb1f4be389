// Named material parameters with units and admissible ranges.
#pragma once

#include "core/hd.h"

namespace ductile {

constexpr int kMaxMaterialParams = 8;

struct ParamSpec {
  const char* name;     // JSON key, e.g. "E"
  const char* unit;     // SI unit, e.g. "Pa"
  double default_value;
  double min;           // admissible range
  double max;
  bool min_exclusive;   // true: value must be > min
  bool max_exclusive;   // true: value must be < max
  const char* meaning;  // one line for docs and errors
};

// Lamé parameters from Young's modulus E and Poisson's ratio nu (plane strain / 3D form).
template <class T>
DUCTILE_HD DUCTILE_INLINE void lame(T E, T nu, T& mu, T& lambda) {
  mu = E / (T(2) * (T(1) + nu));
  lambda = E * nu / ((T(1) + nu) * (T(1) - T(2) * nu));
}

}  // namespace ductile
