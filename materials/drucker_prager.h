// Granular material (sand): St. Venant-Kirchhoff on the Hencky strain (materials/hencky.h) with the
// Drucker-Prager return mapping of Klar et al. 2016, "Drucker-Prager elastoplasticity for sand animation"
// (their projection onto the yield surface in principal Hencky strains; algorithms.md 4.5: NCLaw
// DruckerPragerPlasticity, taichi_elements sand_projection, Genesis Sand).
//
// Yield surface (Klar's cone, matched to Mohr-Coulomb in compression, shifted by the cohesion c):
//   f(tau) = ||dev tau|| + alpha tr tau - alpha_c <= 0,
//   alpha = sqrt(2/3) 2 sin(phi) / (3 - sin(phi)),   alpha_c = alpha D c cot(phi) (finite at phi = 0).
// On the Hencky strain tr tau = B tr eps with B = D lambda + 2 mu, and ||dev tau|| = 2 mu ||eps_hat||:
//   B tr eps >= alpha_c / alpha (expansion past the apex): eps_i <- tr_apex / D, tr_apex = alpha_c/(alpha B)
//     (the tip; F <- U V^T when c = 0);
//   otherwise dgamma = f / (2 mu) = ||eps_hat|| + (alpha B tr eps - alpha_c) / (2 mu), and if dgamma > 0
//     eps <- eps - dgamma eps_hat / ||eps_hat||  (non-associated, volume-preserving flow).
// c = 0 is exactly Klar's projection and the references'; phi = 0 gives a cohesive von Mises cylinder.
// The singular values are clamped at 0.05 before the log (materials/hencky.h).
//
// Volume correction (Tampubolon et al. 2017, "Multi-species simulation of porous sand and water mixtures";
// taichi_elements and Genesis), on when `volume_correction` = 1: `plastic` holds the volume ratio
// J_c = exp(v_c) that the sand gained while projected to the tip; the trace tested against the cone is
// tr eps + v_c, so separated sand must first be recompressed by that volume before it carries load. At the
// tip v_c <- tr eps + v_c - tr_apex; otherwise v_c <- 0. With the correction off `plastic` stays 1.
#pragma once

#include <cmath>
#include <vector>

#include "materials/elastic_params.h"
#include "materials/hencky.h"

namespace ductile {

struct DruckerPrager {
  static constexpr const char* kName = "drucker_prager";
  enum { kDensity = 0, kE = 1, kNu = 2, kFriction = 3, kCohesion = 4, kVolumeCorrection = 5 };
  static const std::vector<ParamSpec>& specs() {
    static const std::vector<ParamSpec> s = {
        density_spec(1600),
        youngs_spec(1e6),
        poisson_spec(0.2),
        {"friction_angle", "deg", 25, 0, 90, false, true,
         "internal friction angle phi of the Drucker-Prager cone"},
        {"cohesion", "Pa", 0, 0, 1e30, false, false,
         "cohesion c: the cone apex sits at mean stress c cot(phi)"},
        {"volume_correction", "1", 0, 0, 1, false, false,
         "1: remember the volume gained at the cone tip in `plastic` (Tampubolon 2017); 0: off"}};
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

  // Cone slope alpha and the cohesion term alpha D c cot(phi) of the yield function (finite at phi = 0).
  template <class T, int D>
  DUCTILE_HD static void cone(const T* prm, T& alpha, T& alpha_c) {
    const T phi = prm[kFriction] * T(3.14159265358979323846 / 180.0);
    const T sp = std::sin(phi), k = std::sqrt(T(2) / T(3)) * T(2) / (T(3) - sp);
    alpha = k * sp;
    alpha_c = k * std::cos(phi) * T(D) * prm[kCohesion];
  }

  // Klar's return mapping on the principal Hencky strain, with the optional volume correction.
  template <class T, int D>
  DUCTILE_HD static void project(const T* prm, T, Mat<T, D>& F, T& plastic) {
    T mu, lambda, alpha, alpha_c;
    lame(prm[kE], prm[kNu], mu, lambda);
    cone<T, D>(prm, alpha, alpha_c);
    const bool correct = prm[kVolumeCorrection] > T(0.5);
    const T bulk = T(D) * lambda + T(2) * mu;  // tr tau = bulk tr eps
    Svd<T, D> s = svd(F);
    Vec<T, D> eps = hencky_strain(s.sigma);
    const T tr = principal_trace(eps) + (correct ? std::log(plastic) : T(0));
    // Expansion past the apex: project to the tip of the cone.
    if (alpha > T(0) && bulk * tr * alpha >= alpha_c) {
      const T tr_apex = alpha_c / (alpha * bulk);
      if (correct) plastic = std::exp(tr - tr_apex);
      F = compose(s.U, Vec<T, D>::constant(std::exp(tr_apex / T(D))), s.V);
      return;
    }
    if (correct) plastic = T(1);
    // Compression: radial return of the deviatoric strain onto the cone.
    Vec<T, D> dev = principal_deviator(eps);
    T n = norm(dev);
    T dgamma = n + (alpha * bulk * tr - alpha_c) / (T(2) * mu);
    if (!(dgamma > T(0))) return;
    eps = eps - (dgamma / n) * dev;
    F = compose(s.U, principal_exp(eps), s.V);
  }

  template <class T>
  static T wave_speed(const T* prm) {
    return p_wave_speed(prm[kDensity], prm[kE], prm[kNu]);
  }
};

}  // namespace ductile
