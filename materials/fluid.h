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

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/math.h"
#include "materials/elastic_params.h"

namespace ductile {

// Cube root for the projection. Double: std::cbrt. Float, on the host: no libm call (glibc's cbrtf with its
// frexpf/ldexpf helpers cost about 120 instructions a particle, 7% of the fluid's step, and kept the
// projection's lane loop scalar), computed in double: fdlibm's estimate (the exponent's high word divided by
// 3, about 5 correct bits), then two Halley steps y <- y (y^3 + 2a) / (2 y^3 + a), each of which cubes the
// relative error (5 -> 15 -> 45 bits), rounded once to float. So the result is the correctly rounded cube
// root except within 2^-45 of a rounding midpoint; tests/materials/test_fluid_cbrt.cpp counts its ulps
// against cbrtf over a sweep of floats. 0, infinities and NaN return x (as cbrt does). Branch-free, so the
// lane loops vectorize; deterministic (no FMA contraction changes it: the steps are rounded in double, far
// below float's ulp).
DUCTILE_HD inline double fluid_cbrt(double x) {
  return std::cbrt(x);
}
DUCTILE_HD inline float fluid_cbrt(float x) {
#ifdef __CUDA_ARCH__
  return cbrtf(x);
#else
  const double a = std::fabs(double(x));
  uint64_t bits;
  std::memcpy(&bits, &a, sizeof(a));
  const uint64_t guess = uint64_t(uint32_t(bits >> 32) / 3u + 715094163u) << 32;  // fdlibm's B1
  double y;
  std::memcpy(&y, &guess, sizeof(y));
  for (int k = 0; k < 2; ++k) {
    const double y3 = y * y * y;
    y = y * (y3 + 2.0 * a) / (2.0 * y3 + a);
  }
  const float r = float(y) * (x < 0 ? -1.f : 1.f);  // (written so that GCC vectorizes the lane loops)
  const bool special = (x == 0) | !(std::fabs(x) <= FLT_MAX);
  return special ? x : r;
#endif
}

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

  // J^-gamma, with pressure's special cases gamma = 1 and -1 as a division and J itself.
  template <class T>
  DUCTILE_HD static T power(T J, T g) {
    if (g == T(1)) return T(1) / J;
    if (g == T(-1)) return J;
    return std::pow(J, -g);
  }

  // d p / d gamma of p = K/gamma (J^-gamma - 1): K/gamma^2 (1 - e^x + x e^x) with x = -gamma log J and
  // e^x = J^-gamma = Jg (given), by its Taylor series K log(J)^2 (1/2 + x/3 + x^2/8 + x^3/30) for small x
  // (gamma -> 0 or J -> 1).
  template <class T>
  DUCTILE_HD static T pressure_gamma_derivative(const T* prm, T J, T Jg) {
    const T K = prm[kBulk], g = prm[kGamma], L = std::log(J), x = -g * L;
    if (std::fabs(x) < T(1e-3)) return K * L * L * (T(0.5) + x * (T(1) / T(3) + x * (T(0.125) + x / T(30))));
    return K / (g * g) * (T(1) - Jg + x * Jg);
  }

  // Adjoint of stress. The EOS part f(J) = -p(J) J has f' = -p + K J^-gamma for every gamma; the special
  // cases of `pressure` are the same smooth function, so the gamma derivative is that of the general formula.
  // The viscosity derivative is the one-sided (eta > 0) one, also at eta = 0.
  template <class T, int D>
  DUCTILE_HD static void adj_stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>& C, T,
                                    const Mat<T, D>& adj_tau, Mat<T, D>& adj_F, Mat<T, D>& adj_C, T&,
                                    T* adj_prm) {
    const T K = prm[kBulk], J = det(F), trA = trace(adj_tau), eta = prm[kViscosity];
    const T unit[4] = {prm[kDensity], T(1), prm[kGamma], eta};
    const T p1 = pressure(unit, J);  // p / K
    const T Jg = power(J, prm[kGamma]);
    T adj_J = trA * (-K * p1 + K * Jg);
    adj_prm[kBulk] += -trA * J * p1;
    adj_prm[kGamma] += -trA * J * pressure_gamma_derivative(prm, J, Jg);
    // viscous part 2 eta J dev(sym C): dev and sym are self-adjoint projections
    Mat<T, D> d = sym(C);
    d = d - (trace(d) / T(D)) * Mat<T, D>::identity();
    const T ad = ddot(adj_tau, d);
    adj_prm[kViscosity] += T(2) * J * ad;
    if (eta > T(0)) {
      Mat<T, D> a = sym(adj_tau);
      a = a - (trace(a) / T(D)) * Mat<T, D>::identity();
      adj_C = adj_C + (T(2) * eta * J) * a;
      adj_J += T(2) * eta * ad;
    }
    adj_det(F, adj_J, adj_F);
  }

  // F <- J^(1/D) I.
  template <class T, int D>
  DUCTILE_HD static void project(const T*, T, Mat<T, D>& F, T&) {
    const T J = det(F);
    F = (D == 3 ? fluid_cbrt(J) : std::sqrt(J)) * Mat<T, D>::identity();
  }

  // Adjoint of project: d J^(1/D) / dJ = J^(1/D) / (D J), then d J = cof(F) : dF.
  template <class T, int D>
  DUCTILE_HD static void adj_project(const T*, T, const Mat<T, D>& F_trial, T, const Mat<T, D>& adj_F_out,
                                     T adj_plastic_out, Mat<T, D>& adj_F_trial, T& adj_plastic_in, T*) {
    const T J = det(F_trial), r = D == 3 ? fluid_cbrt(J) : std::sqrt(J);
    adj_det(F_trial, trace(adj_F_out) * r / (T(D) * J), adj_F_trial);
    adj_plastic_in += adj_plastic_out;
  }

  template <class T>
  static T wave_speed(const T* prm) {
    return std::sqrt(prm[kBulk] / prm[kDensity]);
  }
};

}  // namespace ductile
