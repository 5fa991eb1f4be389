// Fixed-corotated elasticity (Stomakhin et al. 2012, "Energetically consistent invertible elasticity",
// eq. 5):
//   psi = mu sum_i (sigma_i - 1)^2 + lambda/2 (J - 1)^2,
//   Kirchhoff stress tau = 2 mu (F - R) F^T + lambda J (J - 1) I.
// The stress takes R from core/polar.h (Newton's polar iteration, branch-free across a batch); the adjoint
// and the energy use the SVD.
#pragma once

#include <cstdint>
#include <vector>

#include "core/polar.h"
#include "core/svd.h"
#include "materials/elastic_params.h"
#include "materials/material_lanes.h"
#include "materials/principal_adjoint.h"

namespace ductile {

// tau = 2 mu (F - R) F^T + lambda J (J - 1) I of L lanes (components c = a * D + b, lane j of F[c]) with
// per-lane two_mu = 2 mu and lambda; R the nearest rotation (core/polar.h). One lane is the per-particle
// stress, so a batch gives the same bits as particle by particle.
template <class T, int D, int L>
DUCTILE_HD inline void corotated_stress_lanes(const T (&two_mu)[L], const T (&lambda)[L],
                                              const T (&F)[D * D][L], T (&tau)[D * D][L]) {
  // into local arrays: tau might alias F for all the compiler knows, which would stop it vectorizing
  T R[D * D][L], out[D * D][L];
  nearest_rotation_lanes<T, D, L>(F, R);
  for (int j = 0; j < L; ++j) {
    T J;
    if constexpr (D == 2)
      J = F[0][j] * F[3][j] - F[1][j] * F[2][j];
    else
      J = F[0][j] * (F[4][j] * F[8][j] - F[5][j] * F[7][j]) +
          F[1][j] * (F[5][j] * F[6][j] - F[3][j] * F[8][j]) +
          F[2][j] * (F[3][j] * F[7][j] - F[4][j] * F[6][j]);
    const T vol = lambda[j] * J * (J - T(1));
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) {
        T s = 0;
        for (int k = 0; k < D; ++k) s += (F[a * D + k][j] - R[a * D + k][j]) * F[b * D + k][j];
        out[a * D + b][j] = two_mu[j] * s + (a == b ? vol : T(0));
      }
  }
  for (int c = 0; c < D * D; ++c)
    for (int j = 0; j < L; ++j) tau[c][j] = out[c][j];
}

// Adjoint of the corotated Kirchhoff stress tau = 2 mu (F - R) F^T + lambda J (J - 1) I for given Lame
// parameters (shared with snow). With F = U Sigma V^T and R = U V^T, tau = U diag(t) U^T with principal
// stresses t_i = 2 mu (sigma_i - 1) sigma_i + lambda J (J - 1), J = prod sigma: kind (b) of
// materials/principal_adjoint.h, whose divided differences have the closed form
//   d_ij = (t_i - t_j) / (sigma_i - sigma_j) = 2 mu (sigma_i + sigma_j - 1),
// and which divides only by sigma_i + sigma_j: regular at repeated singular values and at F = I. Four 3x3
// products besides the SVD (the polar-rotation form of the same adjoint takes eight).
template <class T, int D>
DUCTILE_HD inline void adj_corotated_stress(T mu, T lambda, const Svd<T, D>& s, T& adj_mu, T& adj_lambda,
                                            Mat<T, D>& adj_F, const Mat<T, D>& adj_tau) {
  const Vec<T, D>& sg = s.sigma;
  // J and dJ / dsigma_k (products of the other singular values, no division)
  Vec<T, D> Jk;
  if constexpr (D == 2) {
    Jk[0] = sg[1], Jk[1] = sg[0];
  } else {
    Jk[0] = sg[1] * sg[2], Jk[1] = sg[0] * sg[2], Jk[2] = sg[0] * sg[1];
  }
  const T J = sg[0] * Jk[0];
  // the output adjoint in the principal frame, A = U^T adj_tau U
  const Mat<T, D> A = transpose(s.U) * adj_tau * s.U;
  T trA = 0;
  for (int i = 0; i < D; ++i) trA += A(i, i);
  // principal stresses without the isotropic term (only their differences enter), d_ij, and the diagonal
  Vec<T, D> t, adj_sigma;
  Mat<T, D> dd;
  const T two_mu = T(2) * mu, vol = lambda * (T(2) * J - T(1)) * trA;
  for (int i = 0; i < D; ++i) {
    t[i] = two_mu * (sg[i] - T(1)) * sg[i];
    adj_sigma[i] = A(i, i) * two_mu * (T(2) * sg[i] - T(1)) + vol * Jk[i];
    adj_mu += T(2) * A(i, i) * (sg[i] - T(1)) * sg[i];
    for (int j = 0; j < D; ++j) dd(i, j) = two_mu * (sg[i] + sg[j] - T(1));
  }
  adj_principal_stress(s, t, dd, A, adj_sigma, adj_F);
  adj_lambda += trA * J * (J - T(1));
}
// The same at F (its SVD computed here).
template <class T, int D>
DUCTILE_HD inline void adj_corotated_stress(T mu, T lambda, const Mat<T, D>& F, T& adj_mu, T& adj_lambda,
                                            Mat<T, D>& adj_F, const Mat<T, D>& adj_tau) {
  adj_corotated_stress(mu, lambda, svd(F), adj_mu, adj_lambda, adj_F, adj_tau);
}

