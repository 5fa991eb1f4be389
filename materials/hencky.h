// St. Venant-Kirchhoff elasticity on the Hencky (logarithmic) strain, shared by the von Mises and
// Drucker-Prager models. With F = U diag(sigma) V^T and eps = log sigma (principal Hencky strain):
//   psi = mu |eps|^2 + lambda/2 (tr eps)^2,   tau = U diag(2 mu eps_i + lambda tr eps) U^T
// (Klar et al. 2016, "Drucker-Prager elastoplasticity for sand animation", sec. 4; NCLaw SigmaElasticity).
//
// Clamp: sigma is clamped from below at kHenckyMinSigma = 0.05 before the log, as NCLaw, PlasticineLab and
// Genesis do ("prevent NaN"). Below it (compression to 5% of a length, or an inverted last singular value)
// the stress stops growing; the energy/stress identity tau = dpsi/dF F^T holds only for sigma > 0.05.
#pragma once

#include <cmath>

#include "core/svd.h"

namespace ductile {

constexpr double kHenckyMinSigma = 0.05;

// Principal Hencky strain log(max(sigma_i, 0.05)).
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, D> hencky_strain(const Vec<T, D>& sigma) {
  Vec<T, D> e;
  for (int i = 0; i < D; ++i) e[i] = std::log(sigma[i] > T(kHenckyMinSigma) ? sigma[i] : T(kHenckyMinSigma));
  return e;
}

// Sum of the components of a principal vector.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE T principal_trace(const Vec<T, D>& e) {
  T s = 0;
  for (int i = 0; i < D; ++i) s += e[i];
  return s;
}

// Deviatoric part e - tr(e)/D of a principal vector.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, D> principal_deviator(const Vec<T, D>& e) {
  T m = principal_trace(e) / T(D);
  Vec<T, D> r;
  for (int i = 0; i < D; ++i) r[i] = e[i] - m;
  return r;
}

// Element-wise exponential, back from a Hencky strain to singular values.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, D> principal_exp(const Vec<T, D>& e) {
  Vec<T, D> r;
  for (int i = 0; i < D; ++i) r[i] = std::exp(e[i]);
  return r;
}

// Principal Kirchhoff stress 2 mu eps_i + lambda tr eps.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, D> hencky_principal_stress(T mu, T lambda, const Vec<T, D>& eps) {
  T lt = lambda * principal_trace(eps);
  Vec<T, D> t;
  for (int i = 0; i < D; ++i) t[i] = T(2) * mu * eps[i] + lt;
  return t;
}

// Kirchhoff stress U diag(2 mu eps_i + lambda tr eps) U^T.
template <class T, int D>
DUCTILE_HD inline Mat<T, D> hencky_stress(T mu, T lambda, const Mat<T, D>& F) {
  Svd<T, D> s = svd(F);
  return compose(s.U, hencky_principal_stress(mu, lambda, hencky_strain(s.sigma)), s.U);
}

// Strain energy density mu |eps|^2 + lambda/2 (tr eps)^2 per unit reference volume.
template <class T, int D>
DUCTILE_HD inline T hencky_energy(T mu, T lambda, const Mat<T, D>& F) {
  Vec<T, D> e = hencky_strain(svd(F).sigma);
  T tr = principal_trace(e);
  return mu * dot(e, e) + T(0.5) * lambda * tr * tr;
}

}  // namespace ductile
