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
#include "materials/param.h"
#include "materials/principal_adjoint.h"

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

// d eps_i / d sigma_i: 1 / sigma_i above the clamp, 0 below it (the clamped strain is constant).
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, D> hencky_strain_slope(const Vec<T, D>& sigma) {
  Vec<T, D> r;
  for (int i = 0; i < D; ++i) r[i] = sigma[i] > T(kHenckyMinSigma) ? T(1) / sigma[i] : T(0);
  return r;
}

// Divided difference (eps(a) - eps(b)) / (a - b) of the clamped Hencky strain, its slope at a = b.
template <class T>
DUCTILE_HD DUCTILE_INLINE T hencky_strain_dd(T a, T b) {
  const T lo = T(kHenckyMinSigma);
  if (a > lo && b > lo) return log_divided_difference(a, b);
  if (a == b) return T(0);  // both clamped
  return (std::log(a > lo ? a : lo) - std::log(b > lo ? b : lo)) / (a - b);
}

// Adjoint of hencky_stress: accumulates adj_F, adj_mu and adj_lambda from adj_tau
// (materials/principal_adjoint.h, kind (b), with t_i - t_j = 2 mu (eps_i - eps_j)). Below the sigma clamp the
// derivative is zero.
template <class T, int D>
DUCTILE_HD inline void adj_hencky_stress(T mu, T lambda, const Mat<T, D>& F, T& adj_mu, T& adj_lambda,
                                         Mat<T, D>& adj_F, const Mat<T, D>& adj_tau) {
  Svd<T, D> s = svd(F);
  const Vec<T, D> eps = hencky_strain(s.sigma), slope = hencky_strain_slope(s.sigma);
  const Mat<T, D> A = transpose(s.U) * adj_tau * s.U;
  const T trA = trace(A);
  Vec<T, D> adj_sigma;
  Mat<T, D> dd = Mat<T, D>::zero();
  T am = 0;
  for (int i = 0; i < D; ++i) {
    adj_sigma[i] = (T(2) * mu * A(i, i) + lambda * trA) * slope[i];
    am += T(2) * A(i, i) * eps[i];
    for (int j = 0; j < D; ++j)
      if (j != i) dd(i, j) = T(2) * mu * hencky_strain_dd(s.sigma[i], s.sigma[j]);
  }
  adj_mu += am;
  adj_lambda += trA * principal_trace(eps);
  adj_principal_stress(s, hencky_principal_stress(mu, lambda, eps), dd, A, adj_sigma, adj_F);
}

// Strain energy density mu |eps|^2 + lambda/2 (tr eps)^2 per unit reference volume.
template <class T, int D>
DUCTILE_HD inline T hencky_energy(T mu, T lambda, const Mat<T, D>& F) {
  Vec<T, D> e = hencky_strain(svd(F).sigma);
  T tr = principal_trace(e);
  return mu * dot(e, e) + T(0.5) * lambda * tr * tr;
}

// The elastic half shared by the Hencky-based models (von Mises, Drucker-Prager): St. Venant-Kirchhoff on the
// Hencky strain, with the parameters density, E and nu first in the model's table.
struct HenckyElastic {
  enum { kDensity = 0, kE = 1, kNu = 2 };

  // Elastic strain energy density (Hencky StVK) per unit reference volume.
  template <class T, int D>
  DUCTILE_HD static T energy(const T* prm, const Mat<T, D>& F, T = T(1)) {
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    return hencky_energy(mu, lambda, F);
  }

  template <class T, int D>
  DUCTILE_HD static Mat<T, D> stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>&, T) {
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    return hencky_stress(mu, lambda, F);
  }

  // Adjoint of stress (Hencky StVK, materials/hencky.h); zero derivative in a singular value below the clamp.
  template <class T, int D>
  DUCTILE_HD static void adj_stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>&, T,
                                    const Mat<T, D>& adj_tau, Mat<T, D>& adj_F, Mat<T, D>&, T&, T* adj_prm) {
    T mu, lambda, adj_mu = 0, adj_lambda = 0;
    lame(prm[kE], prm[kNu], mu, lambda);
    adj_hencky_stress(mu, lambda, F, adj_mu, adj_lambda, adj_F, adj_tau);
    adj_lame(prm[kE], prm[kNu], adj_prm[kE], adj_prm[kNu], adj_mu, adj_lambda);
  }
};

}  // namespace ductile
