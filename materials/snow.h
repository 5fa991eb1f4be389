// Snow (Stomakhin et al. 2013, "A material point method for snow simulation", sec. 5 and eq. 1-2; as coded
// in taichi mpm128, taichi_elements and Genesis Snow, algorithms.md 4.6).
//
// F = F_E F_P; the particle's F is the elastic part F_E and `plastic` holds J_P = det F_P (starts at 1).
// Stress: fixed-corotated on F_E with hardened Lame parameters
//   mu = mu_0 h, lambda = lambda_0 h, h = exp(xi (1 - J_P)) clamped to [0.1, 5] (the mpm128 clamp, which
//   keeps fully compacted snow from becoming arbitrarily stiff and loose snow from losing all stiffness; the
//   paper itself does not clamp); tau = 2 mu (F_E - R_E) F_E^T + lambda J_E (J_E - 1) I.
// Plasticity: each singular value of the trial F_E is clamped to [1 - theta_c, 1 + theta_s]; the removed part
// goes into F_P, J_P <- J_P prod(sigma_i / sigma_i_clamped). An inverted trial F (last sigma < 0) makes J_P
// negative, as in the references; h then saturates at its upper clamp.
#pragma once

#include <cmath>
#include <vector>

#include "core/svd.h"
#include "materials/elastic_params.h"

namespace ductile {

struct Snow {
  static constexpr const char* kName = "snow";
  enum { kDensity = 0, kE = 1, kNu = 2, kCompression = 3, kStretch = 4, kHardening = 5 };
  static constexpr double kMinHardening = 0.1, kMaxHardening = 5.0;
  static const std::vector<ParamSpec>& specs() {
    static const std::vector<ParamSpec> s = {
        density_spec(400),
        youngs_spec(1.4e5),
        poisson_spec(0.2),
        {"critical_compression", "1", 2.5e-2, 0, 1, false, true,
         "theta_c: singular values of F_E below 1 - theta_c become plastic"},
        {"critical_stretch", "1", 4.5e-3, 0, 1e30, false, false,
         "theta_s: singular values of F_E above 1 + theta_s become plastic"},
        {"hardening", "1", 10, 0, 1e30, false, false, "xi: Lame parameters scale with exp(xi (1 - J_P))"}};
    return s;
  }

  // Hardening factor exp(xi (1 - J_P)), clamped to [0.1, 5].
  template <class T>
  DUCTILE_HD static T hardening_factor(const T* prm, T jp) {
    T h = std::exp(prm[kHardening] * (T(1) - jp));
    return h < T(kMinHardening) ? T(kMinHardening) : (h > T(kMaxHardening) ? T(kMaxHardening) : h);
  }

  // Elastic strain energy density per unit reference volume at fixed J_P (= plastic).
  template <class T, int D>
  DUCTILE_HD static T energy(const T* prm, const Mat<T, D>& F, T plastic = T(1)) {
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    Svd<T, D> s = svd(F);
    T e = 0, J = 1;
    for (int d = 0; d < D; ++d) {
      e += (s.sigma[d] - T(1)) * (s.sigma[d] - T(1));
      J *= s.sigma[d];
    }
    return hardening_factor(prm, plastic) * (mu * e + T(0.5) * lambda * (J - T(1)) * (J - T(1)));
  }

  template <class T, int D>
  DUCTILE_HD static Mat<T, D> stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>&, T plastic) {
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    const T h = hardening_factor(prm, plastic);
    Mat<T, D> R = polar_rotation(svd(F));
    T J = det(F);
    return (T(2) * mu * h) * ((F - R) * transpose(F)) + (lambda * h * J * (J - T(1))) * Mat<T, D>::identity();
  }

  // Clamp the singular values of F_E; F is unchanged when none is clamped.
  template <class T, int D>
  DUCTILE_HD static void project(const T* prm, T, Mat<T, D>& F, T& plastic) {
    const T lo = T(1) - prm[kCompression], hi = T(1) + prm[kStretch];
    Svd<T, D> s = svd(F);
    Vec<T, D> c;
    T ratio = 1;
    bool clamped = false;
    for (int d = 0; d < D; ++d) {
      c[d] = s.sigma[d] < lo ? lo : (s.sigma[d] > hi ? hi : s.sigma[d]);
      clamped = clamped || c[d] != s.sigma[d];
      ratio *= s.sigma[d] / c[d];
    }
    if (!clamped) return;
    F = compose(s.U, c, s.V);
    plastic *= ratio;
  }

  template <class T>
  static T wave_speed(const T* prm) {
    // The hardening factor can raise the moduli up to kMaxHardening times.
    return std::sqrt(T(kMaxHardening)) * p_wave_speed(prm[kDensity], prm[kE], prm[kNu]);
  }
};

}  // namespace ductile
