// Weakly compressible Newtonian fluid (water), J-based (algorithms.md 4.7: taichi mpm88/mpm3d/mpm128,
// taichi_elements, NCLaw water, Genesis Liquid).
//
// Equation of state (Tait's, p = B((rho/rho0)^gamma - 1) as in Becker & Teschner 2007, "Weakly compressible
// SPH for free surface flows", written with J = rho0/rho and B = K/gamma so that K = -J dp/dJ at rest):
//   p(J) = K/gamma (J^-gamma - 1)         (gamma = 0: p = -K log J)
//   tau  = -p J I + J 2 eta dev(sym C)    (Kirchhoff; viscous part: Newtonian with Stokes' hypothesis, no
//                                          bulk viscosity, C = grad v from APIC)
// Special cases of gamma:
//   gamma =  1 (default): tau = K (J - 1) I, the J-fluid of taichi mpm88/mpm3d and the Taichi MPM benchmark
//                         (their `stress = -dt 4 E p_vol (J - 1) / dx^2` is exactly this with K = E);
//   gamma = -1:           tau = K J (J - 1) I, taichi mpm128 / NCLaw water (K = lambda from E, nu there);
//   gamma =  7:           Tait's water; Ziran's kappa (J - J^(1-gamma)) I is K = kappa gamma.
// Strain energy (no viscosity) psi(J) = -int_1^J p, so tau = J psi'(J) I.
// Projection: F <- J^(1/D) I (mpm128, NCLaw), keeping only the volume; the rotation and shear
// a fluid does not remember are dropped, so F stays isotropic. `plastic` is unused (stays 1).
#pragma once

#include <cmath>
#include <vector>

#include "core/math.h"
#include "materials/elastic_params.h"

namespace ductile {

struct Fluid {
  static constexpr const char* kName = "fluid";
  enum { kDensity = 0, kBulk = 1, kGamma = 2, kViscosity = 3 };
  static const std::vector<ParamSpec>& specs() {
    static const std::vector<ParamSpec> s = {
        density_spec(),
        {"bulk_modulus", "Pa", 1e5, 0, 1e30, true, false,
         "K = -J dp/dJ at rest; sound speed sqrt(K/density)"},
        {"gamma", "1", 1, -2, 10, false, false,
         "EOS exponent, p = K/gamma (J^-gamma - 1): 1 taichi mpm3d (tau = K(J-1)I), -1 mpm128, 7 Tait"},
        {"viscosity", "Pa s", 0, 0, 1e30, false, false, "dynamic (shear) viscosity eta"}};
    return s;
  }

  // Pressure p(J) of the equation of state (positive in compression, J < 1).
  template <class T>
  DUCTILE_HD static T pressure(const T* prm, T J) {
    const T K = prm[kBulk], g = prm[kGamma];
    if (g == T(1)) return K * (T(1) / J - T(1));
    if (g == T(-1)) return K * (T(1) - J);
    if (std::fabs(g) < T(1e-6)) return -K * std::log(J);
    return K / g * (std::pow(J, -g) - T(1));
  }

  // Strain energy density psi(J) = -int_1^J p(j) dj per unit reference volume (viscosity excluded).
  template <class T, int D>
  DUCTILE_HD static T energy(const T* prm, const Mat<T, D>& F, T = T(1)) {
    const T K = prm[kBulk], g = prm[kGamma], J = det(F);
    if (std::fabs(g) < T(1e-6)) return K * (J * std::log(J) - J + T(1));
    if (std::fabs(g - T(1)) < T(1e-6)) return K * (J - T(1) - std::log(J));
    return K / g * ((J - T(1)) - (std::pow(J, T(1) - g) - T(1)) / (T(1) - g));
  }

  template <class T, int D>
  DUCTILE_HD static Mat<T, D> stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>& C, T) {
    const T J = det(F);
    Mat<T, D> tau = (-pressure(prm, J) * J) * Mat<T, D>::identity();
    const T eta = prm[kViscosity];
    if (eta > T(0)) {
      Mat<T, D> d = sym(C);
      d = d - (trace(d) / T(D)) * Mat<T, D>::identity();
      tau = tau + (T(2) * eta * J) * d;
    }
    return tau;
  }

  // F <- J^(1/D) I.
  template <class T, int D>
  DUCTILE_HD static void project(const T*, T, Mat<T, D>& F, T&) {
    const T J = det(F);
    F = (D == 3 ? std::cbrt(J) : std::sqrt(J)) * Mat<T, D>::identity();
  }

  template <class T>
  static T wave_speed(const T* prm) {
    return std::sqrt(prm[kBulk] / prm[kDensity]);
  }
};

}  // namespace ductile
