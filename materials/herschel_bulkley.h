// Elasto-viscoplastic Herschel-Bulkley fluid (toothpaste, mayonnaise, foam; honey with no yield stress and
// flow_index 1), after Yue et al. 2015, "Continuum foam: a material point method for shear-dependent flows",
// sec. 4: a hyperelastic solid whose deviatoric stress relaxes by a Herschel-Bulkley flow rule, integrated
// with the finite-strain radial return on the elastic left Cauchy-Green tensor b_e = F_E F_E^T (Simo & Hughes
// 1998, "Computational inelasticity", ch. 9).
//
// Elasticity (compressible neo-Hookean on the volume-preserving part bbar = J^(-2/D) b_e, J = det F_E):
//   psi = kappa/2 ((J^2 - 1)/2 - log J) + mu/2 (tr bbar - D),
//   tau = kappa/2 (J^2 - 1) I + mu dev(bbar),        kappa = lambda + 2 mu / D (so it linearises to E, nu).
// Flow rule. With s = dev tau = mu dev(bbar) and the equivalent shear stress x = ||s|| / sqrt(2) (the shear
// stress of a simple shear; the convention of rheometry, so yield_stress, consistency and flow_index are the
// values fitted to a flow curve x = tau_y + K gdot^n):
//   x <= tau_y: no flow;  otherwise the plastic shear rate is gdot_p = ((x - tau_y) / K)^(1/n) along s/||s||.
// Return mapping over dt (backward Euler on the deviatoric stress, direction fixed by the trial):
//   x = x_tr - mubar dt ((x - tau_y) / K)^(1/n),   mubar = mu tr(bbar_tr) / D,
// solved for y = x - tau_y in [0, x_tr - tau_y] by Newton from an upper bound on the convex form of the
// equation (in y for n <= 1, in gdot_p for n > 1), which decreases monotonically to the root; a fixed number
// of iterations (kNewtonIterations), so the map is deterministic. In steady simple shear at rate gdot this
// gives x = tau_y + K gdot^n (mubar ~ mu). K = 0 is rate-independent von Mises plasticity (x = tau_y).
// The new bbar keeps the trial eigenvectors: dev(bbar) is scaled by x / x_tr and its mean is chosen so that
// det bbar = 1 (plastic flow is isochoric: J is unchanged); F_E <- U diag(J^(1/D) sqrt(bbar_i)) V^T.
// `plastic` is unused (stays 1).
#pragma once

#include <cmath>
#include <vector>

#include "materials/elastic_params.h"
#include "materials/hencky.h"

namespace ductile {

struct HerschelBulkley {
  static constexpr const char* kName = "herschel_bulkley";
  enum { kDensity = 0, kE = 1, kNu = 2, kYield = 3, kConsistency = 4, kFlowIndex = 5 };
  static constexpr int kNewtonIterations = 24;
  static const std::vector<ParamSpec>& specs() {
    static const std::vector<ParamSpec> s = {
        density_spec(),
        youngs_spec(3e4),
        poisson_spec(0.3),
        {"yield_stress", "Pa", 100, 0, 1e30, false, false,
         "tau_y: shear yield stress; flows when ||dev tau||_F / sqrt(2) > tau_y"},
        {"consistency", "Pa s^n", 50, 0, 1e30, false, false,
         "K: flow stress above yield is K (shear rate)^n"},
        {"flow_index", "1", 0.4, 0.1, 4, false, false,
         "n: < 1 shear-thinning, 1 Bingham, > 1 shear-thickening"}};
    return s;
  }

  // Shear modulus mu and bulk modulus kappa = lambda + 2 mu / D.
  template <class T, int D>
  DUCTILE_HD static void moduli(const T* prm, T& mu, T& kappa) {
    T lambda;
    lame(prm[kE], prm[kNu], mu, lambda);
    kappa = lambda + T(2) * mu / T(D);
  }

  // Elastic strain energy density per unit reference volume.
  template <class T, int D>
  DUCTILE_HD static T energy(const T* prm, const Mat<T, D>& F, T = T(1)) {
    T mu, kappa;
    moduli<T, D>(prm, mu, kappa);
    const T J = det(F);
    const T tr_bbar = std::pow(J, T(-2) / T(D)) * ddot(F, F);
    return T(0.5) * kappa * (T(0.5) * (J * J - T(1)) - std::log(J)) + T(0.5) * mu * (tr_bbar - T(D));
  }

