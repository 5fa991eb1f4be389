// Adjoints of isotropic matrix functions given by their principal values, stable at repeated singular values.
//
// With F = U diag(sigma) V^T, M = U^T dF V, S_ij = (M_ij + M_ji) / 2 and K_ij = (M_ij - M_ji) / 2, and a map
// sigma -> g(sigma) that commutes with permutations (Teran et al. 2005, "Robust quasistatic finite elements
// and flesh simulation", sec. 5: the 2x2 blocks of dP/dF; algorithms.md 4.8, ChainQueen):
//   (a) G(F) = U diag(g) V^T (a return mapping):   (U^T dG V)_ii = dg_i,
//       (U^T dG V)_ij = d_ij S_ij + p_ij K_ij,   d_ij = (g_i - g_j) / (sigma_i - sigma_j),
//                                                p_ij = (g_i + g_j) / (sigma_i + sigma_j);
//   (b) tau(F) = U diag(t) U^T (a Kirchhoff stress from principal stresses; dU from U^T dF V = dU^T U Sigma
//       + dSigma - Sigma dV^T V):                  (U^T dtau U)_ii = dt_i,
//       (U^T dtau U)_ij = d_ij S_ij - q_ij K_ij,   d_ij = (t_i - t_j) / (sigma_i - sigma_j),
//                                                q_ij = (t_i - t_j) / (sigma_i + sigma_j).
// The adjoints below transpose these maps. The divided differences d_ij come from the model, in a closed form
// that never divides by sigma_i - sigma_j (their limit at sigma_i = sigma_j is dg_i/dsigma_i -
// dg_i/dsigma_j); the sums sigma_i + sigma_j vanish only for an inverted F folded flat and are clamped as in
// adj_polar_rotation (core/svd.h). The diagonal part, adj_sigma_k = sum_i A_ii dg_i/dsigma_k, is the model's
// reverse pass through its principal computation.
#pragma once

#include <cmath>

#include "core/svd.h"

namespace ductile {

// sigma_i + sigma_j kept away from zero with its sign (adj_polar_rotation's clamp).
template <class T>
DUCTILE_HD DUCTILE_INLINE T clamped_sigma_sum(T a, T b) {
  const T eps = sizeof(T) == 4 ? T(1e-6) : T(1e-12);
  const T s = a + b;
  return std::fabs(s) < eps ? (s < T(0) ? -eps : eps) : s;
}

// (log a - log b) / (a - b) for a, b > 0 as 2 atanh(t) / (t (a + b)), t = (a - b) / (a + b); limit 1/a.
template <class T>
DUCTILE_HD DUCTILE_INLINE T log_divided_difference(T a, T b) {
  const T s = a + b, t = (a - b) / s, t2 = t * t;
  const T r =
      std::fabs(t) < T(1e-3) ? T(1) + t2 * (T(1) / T(3) + t2 * (T(1) / T(5) + t2 / T(7))) : std::atanh(t) / t;
  return T(2) * r / s;
}

// expm1(k x) / x, with its limit k at x = 0 (Taylor series for |k x| < 1e-4).
template <class T>
DUCTILE_HD DUCTILE_INLINE T expm1_ratio(T k, T x) {
  const T y = k * x;
  if (std::fabs(y) < T(1e-4)) return k * (T(1) + y * (T(0.5) + y * (T(1) / T(6) + y / T(24))));
  return std::expm1(y) / x;
}

// A = U^T adj_G V, the output adjoint in the principal frame of a map of kind (a).
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Mat<T, D> principal_frame(const Svd<T, D>& s, const Mat<T, D>& adj_G) {
  return transpose(s.U) * adj_G * s.V;
}

// Adjoint of G = U diag(g) V^T, kind (a): adj_F += U Abar V^T with Abar_ii = adj_sigma_i and, for i != j,
// Abar_ij = d_ij (A_ij + A_ji) / 2 + p_ij (A_ij - A_ji) / 2. A = principal_frame(s, adj_G); dd holds d_ij.
template <class T, int D>
DUCTILE_HD inline void adj_principal_map(const Svd<T, D>& s, const Vec<T, D>& g, const Mat<T, D>& dd,
                                         const Mat<T, D>& A, const Vec<T, D>& adj_sigma, Mat<T, D>& adj_F) {
  Mat<T, D> B = Mat<T, D>::diag(adj_sigma);
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      if (i == j) continue;
      const T p = (g[i] + g[j]) / clamped_sigma_sum(s.sigma[i], s.sigma[j]);
      B(i, j) = T(0.5) * (dd(i, j) * (A(i, j) + A(j, i)) + p * (A(i, j) - A(j, i)));
    }
  adj_F = adj_F + s.U * B * transpose(s.V);
}

// Adjoint of tau = U diag(t) U^T, kind (b): adj_F += U Abar V^T with Abar_ii = adj_sigma_i and, for i != j,
// Abar_ij = (d_ij - q_ij) (A_ij + A_ji) / 2, where A = U^T adj_tau U (only its symmetric part matters).
template <class T, int D>
DUCTILE_HD inline void adj_principal_stress(const Svd<T, D>& s, const Vec<T, D>& t, const Mat<T, D>& dd,
                                            const Mat<T, D>& A, const Vec<T, D>& adj_sigma,
                                            Mat<T, D>& adj_F) {
  Mat<T, D> B = Mat<T, D>::diag(adj_sigma);
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      if (i == j) continue;
      const T q = (t[i] - t[j]) / clamped_sigma_sum(s.sigma[i], s.sigma[j]);
      B(i, j) = T(0.5) * (dd(i, j) - q) * (A(i, j) + A(j, i));
    }
  adj_F = adj_F + s.U * B * transpose(s.V);
}

}  // namespace ductile
