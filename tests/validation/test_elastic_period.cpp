// Elastic oscillation period: the first longitudinal mode of a free-free bar.
//
// Reference: the 1D wave equation u_tt = c^2 u_xx with free ends (u_x = 0 at x = 0 and x = L) has the modes
// u = cos(k pi x / L) sin(omega_k t), omega_k = k pi c / L; the first has period T = 2 L / c (Graff, "Wave
// Motion in Elastic Solids", Dover 1991, ch. 2, sec. 2.1-2.3, longitudinal vibrations of a free-free rod).
// With nu = 0 the Lame constant lambda is 0, so uniaxial motion of a bar of any cross-section produces no
// lateral stress and the bar obeys exactly this equation with c = sqrt(E / rho) (the P-wave speed
// sqrt((lambda + 2 mu) / rho) with mu = E / 2). Fixed-corotated elasticity (Stomakhin et al. 2012) in pure
// stretch s gives P = 2 mu (s - 1) = E (s - 1): linear in the stretch, so the period does not depend on the
// amplitude.
//
// Scene: L = 1 m, rho = 1000 kg/m^3, E = 1e5 Pa, so c = 10 m/s and T = 0.2 s; initial velocity
// v_x = A cos(pi x / L) with A = 0.2 m/s (strain amplitude A / c = 2 %), no gravity. The kinetic energy
// varies as cos^2(omega t) and has period T / 2; its minima sit at T/4, 3T/4, 5T/4, ..., and the test takes
// T from the spacing of the first four minima (located by parabolic interpolation).
//
// Tolerance: MPM with quadratic B-splines disperses a mode by O((k dx)^2) (Steffen, Kirby & Berzins 2008,
// "Analysis and reduction of quadrature errors in the material point method", for the B-spline MPM spatial
// error; Jiang et al. 2016 APIC course notes for the transfers). Measured here (2D, double, 2 x 2 particles
// per cell): period errors +0.39 %, +0.10 %, +0.026 % at 16, 32, 64 cells along the bar, i.e. second order
// with error ~ 0.11 (k dx)^2, k = pi / L. The 2D test runs 32 cells and allows 0.5 % (five times the measured
// dispersion, still far below the 41 % a wrong shear modulus factor of 2 would give, or the 5 % of a 10 %
// stiffness error); it also checks the error falls by 3 to 5.5 from 16 to 32 cells (second order). The 3D
// test runs 16 cells (the same one-dimensional motion; nu = 0 decouples the cross-section) and allows 1 %.
// Time sampling: dt = T / 1000, the minima are interpolated to well below a step.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include "validation/support.h"

using namespace ductile;
using namespace ductile::validation;

namespace {

// Measures the period of the first free-free mode of a bar of cells_along cells along x.
template <int D>
double measured_period(int cells_along, int cells_across, double& expected) {
  using T = double;
  const double L = 1.0, rho = 1000, E = 1e5, A = 0.2;
  const double c = std::sqrt(E / rho);
  expected = 2 * L / c;
  const T dx = T(L / cells_along);
  const T dt = T(expected / 1000);  // c dt / dx = 0.064 in 2D: far inside the explicit stability limit
  Model<T, D> model;
  // the bar sits in [0.25, 1.25] x [0.25, 0.25 + width]: at least 8 cells from every wall band
  Vec<T, D> hi = Vec<T, D>::constant(T(0.5) + cells_across * dx);
  hi[0] = 1.5;
  model.set_grid(Vec<T, D>::zero(), hi, dx);
  model.dt = dt;
  model.gravity = Vec<T, D>::zero();
  int mat = add_material(model, "fixed_corotated", {{"density", rho}, {"E", E}, {"nu", 0.0}});
  Particles<T, D> parts;
  Vec<T, D> lo = Vec<T, D>::constant(0.25), top = Vec<T, D>::constant(T(0.25) + cells_across * dx);
  top[0] = T(0.25 + L);
  parts.add_box(lo, top, dx, 2, T(rho), mat);
  State<T, D> s = parts.state();
  for (int p = 0; p < s.n; ++p) pv(s, p, 0) = T(A * std::cos(M_PI * (px(s, p, 0) - 0.25) / L));

  Simulator<T, D> sim(model, Device::kCpu);
  sim.set_state(s);
  // kinetic energy every step over 2.1 periods
  const int steps = int(2.1 * expected / dt);
  std::vector<double> ke(steps + 1);
  ke[0] = kinetic_energy(s);
  for (int n = 1; n <= steps; ++n) {
    sim.step();
    sim.get_state(s);
    ke[n] = kinetic_energy(s);
  }
  // minima of the kinetic energy, refined by a parabola through three samples
  std::vector<double> minima;
  for (int n = 1; n < steps; ++n) {
    if (ke[n] < ke[n - 1] && ke[n] <= ke[n + 1] && ke[n] < 0.2 * ke[0]) {
      double denom = ke[n - 1] - 2 * ke[n] + ke[n + 1];
      double shift = denom > 0 ? 0.5 * (ke[n - 1] - ke[n + 1]) / denom : 0;
      minima.push_back((n + shift) * double(dt));
    }
  }
  REQUIRE(minima.size() >= 4);
  // minima at (2j + 1) T / 4: a least-squares line through them has slope T / 2
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const int m = 4;
  for (int j = 0; j < m; ++j) {
    sx += j, sy += minima[j], sxx += double(j) * j, sxy += j * minima[j];
  }
  double slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  std::printf("validation elastic period %dD: first minima at %.5f %.5f %.5f %.5f s (expected T/4 = %.5f)\n",
              D, minima[0], minima[1], minima[2], minima[3], expected / 4);
  return 2 * slope;
}

}  // namespace

TEST_CASE("validation: free-free bar oscillates with period 2L/c (2D, nu = 0)") {
  Stopwatch clock;
  double expected = 0;
  // 32 cells along the bar, 4 across (2 x 2 particles per cell: 512 particles), and 16 for the order
  double T = measured_period<2>(32, 4, expected);
  double err = T / expected - 1;
  double err_coarse = measured_period<2>(16, 4, expected) / expected - 1;
  std::printf(
      "validation elastic period 2D: T = %.5f s, 2L/c = %.5f s, error %+.3f %% (16 cells: %+.3f %%, ratio "
      "%.2f); "
      "wall %.2f s, cpu %.2f s\n",
      T, expected, 100 * err, 100 * err_coarse, err_coarse / err, clock.seconds(), clock.cpu_seconds());
  CHECK(std::fabs(err) < 0.005);
  CHECK(err_coarse / err > 3.0);
  CHECK(err_coarse / err < 5.5);
}

TEST_CASE("validation: free-free bar oscillates with period 2L/c (3D, nu = 0)") {
  Stopwatch clock;
  double expected = 0;
  // 16 cells along the bar, 2 x 2 across (2 x 2 x 2 particles per cell: 512 particles)
  double T = measured_period<3>(16, 2, expected);
  double err = T / expected - 1;
  std::printf(
      "validation elastic period 3D: T = %.5f s, 2L/c = %.5f s, error %+.3f %%; wall %.2f s, cpu %.2f s\n", T,
      expected, 100 * err, clock.seconds(), clock.cpu_seconds());
  CHECK(std::fabs(err) < 0.01);
}
