// Elastoplastic metal / plasticine: St. Venant-Kirchhoff on the Hencky strain (materials/hencky.h) with a von
// Mises return mapping on the principal Hencky strain (algorithms.md 4.4: NCLaw VonMisesPlasticity,
// PlasticineLab compute_von_mises, Genesis ElastoPlastic): the classical radial return (Simo & Hughes 1998,
// "Computational inelasticity", ch. 3) applied to the principal logarithmic strains (their ch. 9).
//
// Yield function, in the references' convention (radius on the Frobenius norm of the deviatoric Kirchhoff
// stress, NOT the uniaxial yield stress, which is sqrt(3/2) times larger):
//   f = ||dev tau|| - (yield_stress + 2 mu xi a) = 2 mu ||eps_hat|| - (yield_stress + 2 mu xi a),
// with eps_hat = eps - tr(eps)/D I, xi = `hardening` and a the accumulated plastic strain. Return mapping
// with linear isotropic hardening, consistent (the result lies on the hardened surface):
//   dgamma = (||eps_hat|| - yield_stress/(2 mu) - xi a) / (1 + xi),  eps <- eps - dgamma eps_hat/||eps_hat||,
//   a <- a + dgamma.
// `plastic` holds 1 + a (it starts at 1 with a = 0): a is the sum of dgamma, the Frobenius norm of the
// deviatoric Hencky strain removed by each return mapping.
#pragma once

#include <cmath>
#include <vector>

#include "materials/elastic_params.h"
#include "materials/hencky.h"

namespace ductile {

struct VonMises {
  static constexpr const char* kName = "von_mises";
  enum { kDensity = 0, kE = 1, kNu = 2, kYield = 3, kHardening = 4 };
  static const std::vector<ParamSpec>& specs() {
    static const std::vector<ParamSpec> s = {
        density_spec(),
        youngs_spec(3e5),
        poisson_spec(0.25),
        {"yield_stress", "Pa", 5e3, 0, 1e30, false, false,
         "von Mises radius: flows when ||dev tau||_F > yield_stress (uniaxial yield = sqrt(3/2) x this)"},
        {"hardening", "1", 0, 0, 1e30, false, false,
         "linear hardening xi: the radius grows by 2 mu xi per unit accumulated plastic strain"}};
    return s;
  }

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

  // Radial return of the deviatoric Hencky strain onto the (hardened) von Mises cylinder; F unchanged inside.
  template <class T, int D>
  DUCTILE_HD static void project(const T* prm, T, Mat<T, D>& F, T& plastic) {
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    const T xi = prm[kHardening];
    Svd<T, D> s = svd(F);
    Vec<T, D> eps = hencky_strain(s.sigma);
    Vec<T, D> dev = principal_deviator(eps);
    T n = norm(dev);
    T radius = prm[kYield] / (T(2) * mu) + xi * (plastic - T(1));
    T dgamma = (n - radius) / (T(1) + xi);
    if (!(dgamma > T(0))) return;
    eps = eps - (dgamma / n) * dev;
    F = compose(s.U, principal_exp(eps), s.V);
    plastic += dgamma;
  }

  template <class T>
  static T wave_speed(const T* prm) {
    return p_wave_speed(prm[kDensity], prm[kE], prm[kNu]);
  }
};

}  // namespace ductile
