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

struct DruckerPrager : HenckyElastic {
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

  // Cone slope alpha and the cohesion term alpha D c cot(phi) of the yield function (finite at phi = 0).
  template <class T, int D>
  DUCTILE_HD static void cone(const T* prm, T& alpha, T& alpha_c) {
    const T phi = prm[kFriction] * T(3.14159265358979323846 / 180.0);
    const T sp = std::sin(phi), k = std::sqrt(T(2) / T(3)) * T(2) / (T(3) - sp);
    alpha = k * sp;
    alpha_c = k * std::cos(phi) * T(D) * prm[kCohesion];
  }

  // Adjoint of cone: alpha = k sin(phi), alpha_c = k cos(phi) D c with k = sqrt(2/3) 2 / (3 - sin(phi)),
  // dk/dsin(phi) = k / (3 - sin(phi)); phi in degrees.
  template <class T, int D>
  DUCTILE_HD static void adj_cone(const T* prm, T* adj_prm, T adj_alpha, T adj_alpha_c) {
    const T deg = T(3.14159265358979323846 / 180.0), phi = prm[kFriction] * deg;
    const T sp = std::sin(phi), cp = std::cos(phi), k = std::sqrt(T(2) / T(3)) * T(2) / (T(3) - sp);
    const T dk = k / (T(3) - sp);
    const T dalpha = (dk * sp + k) * cp, dalpha_c = T(D) * prm[kCohesion] * (dk * cp * cp - k * sp);
    adj_prm[kFriction] += (adj_alpha * dalpha + adj_alpha_c * dalpha_c) * deg;
    adj_prm[kCohesion] += adj_alpha_c * k * cp * T(D);
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

  // Adjoint of project, piecewise: the branch taken at F_trial is differentiated.
  //   apex:        F_out = exp(tr_apex / D) U V^T (the polar rotation's adjoint; tr_apex = alpha_c/(alpha
  //   B)),
  //                plastic_out = exp(tr - tr_apex) with the volume correction;
  //   compression: elastic (dgamma <= 0) is the identity; plastic is eps_new = m + k eps_hat with
  //                k = (alpha_c - alpha B tr) / (2 mu ||eps_hat||) in (0, 1), differentiated like von Mises;
  //                with the volume correction plastic_out = 1 carries no derivative.
  // The volume_correction switch gets no adjoint (a discrete choice).
  template <class T, int D>
  DUCTILE_HD static void adj_project(const T* prm, T, const Mat<T, D>& F_trial, T plastic_in,
                                     const Mat<T, D>& adj_F_out, T adj_plastic_out, Mat<T, D>& adj_F_trial,
                                     T& adj_plastic_in, T* adj_prm) {
    T mu, lambda, alpha, alpha_c;
    lame(prm[kE], prm[kNu], mu, lambda);
    cone<T, D>(prm, alpha, alpha_c);
    const bool correct = prm[kVolumeCorrection] > T(0.5);
    const T bulk = T(D) * lambda + T(2) * mu;
    const Svd<T, D> s = svd(F_trial);
    const Vec<T, D> eps = hencky_strain(s.sigma), slope = hencky_strain_slope(s.sigma);
    const T tr = principal_trace(eps) + (correct ? std::log(plastic_in) : T(0));
    T adj_mu = 0, adj_bulk = 0, adj_alpha = 0, adj_alpha_c = 0, adj_tr = 0;
    Vec<T, D> adj_eps = Vec<T, D>::zero(), g;
    Mat<T, D> dd = Mat<T, D>::zero();
    const Mat<T, D> A = principal_frame(s, adj_F_out);
    if (alpha > T(0) && bulk * tr * alpha >= alpha_c) {
      // apex: g_i = exp(tr_apex / D) for every i (d_ij = 0)
      const T tr_apex = alpha_c / (alpha * bulk), e = std::exp(tr_apex / T(D));
      g = Vec<T, D>::constant(e);
      T adj_apex = trace(A) * e / T(D);
      if (correct) {
        const T ap = adj_plastic_out * std::exp(tr - tr_apex);
        adj_tr += ap;
        adj_apex -= ap;
      } else {
        adj_plastic_in += adj_plastic_out;
      }
      adj_alpha_c += adj_apex / (alpha * bulk);
      adj_alpha -= adj_apex * tr_apex / alpha;
      adj_bulk -= adj_apex * tr_apex / bulk;
    } else {
      if (!correct) adj_plastic_in += adj_plastic_out;  // with the correction plastic_out = 1
      const Vec<T, D> dev = principal_deviator(eps);
      const T n = norm(dev);
      const T dgamma = n + (alpha * bulk * tr - alpha_c) / (T(2) * mu);
      if (!(dgamma > T(0))) {  // elastic: identity in F
        adj_F_trial = adj_F_trial + adj_F_out;
        return;
      }
      const T num = alpha_c - alpha * bulk * tr, k = num / (T(2) * mu * n);
      const T m = principal_trace(eps) / T(D);
      for (int i = 0; i < D; ++i) g[i] = std::exp(m + k * dev[i]);
      // eps_new = m + k dev, g = exp(eps_new)
      T adj_m = 0, adj_k = 0;
      Vec<T, D> adj_dev;
      for (int i = 0; i < D; ++i) {
        const T ae = A(i, i) * g[i];
        adj_m += ae;
        adj_k += ae * dev[i];
        adj_dev[i] = k * ae;
      }
      // k = num / (2 mu n), num = alpha_c - alpha B tr
      const T adj_num = adj_k / (T(2) * mu * n), adj_n = -adj_k * k / n;
      adj_mu -= adj_k * k / mu;
      adj_alpha_c += adj_num;
      adj_alpha -= adj_num * bulk * tr;
      adj_bulk -= adj_num * alpha * tr;
      adj_tr -= adj_num * alpha * bulk;
      // n = |dev|, dev = eps - m
      T sum = 0;
      for (int i = 0; i < D; ++i) {
        adj_dev[i] = adj_dev[i] + adj_n * dev[i] / n;
        sum += adj_dev[i];
      }
      for (int i = 0; i < D; ++i) {
        adj_eps[i] = adj_dev[i] + (adj_m - sum) / T(D);
        for (int j = 0; j < D; ++j)
          if (j != i)
            dd(i, j) = g[j] * expm1_ratio(k, eps[i] - eps[j]) * hencky_strain_dd(s.sigma[i], s.sigma[j]);
      }
    }
    // tr = sum(eps) + log(plastic_in) (correction on)
    if (correct) adj_plastic_in += adj_tr / plastic_in;
    Vec<T, D> adj_sigma;
    for (int i = 0; i < D; ++i) adj_sigma[i] = (adj_eps[i] + adj_tr) * slope[i];
    adj_principal_map(s, g, dd, A, adj_sigma, adj_F_trial);
    // B = D lambda + 2 mu; the cone from friction angle and cohesion
    adj_lame(prm[kE], prm[kNu], adj_prm[kE], adj_prm[kNu], adj_mu + T(2) * adj_bulk, T(D) * adj_bulk);
    adj_cone<T, D>(prm, adj_prm, adj_alpha, adj_alpha_c);
  }

  template <class T>
  static T wave_speed(const T* prm) {
    return p_wave_speed(prm[kDensity], prm[kE], prm[kNu]);
  }
};

}  // namespace ductile