  template <class T, int D>
  DUCTILE_HD static Mat<T, D> stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>&, T) {
    T mu, kappa;
    moduli<T, D>(prm, mu, kappa);
    const T J = det(F);
    Mat<T, D> bbar = std::pow(J, T(-2) / T(D)) * (F * transpose(F));
    const T mean = trace(bbar) / T(D);
    return mu * bbar + (T(0.5) * kappa * (J * J - T(1)) - mu * mean) * Mat<T, D>::identity();
  }

  // Adjoint of stress: tau = mu dev(bbar) + kappa/2 (J^2 - 1) I with bbar = J^(-2/D) F F^T;
  // kappa = lambda + 2 mu / D.
  template <class T, int D>
  DUCTILE_HD static void adj_stress(const T* prm, const Mat<T, D>& F, const Mat<T, D>&, T,
                                    const Mat<T, D>& adj_tau, Mat<T, D>& adj_F, Mat<T, D>&, T&, T* adj_prm) {
    T mu, kappa;
    moduli<T, D>(prm, mu, kappa);
    const T J = det(F), j = std::pow(J, T(-2) / T(D)), trA = trace(adj_tau);
    const Mat<T, D> FFt = F * transpose(F), I = Mat<T, D>::identity();
    const Mat<T, D> adj_bbar = mu * (adj_tau - (trA / T(D)) * I);  // mu dev(adj_tau)
    adj_F = adj_F + j * ((adj_bbar + transpose(adj_bbar)) * F);
    const T adj_j = ddot(adj_bbar, FFt);
    adj_det(F, trA * kappa * J + adj_j * (T(-2) / T(D)) * j / J, adj_F);
    const T adj_mu = j * ddot(adj_tau - (trA / T(D)) * I, FFt), adj_kappa = trA * T(0.5) * (J * J - T(1));
    adj_lame(prm[kE], prm[kNu], adj_prm[kE], adj_prm[kNu], adj_mu + T(2) / T(D) * adj_kappa, adj_kappa);
  }

  // Solves y + a (y/K)^(1/n) = y_tr for y in [0, y_tr] (y = x - tau_y, a = mubar dt).
  template <class T>
  DUCTILE_HD static T solve_flow(T y_tr, T a, T K, T n) {
    if (!(a > T(0))) return y_tr;
    if (!(K > T(0))) return T(0);
    if (n <= T(1)) {
      // g(y) = y + a (y/K)^(1/n) - y_tr: convex and increasing; both terms bound y from above.
      T y = std::fmin(y_tr, K * std::pow(y_tr / a, n));
      for (int it = 0; it < kNewtonIterations; ++it) {
        if (!(y > T(0))) break;
        const T r = std::pow(y / K, T(1) / n);
        y -= (y + a * r - y_tr) / (T(1) + a * r / (n * y));
        y = y > T(0) ? y : T(0);
      }
      return y;
    }
    // h(z) = K z^n + a z - y_tr in the plastic shear rate z: convex and increasing for n > 1.
    T z = std::fmin(y_tr / a, std::pow(y_tr / K, T(1) / n));
    for (int it = 0; it < kNewtonIterations; ++it) {
      if (!(z > T(0))) break;
      const T kz = K * std::pow(z, n);
      z -= (kz + a * z - y_tr) / (n * kz / z + a);
      z = z > T(0) ? z : T(0);
    }
    return K * std::pow(z, n);  // not y_tr - a z, which cancels when the viscous term dominates
  }

