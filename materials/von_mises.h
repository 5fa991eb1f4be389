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

struct VonMises : HenckyElastic {
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

  // Adjoint of project, piecewise: the branch taken at F_trial is differentiated. Elastic (dgamma <= 0): the
  // identity. Plastic: eps_new = m + k eps_hat with m = tr(eps)/D and k = 1 - dgamma/||eps_hat||, so
  // g_i - g_j = g_j expm1(k (eps_i - eps_j)) gives the divided differences without dividing by
  // sigma_i - sigma_j (materials/principal_adjoint.h, kind (a)). Parameters: E, nu through mu (the radius
  // yield_stress / 2 mu), yield_stress and hardening.
  template <class T, int D>
  DUCTILE_HD static void adj_project(const T* prm, T, const Mat<T, D>& F_trial, T plastic_in,
                                     const Mat<T, D>& adj_F_out, T adj_plastic_out, Mat<T, D>& adj_F_trial,
                                     T& adj_plastic_in, T* adj_prm) {
    T mu, lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    const T xi = prm[kHardening];
    const Svd<T, D> s = svd(F_trial);
    const Vec<T, D> eps = hencky_strain(s.sigma), dev = principal_deviator(eps);
    const T m = principal_trace(eps) / T(D), n = norm(dev);
    const T radius = prm[kYield] / (T(2) * mu) + xi * (plastic_in - T(1));
    const T dgamma = (n - radius) / (T(1) + xi);
    if (!(dgamma > T(0))) {  // elastic branch: identity
      adj_F_trial = adj_F_trial + adj_F_out;
      adj_plastic_in += adj_plastic_out;
      return;
    }
    const T k = T(1) - dgamma / n;
    Vec<T, D> g;
    for (int i = 0; i < D; ++i) g[i] = std::exp(m + k * dev[i]);
    const Mat<T, D> A = principal_frame(s, adj_F_out);
    // eps_new = m + k dev, g = exp(eps_new)
    T adj_m = 0, adj_k = 0;
    Vec<T, D> adj_dev;
    for (int i = 0; i < D; ++i) {
      const T ae = A(i, i) * g[i];
      adj_m += ae;
      adj_k += ae * dev[i];
      adj_dev[i] = k * ae;
    }
    // k = 1 - dgamma / n, plastic_out = plastic_in + dgamma, dgamma = (n - radius) / (1 + xi)
    const T adj_dgamma = -adj_k / n + adj_plastic_out;
    const T adj_n = adj_k * dgamma / (n * n) + adj_dgamma / (T(1) + xi);
    const T adj_radius = -adj_dgamma / (T(1) + xi);
    adj_plastic_in += adj_plastic_out + adj_radius * xi;
    // radius = yield / (2 mu) + xi (plastic_in - 1)
    adj_prm[kHardening] += -adj_dgamma * dgamma / (T(1) + xi) + adj_radius * (plastic_in - T(1));
    adj_prm[kYield] += adj_radius / (T(2) * mu);
    adj_lame(prm[kE], prm[kNu], adj_prm[kE], adj_prm[kNu], -adj_radius * prm[kYield] / (T(2) * mu * mu),
             T(0));
    // n = |dev|, dev = eps - m, eps = log(max(sigma, 0.05))
    T sum = 0;
    for (int i = 0; i < D; ++i) {
      adj_dev[i] = adj_dev[i] + adj_n * dev[i] / n;
      sum += adj_dev[i];
    }
    const Vec<T, D> slope = hencky_strain_slope(s.sigma);
    Vec<T, D> adj_sigma;
    Mat<T, D> dd = Mat<T, D>::zero();
    for (int i = 0; i < D; ++i) {
      adj_sigma[i] = (adj_dev[i] + (adj_m - sum) / T(D)) * slope[i];
      for (int j = 0; j < D; ++j)
        if (j != i)
          dd(i, j) = g[j] * expm1_ratio(k, eps[i] - eps[j]) * hencky_strain_dd(s.sigma[i], s.sigma[j]);
    }
    adj_principal_map(s, g, dd, A, adj_sigma, adj_F_trial);
  }

  template <class T>
  static T wave_speed(const T* prm) {
    return p_wave_speed(prm[kDensity], prm[kE], prm[kNu]);
  }
};

}  // namespace ductile
