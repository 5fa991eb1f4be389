// Fixed-corotated elasticity (Stomakhin et al. 2012, "Energetically consistent invertible elasticity",
// eq. 5):
//   psi = mu sum_i (sigma_i - 1)^2 + lambda/2 (J - 1)^2,
//   Kirchhoff stress tau = 2 mu (F - R) F^T + lambda J (J - 1) I.
#pragma once

#include <vector>

#include "core/svd.h"
#include "materials/elastic_params.h"

namespace ductile {

struct FixedCorotated {
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

  template <class T, int D>
  DUCTILE_HD static void project(const T*, T, Mat<T, D>&, T&) {}

  template <class T>
  static T wave_speed(const T* prm) {
    return p_wave_speed(prm[kDensity], prm[kE], prm[kNu]);
  }
};

}  // namespace ductile