  // Viscoplastic return mapping on the principal values of bbar; F unchanged below the yield stress.
  template <class T, int D>
  DUCTILE_HD static void project(const T* prm, T dt, Mat<T, D>& F, T&) {
    T mu, kappa;
    moduli<T, D>(prm, mu, kappa);
    Svd<T, D> s = svd(F);
    T J = 1;
    for (int d = 0; d < D; ++d) J *= s.sigma[d];
    if (!(J > T(0))) return;
    // Trial state: principal bbar, its mean and deviator, and the equivalent shear stress.
    const T jm = std::pow(J, T(-2) / T(D));
    Vec<T, D> bbar;
    for (int d = 0; d < D; ++d) bbar[d] = jm * s.sigma[d] * s.sigma[d];
    const T mean = principal_trace(bbar) / T(D);
    const Vec<T, D> dev = principal_deviator(bbar);
    const T x_tr = mu * norm(dev) * T(0.70710678118654752440);
    const T y_tr = x_tr - prm[kYield];
    if (!(y_tr > T(0))) return;
    // New equivalent shear stress from the flow rule, as a scale on the deviator.
    const T y = solve_flow(y_tr, mu * mean * dt, prm[kConsistency], prm[kFlowIndex]);
    const T scale = (prm[kYield] + y) / x_tr;
    // Mean m with prod(scale dev_i + m) = 1 (convex in m, and >= 1 at m = mean: monotone Newton).
    T m = mean;
    for (int it = 0; it < 8; ++it) {
      T f = 1, df = 0;
      for (int d = 0; d < D; ++d) {
        const T c = scale * dev[d] + m;
        df = df * c + f;
        f *= c;
      }
      m -= (f - T(1)) / df;
    }
    const T jd = std::pow(J, T(1) / T(D));
    Vec<T, D> sigma;
    for (int d = 0; d < D; ++d) sigma[d] = jd * std::sqrt(scale * dev[d] + m);
    F = compose(s.U, sigma, s.V);
  }

