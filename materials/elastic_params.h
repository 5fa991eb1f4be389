// Shared parameter rows and helpers of the analytic models (density, Young's modulus, Poisson's ratio).
#pragma once

#include <cmath>

#include "materials/param.h"

namespace ductile {

inline ParamSpec density_spec(double def = 1000) {
  return {"density", "kg/m^3", def, 0, 1e30, true, false, "mass density of the undeformed material"};
}
inline ParamSpec youngs_spec(double def) {
  return {"E", "Pa", def, 0, 1e30, true, false, "Young's modulus"};
}
inline ParamSpec poisson_spec(double def) {
  return {"nu", "1", def, -1, 0.5, true, true, "Poisson's ratio"};
}

// Dilatational (P-wave) speed sqrt((lambda + 2 mu) / rho) of a linear elastic solid.
template <class T>
T p_wave_speed(T density, T E, T nu) {
  T mu, lambda;
  lame(E, nu, mu, lambda);
  return std::sqrt((lambda + T(2) * mu) / density);
}

}  // namespace ductile
