// Fixed-corotated elasticity (Stomakhin et al. 2012, "Energetically consistent invertible elasticity",
// eq. 5):
//   psi = mu sum_i (sigma_i - 1)^2 + lambda/2 (J - 1)^2,
//   Kirchhoff stress tau = 2 mu (F - R) F^T + lambda J (J - 1) I.
#pragma once

#include <vector>

#include "core/svd.h"
#include "materials/elastic_params.h"

namespace ductile {

// Adjoint of the corotated Kirchhoff stress tau = 2 mu (F - R) F^T + lambda J (J - 1) I for given Lame
// parameters (shared with snow): the polar rotation's adjoint divides only by sigma_i + sigma_j (core/svd.h),
// so it is regular at repeated singular values and at F = I.
template <class T, int D>
DUCTILE_HD inline void adj_corotated_stress(T mu, T lambda, const Mat<T, D>& F, T& adj_mu, T& adj_lambda,
                                            Mat<T, D>& adj_F, const Mat<T, D>& adj_tau) {
  const Svd<T, D> s = svd(F);
  const Mat<T, D> R = polar_rotation(s), Ft = transpose(F), At = transpose(adj_tau);
  const T J = det(F), trA = trace(adj_tau);
  // 2 mu F F^T and -2 mu R F^T (R through adj_polar_rotation)
  adj_F = adj_F + (T(2) * mu) * ((adj_tau + At) * F - At * R);
  adj_polar_rotation(s, (T(-2) * mu) * (adj_tau * F), adj_F);
  // lambda (J^2 - J) I
  adj_det(F, lambda * (T(2) * J - T(1)) * trA, adj_F);
  adj_mu += T(2) * ddot(adj_tau, (F - R) * Ft);
  adj_lambda += trA * J * (J - T(1));
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

  template <class T, int D>
  DUCTILE_HD static Mat<T, D> stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>&, T) {
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    Mat<T, D> R = polar_rotation(svd(F));
    T J = det(F);
    return (T(2) * mu) * ((F - R) * transpose(F)) + (lambda * J * (J - T(1))) * Mat<T, D>::identity();
  }

  // Adjoint of stress (no dependence on C or plastic); adj_prm[kE], adj_prm[kNu] through the Lame parameters.
  template <class T, int D>
  DUCTILE_HD static void adj_stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>&, T,
                                    const Mat<T, D>& adj_tau, Mat<T, D>& adj_F, Mat<T, D>&, T&, T* adj_prm) {
    T mu, lambda, adj_mu = 0, adj_lambda = 0;
    lame(prm[kE], prm[kNu], mu, lambda);
    adj_corotated_stress(mu, lambda, F, adj_mu, adj_lambda, adj_F, adj_tau);
    adj_lame(prm[kE], prm[kNu], adj_prm[kE], adj_prm[kNu], adj_mu, adj_lambda);
  }
};

}  // namespace ductile
