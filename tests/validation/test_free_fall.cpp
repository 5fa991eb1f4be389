// Free fall: an elastic block far from every wall under gravity moves as a rigid body.
//
// Reference: Newton's second law with constant g, integrated by the simulator's scheme. The grid update adds
// dt g to every node velocity; a uniform particle velocity with C = 0 reaches the grid unchanged (the
// B-spline weights sum to one) and comes back with C = 0 (sum_i w_ip (x_i - x_p) = 0 for quadratic B-splines,
// Jiang et al. 2016, course notes eq. 123 and the MLS-MPM of Hu et al. 2018, eq. 17/28), so each step is
// symplectic Euler:
//   v_n = v0 + n dt g,  x_n = x0 + n dt v0 + dt^2 g n (n + 1) / 2.
// This discrete solution is exact up to round-off; against the continuous x0 + v0 t + g t^2 / 2 it differs by
// exactly g dt t / 2 (first order in dt), which the test checks as the O(dt) bound. With C = 0, F stays I.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include "validation/support.h"

using namespace ductile;
using namespace ductile::validation;

namespace {

template <int D>
void run_free_fall() {
  using T = double;
  Stopwatch clock;
  // 2D: a 0.25 m block of 16 x 16 cells at dx = 1/64 m (2 particles per axis per cell, 1024 particles); 3D: a
  // 0.25 m cube at dx = 1/32 (8 x 8 x 8 cells, 4096 particles). The resolution does not enter the reference.
  const T dx = D == 2 ? T(1) / 64 : T(1) / 32;
  const T dt = 1e-3;
  const int steps = 300;
  Model<T, D> model;
  model.set_grid(Vec<T, D>::zero(), Vec<T, D>::constant(1), dx);
  model.dt = dt;
  model.gravity = Vec<T, D>::zero();
  model.gravity[D - 1] = -9.81;
  int mat = add_material(model, "fixed_corotated", {{"density", 1000}, {"E", 1e5}, {"nu", 0.3}});

  Particles<T, D> parts;
  Vec<T, D> lo = Vec<T, D>::constant(0.375), hi = Vec<T, D>::constant(0.625);
  lo[D - 1] = 0.55, hi[D - 1] = 0.8;
  parts.add_box(lo, hi, dx, 2, 1000, mat);
  State<T, D> s = parts.state();
  // initial velocity: sideways and upwards; over 0.3 s the block rises 0.05 m, then ends 0.09 m sideways and
  // 0.14 m down, so it stays more than 0.1 m (over 3 cells) from the wall bands
  Vec<T, D> v0 = Vec<T, D>::zero();
  v0[0] = 0.3;
  v0[D - 1] = 1.0;
  for (int p = 0; p < s.n; ++p)
    for (int d = 0; d < D; ++d) pv(s, p, d) = v0[d];
  const State<T, D> s0 = s;
  const std::vector<double> c0 = centre_of_mass(s0);

  Simulator<T, D> sim(model, Device::kCpu);
  sim.set_state(s);
  for (int n = 0; n < steps; ++n) sim.step();
  sim.get_state(s);

  const double t = steps * dt;
  const double nn = steps;
  const std::vector<double> c = centre_of_mass(s);
  double worst_discrete = 0, worst_particle = 0, worst_F = 0, worst_v = 0;
  for (int d = 0; d < D; ++d) {
    // symplectic Euler, exact to round-off: positions are O(1) m, so 1e-12 m is a few thousand ulps after 300
    // steps of accumulation
    const double discrete = c0[d] + nn * dt * v0[d] + dt * dt * model.gravity[d] * nn * (nn + 1) / 2;
    const double continuous = c0[d] + v0[d] * t + 0.5 * model.gravity[d] * t * t;
    worst_discrete = std::max(worst_discrete, std::fabs(c[d] - discrete));
    CHECK(std::fabs(c[d] - discrete) <= 1e-12);
    // the continuous solution: the scheme's error is exactly g dt t / 2, O(dt)
    const double bound = 0.5 * std::fabs(model.gravity[d]) * dt * t;
    CHECK(std::fabs(c[d] - continuous) <= bound + 1e-12);
    CHECK(std::fabs(c[d] - continuous - 0.5 * model.gravity[d] * dt * t) <= 1e-12);
  }
  // every particle moved with the block, F stayed I and the velocity is v0 + n dt g
  for (int p = 0; p < s.n; ++p) {
    for (int d = 0; d < D; ++d) {
      const double expect = px(s0, p, d) + nn * dt * v0[d] + dt * dt * model.gravity[d] * nn * (nn + 1) / 2;
      worst_particle = std::max(worst_particle, std::fabs(px(s, p, d) - expect));
      worst_v = std::max(worst_v, std::fabs(pv(s, p, d) - (v0[d] + nn * dt * model.gravity[d])));
      for (int e = 0; e < D; ++e)
        worst_F = std::max(worst_F, std::fabs(s.F[size_t(d * D + e) * s.n + p] - (d == e ? 1.0 : 0.0)));
    }
  }
  CHECK(worst_particle <= 1e-12);
  CHECK(worst_v <= 1e-11);
  CHECK(worst_F <= 1e-12);
  std::printf(
      "validation free fall %dD: %d particles, %d steps; |com - discrete| = %.2e m, worst particle %.2e m, "
      "|v - v_n| %.2e m/s, |F - I| %.2e; continuous offset g dt t / 2 = %.4e m; wall %.2f s, cpu %.2f s\n",
      D, s.n, steps, worst_discrete, worst_particle, worst_v, worst_F, 0.5 * 9.81 * dt * t, clock.seconds(),
      clock.cpu_seconds());
}

}  // namespace

TEST_CASE("validation: free fall follows symplectic Euler to round-off (2D, double)") {
  run_free_fall<2>();
}

TEST_CASE("validation: free fall follows symplectic Euler to round-off (3D, double)") {
  run_free_fall<3>();
}