struct FixedCorotated : PurelyElastic {
  static constexpr const char* kName = "fixed_corotated";
  enum { kDensity = 0, kE = 1, kNu = 2 };
  static const std::vector<ParamSpec>& specs() {
    static const std::vector<ParamSpec> s = {density_spec(), youngs_spec(1e5), poisson_spec(0.2)};
    return s;
  }

  // Strain energy density per unit reference volume (for finite-difference tests; the last argument is the
  // plastic state, unused here, so every model's energy has the same signature).
  template <class T, int D>
  DUCTILE_HD static T energy(const T* prm, const Mat<T, D>& F, T = T(1)) {
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    Svd<T, D> s = svd(F);
    T e = 0, J = 1;
    for (int d = 0; d < D; ++d) {
      e += (s.sigma[d] - T(1)) * (s.sigma[d] - T(1));
      J *= s.sigma[d];
    }
    return mu * e + T(0.5) * lambda * (J - T(1)) * (J - T(1));
  }

  // What the adjoint reuses from the stress when the tape asks for it (materials/analytic.h, "kept"): the
  // SVD.
  template <class T, int D>
  using Kept = Svd<T, D>;

  // The stress of L lanes (the per-particle stress is L = 1).
  template <class T, int D, int L>
  DUCTILE_HD static void stress_soa(const T* prm, const T (&F)[D * D][L], T (&tau)[D * D][L]) {
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    T two_mu[L], lam[L];
    for (int j = 0; j < L; ++j) two_mu[j] = T(2) * mu, lam[j] = lambda;
    corotated_stress_lanes<T, D, L>(two_mu, lam, F, tau);
  }
  template <class T, int D>
  DUCTILE_HD static Mat<T, D> stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>&, T) {
    T f[D * D][1], tau[D * D][1];
    for (int c = 0; c < D * D; ++c) f[c][0] = F.m[c / D][c % D];
    stress_soa<T, D, 1>(prm, f, tau);
    Mat<T, D> r;
    for (int c = 0; c < D * D; ++c) r.m[c / D][c % D] = tau[c][0];
    return r;
  }
  // The same stress with R = U V^T from the SVD of F, kept for the adjoint (the tape's backward pass, which
  // needs the SVD anyway: a second decomposition for R would cost as much again; R agrees with the Newton
  // rotation of `stress` to round-off, tests/materials/test_nearest_rotation.cpp).
  template <class T, int D>
  DUCTILE_HD static Mat<T, D> stress_kept(const T* prm, const Mat<T, D>& F, const Mat<T, D>&, T,
                                          Kept<T, D>& s) {
    s = svd(F);
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    const T J = det(F);
    return (T(2) * mu) * ((F - polar_rotation(s)) * transpose(F)) +
           (lambda * J * (J - T(1))) * Mat<T, D>::identity();
  }
  // A CPU batch of kLaneBatch particles (materials/analytic.h, stress_lanes).
  template <class T, int D>
  static void stress_lanes(const T* prm, const T* const* F, const T* const*, const T*, T (*tau)[kLaneBatch]) {
    T f[D * D][kLaneBatch], t[D * D][kLaneBatch];
    for (int c = 0; c < D * D; ++c)
      for (int j = 0; j < kLaneBatch; ++j) f[c][j] = F[c][j];
    stress_soa<T, D, kLaneBatch>(prm, f, t);
    for (int c = 0; c < D * D; ++c)
      for (int j = 0; j < kLaneBatch; ++j) tau[c][j] = t[c][j];
  }

  // Adjoint of stress (no dependence on C or plastic); adj_prm[kE], adj_prm[kNu] through the Lame parameters.
  template <class T, int D>
  DUCTILE_HD static void adj_stress_kept(const T* prm, const Mat<T, D>&, const Mat<T, D>&, T,
                                         const Kept<T, D>& s, const Mat<T, D>& adj_tau, Mat<T, D>& adj_F,
                                         Mat<T, D>&, T&, T* adj_prm) {
    T mu, lambda, adj_mu = 0, adj_lambda = 0;
    lame(prm[kE], prm[kNu], mu, lambda);
    adj_corotated_stress(mu, lambda, s, adj_mu, adj_lambda, adj_F, adj_tau);
    adj_lame(prm[kE], prm[kNu], adj_prm[kE], adj_prm[kNu], adj_mu, adj_lambda);
  }
  template <class T, int D>
  DUCTILE_HD static void adj_stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>& C, T plastic,
                                    const Mat<T, D>& adj_tau, Mat<T, D>& adj_F, Mat<T, D>& adj_C,
                                    T& adj_plastic, T* adj_prm) {
    adj_stress_kept<T, D>(prm, F, C, plastic, svd(F), adj_tau, adj_F, adj_C, adj_plastic, adj_prm);
  }
};

}  // namespace ductile
