// Shared parameter rows and helpers of the analytic models (density, Young's modulus, Poisson's ratio).
#pragma once

#include <cmath>

#include "core/math.h"
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

// The half shared by purely elastic models (parameters density, E, nu first): no plastic flow, so the
// projection and its adjoint are the identity, and the P-wave speed bounds the time step.
struct PurelyElastic {
  enum { kDensity = 0, kE = 1, kNu = 2 };

  template <class T, int D>
  DUCTILE_HD static void project(const T*, T, Mat<T, D>&, T&) {}

  // Adjoint of the identity projection.
  template <class T, int D>
  DUCTILE_HD static void adj_project(const T*, T, const Mat<T, D>&, T, const Mat<T, D>& adj_F_out,
                                     T adj_plastic_out, Mat<T, D>& adj_F_trial, T& adj_plastic_in, T*) {
    adj_F_trial = adj_F_trial + adj_F_out;
    adj_plastic_in += adj_plastic_out;
  }

  template <class T>
  static T wave_speed(const T* prm) {
    return p_wave_speed(prm[kDensity], prm[kE], prm[kNu]);
  }
};

}  // namespace ductile
