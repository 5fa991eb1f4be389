// Snow (Stomakhin et al. 2013, "A material point method for snow simulation", sec. 5 and eq. 1-2; as coded
// in taichi mpm128, taichi_elements and Genesis Snow, algorithms.md 4.6).
//
// F = F_E F_P; the particle's F is the elastic part F_E and `plastic` holds J_P = det F_P (starts at 1).
// Stress: fixed-corotated on F_E with hardened Lame parameters
//   mu = mu_0 h, lambda = lambda_0 h, h = exp(xi (1 - J_P)) clamped to [0.1, 5] (the mpm128 clamp, which
//   keeps fully compacted snow from becoming arbitrarily stiff and loose snow from losing all stiffness; the
//   paper itself does not clamp); tau = 2 mu (F_E - R_E) F_E^T + lambda J_E (J_E - 1) I (R_E from
//   core/polar.h, as fixed-corotated).
// Plasticity: each singular value of the trial F_E is clamped to [1 - theta_c, 1 + theta_s]; the removed part
// goes into F_P, J_P <- J_P prod(sigma_i / sigma_i_clamped). An inverted trial F (last sigma < 0) makes J_P
// negative, as in the references; h then saturates at its upper clamp.
#pragma once

#include <cmath>
#include <vector>

#include "core/svd.h"
#include "materials/elastic_params.h"
#include "materials/fixed_corotated.h"
#include "materials/principal_adjoint.h"

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

  // The stress of L lanes (the per-particle stress is L = 1): fixed-corotated's with hardened Lame
  // parameters.
  template <class T, int D, int L>
  DUCTILE_HD static void stress_soa(const T* prm, const T (&F)[D * D][L], const T* plastic,
                                    T (&tau)[D * D][L]) {
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    T two_mu[L], lam[L];
    for (int j = 0; j < L; ++j) {
      const T h = hardening_factor(prm, plastic[j]);
      two_mu[j] = T(2) * mu * h, lam[j] = lambda * h;
    }
    corotated_stress_lanes<T, D, L>(two_mu, lam, F, tau);
  }
  template <class T, int D>
  DUCTILE_HD static Mat<T, D> stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>&, T plastic) {
    T f[D * D][1], tau[D * D][1];
    for (int c = 0; c < D * D; ++c) f[c][0] = F.m[c / D][c % D];
    stress_soa<T, D, 1>(prm, f, &plastic, tau);
    Mat<T, D> r;
    for (int c = 0; c < D * D; ++c) r.m[c / D][c % D] = tau[c][0];
    return r;
  }
  // A CPU batch of kLaneBatch particles (materials/analytic.h, stress_lanes).
  template <class T, int D>
  static void stress_lanes(const T* prm, const T* const* F, const T* const*, const T* plastic,
                           T (*tau)[kLaneBatch]) {
    T f[D * D][kLaneBatch], t[D * D][kLaneBatch];
    for (int c = 0; c < D * D; ++c)
      for (int j = 0; j < kLaneBatch; ++j) f[c][j] = F[c][j];
    stress_soa<T, D, kLaneBatch>(prm, f, plastic, t);
    for (int c = 0; c < D * D; ++c)
      for (int j = 0; j < kLaneBatch; ++j) tau[c][j] = t[c][j];
  }

  // Adjoint of stress: the corotated adjoint with hardened Lame parameters, and the hardening factor's
  // derivative in J_P (= plastic) and xi; zero where h is clamped to [0.1, 5].
  template <class T, int D>
  DUCTILE_HD static void adj_stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>&, T plastic,
                                    const Mat<T, D>& adj_tau, Mat<T, D>& adj_F, Mat<T, D>&, T& adj_plastic,
                                    T* adj_prm) {
    T mu, lambda, adj_mu = 0, adj_lambda = 0;
    lame(prm[kE], prm[kNu], mu, lambda);
    const T raw = std::exp(prm[kHardening] * (T(1) - plastic)), h = hardening_factor(prm, plastic);
    adj_corotated_stress(mu * h, lambda * h, F, adj_mu, adj_lambda, adj_F, adj_tau);
    adj_lame(prm[kE], prm[kNu], adj_prm[kE], adj_prm[kNu], adj_mu * h, adj_lambda * h);
    if (raw < T(kMinHardening) || raw > T(kMaxHardening)) return;  // clamped: h is constant
    const T adj_h = adj_mu * mu + adj_lambda * lambda;
    adj_plastic -= adj_h * prm[kHardening] * h;
    adj_prm[kHardening] += adj_h * (T(1) - plastic) * h;
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

  // Adjoint of project, piecewise: a singular value inside [1 - theta_c, 1 + theta_s] passes through (slope
  // 1), a clamped one has slope 0 in sigma and 1 in its bound. The divided differences (c_i - c_j)/(sigma_i -
  // sigma_j) of the 1-Lipschitz clamp lie in [0, 1]; at sigma_i = sigma_j they are the common slope.
  // plastic_out = plastic_in prod(sigma_d / c_d), differentiated without dividing by sigma.
  template <class T, int D>
  DUCTILE_HD static void adj_project(const T* prm, T, const Mat<T, D>& F_trial, T plastic_in,
                                     const Mat<T, D>& adj_F_out, T adj_plastic_out, Mat<T, D>& adj_F_trial,
                                     T& adj_plastic_in, T* adj_prm) {
    const T lo = T(1) - prm[kCompression], hi = T(1) + prm[kStretch];
    const Svd<T, D> s = svd(F_trial);
    Vec<T, D> c;
    int side[D];  // -1 clamped to lo, +1 clamped to hi, 0 free
    bool clamped = false;
    for (int d = 0; d < D; ++d) {
      side[d] = s.sigma[d] < lo ? -1 : (s.sigma[d] > hi ? 1 : 0);
      c[d] = side[d] < 0 ? lo : (side[d] > 0 ? hi : s.sigma[d]);
      clamped = clamped || c[d] != s.sigma[d];
    }
    if (!clamped) {  // identity
      adj_F_trial = adj_F_trial + adj_F_out;
      adj_plastic_in += adj_plastic_out;
      return;
    }
    const Mat<T, D> A = principal_frame(s, adj_F_out);
    T ratio = 1;
    for (int d = 0; d < D; ++d) ratio *= s.sigma[d] / c[d];
    adj_plastic_in += adj_plastic_out * ratio;
    const T ap = adj_plastic_out * plastic_in;
    Vec<T, D> adj_sigma;
    Mat<T, D> dd = Mat<T, D>::zero();
    T adj_lo = 0, adj_hi = 0;
    for (int d = 0; d < D; ++d) {
      T others = 1;  // prod over e != d of sigma_e / c_e
      for (int e = 0; e < D; ++e)
        if (e != d) others *= s.sigma[e] / c[e];
      if (side[d] == 0) {
        adj_sigma[d] = A(d, d);
      } else {
        adj_sigma[d] = ap * others / c[d];
        const T adj_c = A(d, d) - ap * others * s.sigma[d] / (c[d] * c[d]);
        (side[d] < 0 ? adj_lo : adj_hi) += adj_c;
      }
      for (int e = 0; e < D; ++e)
        if (e != d)
          dd(d, e) =
              s.sigma[d] == s.sigma[e] ? T(side[d] == 0 ? 1 : 0) : (c[d] - c[e]) / (s.sigma[d] - s.sigma[e]);
    }
    adj_principal_map(s, c, dd, A, adj_sigma, adj_F_trial);
    adj_prm[kCompression] -= adj_lo;
    adj_prm[kStretch] += adj_hi;
  }

  template <class T>
  static T wave_speed(const T* prm) {
    // The hardening factor can raise the moduli up to kMaxHardening times.
    return std::sqrt(T(kMaxHardening)) * p_wave_speed(prm[kDensity], prm[kE], prm[kNu]);
  }
};

}  // namespace ductile
