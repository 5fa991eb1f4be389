// Conservation of mass, linear momentum and angular momentum over full MLS-MPM steps without gravity or
// walls.
//
// Reference: APIC transfers conserve linear and angular momentum exactly (Jiang et al. 2015, "The affine
// particle-in-cell method", sec. 5.3 and appendix, with D_p = dx^2 / 4 I for quadratic B-splines), and so
// does MLS-MPM's force (Hu et al. 2018, sec. 4 and eq. 29: the stress enters through the affine matrix, and a
// symmetric Kirchhoff stress adds no torque). With sum_i w_ip = 1, sum_i w_ip (x_i - x_p) = 0 and
// sum_i w_ip (x_i - x_p)(x_i - x_p)^T = dx^2 / 4 I, the particle quantities
//   P = sum_p m_p v_p,   L = sum_p m_p (x_p x v_p + dx^2 / 4 eps : C_p^T)
// equal the grid's sum_i m_i v_i and sum_i x_i x m_i v_i after P2G and again after G2P and the advection
// x_p += dt v_p (x x v is unchanged by it). Mass is per particle and never changes.
// Tolerance: every identity is exact; in double the sums of ~1000 terms of size |m v| ~ 1e-2 lose about
// 1e-13 relative per step, so 1e-11 relative to sum_p m_p |v_p| (angular: sum_p m_p |x_p| |v_p|) after 20
// steps leaves room for round-off while any O(dt) leak (a lost term, a non-symmetric stress) is orders
// larger.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "validation/support.h"

using namespace ductile;
using namespace ductile::validation;

namespace {

// 2D angular momentum including the APIC affine part.
double angular_momentum(const State<double, 2>& s, double dx) {
  double L = 0;
  for (int p = 0; p < s.n; ++p) {
    double cxy = s.C[size_t(1) * s.n + p], cyx = s.C[size_t(2) * s.n + p];
    L += s.mass[p] * (px(s, p, 0) * pv(s, p, 1) - px(s, p, 1) * pv(s, p, 0) + dx * dx / 4 * (cyx - cxy));
  }
  return L;
}

void check_conservation(const std::string& model_name) {
  using T = double;
  constexpr int D = 2;
  Stopwatch clock;
  const T dx = T(1) / 32;
  Model<T, D> model;
  model.set_grid(Vec<T, D>::zero(), Vec<T, D>::constant(1), dx);
  model.dt = 1e-4;
  model.gravity = Vec<T, D>::zero();
  // defaults for every model, density 1000 and a stiffness for which dt is stable
  const auto& specs = MaterialRegistry::instance().get(model_name).specs();
  std::vector<std::pair<std::string, double>> prm;
  for (const auto& sp : specs)
    if (std::string(sp.name) == "density") prm.push_back({"density", 1000});
  int mat = add_material(model, model_name, prm);
  // a 0.25 m block in the middle (8 cells from the wall bands), 2 x 2 particles per cell, with random
  // velocities, affine fields and deformation gradients, so that every term of the transfer is exercised
  Particles<T, D> parts;
  parts.add_box(Vec<T, D>::constant(0.375), Vec<T, D>::constant(0.625), dx, 2, 1000, mat);
  State<T, D> s = parts.state();
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);
  for (int p = 0; p < s.n; ++p) {
    for (int d = 0; d < D; ++d) pv(s, p, d) = 0.1 * u(rng);
    for (int k = 0; k < D * D; ++k) {
      s.C[size_t(k) * s.n + p] = 2.0 * u(rng);
      s.F[size_t(k) * s.n + p] += 0.05 * u(rng);
    }
  }
  const double m0 = total_mass(s);
  const std::vector<double> p0 = momentum(s);
  const double l0 = angular_momentum(s, dx);
  double pscale = 0, lscale = 0;
  for (int p = 0; p < s.n; ++p) {
    double speed = std::hypot(pv(s, p, 0), pv(s, p, 1));
    pscale += s.mass[p] * speed;
    lscale += s.mass[p] * std::hypot(px(s, p, 0), px(s, p, 1)) * speed;
  }

  Simulator<T, D> sim(model, Device::kCpu);
  sim.set_state(s);
  const int steps = 20;
  double worst_p = 0, worst_l = 0;
  for (int n = 0; n < steps; ++n) {
    sim.step();
    sim.get_state(s);
    CHECK(total_mass(s) == m0);
    std::vector<double> p1 = momentum(s);
    for (int d = 0; d < D; ++d) worst_p = std::max(worst_p, std::fabs(p1[d] - p0[d]) / pscale);
    worst_l = std::max(worst_l, std::fabs(angular_momentum(s, dx) - l0) / lscale);
  }
  CHECK(worst_p < 1e-11);
  CHECK(worst_l < 1e-11);
  std::printf(
      "validation full-step conservation (%s): %d particles, %d steps; relative drift of momentum %.2e, "
      "angular "
      "momentum %.2e; wall %.2f s, cpu %.2f s\n",
      model_name.c_str(), s.n, steps, worst_p, worst_l, clock.seconds(), clock.cpu_seconds());
}

}  // namespace

TEST_CASE("validation: full steps conserve mass, momentum and angular momentum (2D, double)") {
  for (const char* name : {"fixed_corotated", "neo_hookean", "von_mises", "drucker_prager", "snow", "fluid",
                           "herschel_bulkley"}) {
    if (!has_material(name)) continue;
    INFO("model ", name);
    check_conservation(name);
  }
}
