// Compressible neo-Hookean elasticity (Bonet & Wood, "Nonlinear continuum mechanics for finite element
// analysis", ch. 6; as coded in DiffTaichi diffmpm3d.py and Genesis elastic.py, algorithms.md 4.2):
//   psi = mu/2 (tr(F^T F) - D) - mu log J + lambda/2 (log J)^2,
//   tau = mu (F F^T - I) + lambda log J I.
// Undefined for J <= 0 (log J): an inverted particle gives a non-finite stress, which the kernel reports.
#pragma once

#include <cmath>
#include <vector>

#include "core/math.h"
#include "materials/elastic_params.h"

namespace ductile {

struct NeoHookean : PurelyElastic {
  static constexpr const char* kName = "neo_hookean";
  enum { kDensity = 0, kE = 1, kNu = 2 };
  static const std::vector<ParamSpec>& specs() {
    static const std::vector<ParamSpec> s = {density_spec(), youngs_spec(1e5), poisson_spec(0.2)};
    return s;
  }

  // Strain energy density per unit reference volume.
  template <class T, int D>
  DUCTILE_HD static T energy(const T* prm, const Mat<T, D>& F, T = T(1)) {
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    T logJ = std::log(det(F));
    return T(0.5) * mu * (ddot(F, F) - T(D)) - mu * logJ + T(0.5) * lambda * logJ * logJ;
  }

  template <class T, int D>
  DUCTILE_HD static Mat<T, D> stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>&, T) {
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    return mu * (F * transpose(F)) + (lambda * std::log(det(F)) - mu) * Mat<T, D>::identity();
  }

  // Adjoint of stress: d tau = mu (dF F^T + F dF^T) + lambda tr(F^-1 dF) I (d log J = cof(F) : dF / J).
  template <class T, int D>
  DUCTILE_HD static void adj_stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>&, T,
                                    const Mat<T, D>& adj_tau, Mat<T, D>& adj_F, Mat<T, D>&, T&, T* adj_prm) {
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    const T J = det(F), trA = trace(adj_tau);
    adj_F = adj_F + mu * ((adj_tau + transpose(adj_tau)) * F);
    adj_det(F, lambda * trA / J, adj_F);
    const T adj_mu = ddot(adj_tau, F * transpose(F)) - trA, adj_lambda = trA * std::log(J);
    adj_lame(prm[kE], prm[kNu], adj_prm[kE], adj_prm[kNu], adj_mu, adj_lambda);
  }
};

}  // namespace ductile