  // Adjoint of project, piecewise: below the yield stress (or J <= 0) the identity; in flow, every step of
  // the return mapping is differentiated, the two Newton solves through the implicit function theorem at
  // their (converged) roots:
  //   y + a (y/K)^(1/n) = y_tr:  dy = (dy_tr - r da + a r/(n K) dK + a r log(y/K)/n^2 dn) / (1 + a r/(n y)),
  //                              r = (y/K)^(1/n);
  //   prod(c_d) = 1, c_d = scale dev_d + m:  dm = -sum_d (dev_d dscale + scale ddev_d)/c_d / sum_d 1/c_d.
  // g_i - g_j = J^(1/D) (c_i - c_j)/(sqrt(c_i) + sqrt(c_j)) and c_i - c_j = scale J^(-2/D) (sigma_i^2 -
  // sigma_j^2) give the divided differences without dividing by sigma_i - sigma_j.
  template <class T, int D>
  DUCTILE_HD static void adj_project(const T* prm, T dt, const Mat<T, D>& F_trial, T,
                                     const Mat<T, D>& adj_F_out, T adj_plastic_out, Mat<T, D>& adj_F_trial,
                                     T& adj_plastic_in, T* adj_prm) {
    adj_plastic_in += adj_plastic_out;  // plastic is unused and passes through
    T mu, kappa;
    moduli<T, D>(prm, mu, kappa);
    const T kInvSqrt2 = T(0.70710678118654752440), tau_y = prm[kYield];
    const Svd<T, D> s = svd(F_trial);
    T J = 1;
    for (int d = 0; d < D; ++d) J *= s.sigma[d];
    T x_tr = 0, nd = 0, mean = 0, jm = 0;
    Vec<T, D> b, dev;
    if (J > T(0)) {
      jm = std::pow(J, T(-2) / T(D));
      for (int d = 0; d < D; ++d) b[d] = jm * s.sigma[d] * s.sigma[d];
      mean = principal_trace(b) / T(D);
      dev = principal_deviator(b);
      nd = norm(dev);
      x_tr = mu * nd * kInvSqrt2;
    }
    const T y_tr = x_tr - tau_y;
    if (!(J > T(0)) || !(y_tr > T(0))) {  // no flow: identity
      adj_F_trial = adj_F_trial + adj_F_out;
      return;
    }
    // forward: flow rule, scale of the deviator, mean m with det bbar = 1, new singular values
    const T a = mu * mean * dt, K = prm[kConsistency], n = prm[kFlowIndex];
    const T y = solve_flow(y_tr, a, K, n), scale = (tau_y + y) / x_tr;
    T m = mean;
    for (int it = 0; it < 8; ++it) {
      T f = 1, df = 0;
      for (int d = 0; d < D; ++d) {
        const T c = scale * dev[d] + m;
        df = df * c + f;
        f *= c;
      }
      m -= (f - T(1)) / df;
    }
    const T jd = std::pow(J, T(1) / T(D));
    Vec<T, D> c, rc, g;
    for (int d = 0; d < D; ++d) {
      c[d] = scale * dev[d] + m;
      rc[d] = std::sqrt(c[d]);
      g[d] = jd * rc[d];
    }
    const Mat<T, D> A = principal_frame(s, adj_F_out);
    // g_d = jd sqrt(c_d), c_d = scale dev_d + m(scale, dev)
    Vec<T, D> adj_c, adj_dev;
    T adj_jd = 0, adj_m = 0, W = 0, Wdev = 0;
    for (int d = 0; d < D; ++d) {
      adj_c[d] = A(d, d) * jd / (T(2) * rc[d]);
      adj_jd += A(d, d) * rc[d];
      adj_m += adj_c[d];
      W += T(1) / c[d];
      Wdev += dev[d] / c[d];
    }
    T adj_scale = -adj_m * Wdev / W;
    for (int d = 0; d < D; ++d) {
      adj_scale += adj_c[d] * dev[d];
      adj_dev[d] = adj_c[d] * scale - adj_m * scale / (c[d] * W);
    }
    // scale = (tau_y + y) / x_tr
    const T adj_y = adj_scale / x_tr;
    T adj_tau_y = adj_scale / x_tr, adj_x_tr = -adj_scale * scale / x_tr;
    // y = y(y_tr, a, K, n) by the implicit function theorem
    T adj_y_tr = 0, adj_a = 0;
    if (!(a > T(0))) {
      adj_y_tr = adj_y;
    } else if (K > T(0) && y > T(0)) {
      const T r = std::pow(y / K, T(1) / n), ay = adj_y / (T(1) + a * r / (n * y));
      adj_y_tr = ay;
      adj_a = -ay * r;
      adj_prm[kConsistency] += ay * a * r / (n * K);
      adj_prm[kFlowIndex] += ay * a * r * std::log(y / K) / (n * n);
    }
    // y_tr = x_tr - tau_y, a = mu mean dt, x_tr = mu |dev| / sqrt(2)
    adj_x_tr += adj_y_tr;
    adj_tau_y -= adj_y_tr;
    adj_prm[kYield] += adj_tau_y;
    adj_lame(prm[kE], prm[kNu], adj_prm[kE], adj_prm[kNu], adj_a * mean * dt + adj_x_tr * nd * kInvSqrt2,
             T(0));
    const T adj_mean = adj_a * mu * dt, adj_nd = adj_x_tr * mu * kInvSqrt2;
    // dev = b - mean(b), b_d = J^(-2/D) sigma_d^2, jd = J^(1/D), J = prod(sigma)
    T sum = 0;
    for (int d = 0; d < D; ++d) {
      adj_dev[d] = adj_dev[d] + adj_nd * dev[d] / nd;
      sum += adj_dev[d];
    }
    Vec<T, D> adj_b;
    T adj_jm = 0;
    for (int d = 0; d < D; ++d) {
      adj_b[d] = adj_dev[d] + (adj_mean - sum) / T(D);
      adj_jm += adj_b[d] * s.sigma[d] * s.sigma[d];
    }
    const T adj_J = adj_jm * (T(-2) / T(D)) * jm / J + adj_jd * jd / (T(D) * J);
    Vec<T, D> adj_sigma;
    Mat<T, D> dd = Mat<T, D>::zero();
    for (int d = 0; d < D; ++d) {
      T others = 1;
      for (int e = 0; e < D; ++e)
        if (e != d) {
          others *= s.sigma[e];
          dd(d, e) = jd * scale * jm * (s.sigma[d] + s.sigma[e]) / (rc[d] + rc[e]);
        }
      adj_sigma[d] = adj_b[d] * jm * T(2) * s.sigma[d] + adj_J * others;
    }
    adj_principal_map(s, g, dd, A, adj_sigma, adj_F_trial);
  }

  template <class T>
  static T wave_speed(const T* prm) {
    return p_wave_speed(prm[kDensity], prm[kE], prm[kNu]);
  }
};

}  // namespace ductile
