// Named material parameters with units and admissible ranges.
#pragma once

#include "core/hd.h"

namespace ductile {

constexpr int kMaxMaterialParams = 8;

struct ParamSpec {
  const char* name;  // JSON key, e.g. "E"
  const char* unit;  // SI unit, e.g. "Pa"
  double default_value;
  double min;  // admissible range
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

// Adjoint of lame: accumulates the adjoints of E and nu from those of mu and lambda.
//   dmu/dE = 1 / (2 (1 + nu)),              dmu/dnu = -E / (2 (1 + nu)^2),
//   dlambda/dE = nu / ((1 + nu)(1 - 2 nu)), dlambda/dnu = E (1 + 2 nu^2) / ((1 + nu)(1 - 2 nu))^2.
template <class T>
DUCTILE_HD DUCTILE_INLINE void adj_lame(T E, T nu, T& adj_E, T& adj_nu, T adj_mu, T adj_lambda) {
  const T a = T(1) + nu, b = T(1) - T(2) * nu;
  adj_E += adj_mu / (T(2) * a) + adj_lambda * nu / (a * b);
  adj_nu += -adj_mu * E / (T(2) * a * a) + adj_lambda * E * (T(1) + T(2) * nu * nu) / (a * a * b * b);
}

}  // namespace ductile
