// Coulomb friction: an elastic block sliding on a frictional floor stops after v0^2 / (2 mu g).
//
// Reference: a rigid body sliding on a horizontal floor with Coulomb friction decelerates at mu g, so it
// stops after t = v0 / (mu g) having slid d = v0^2 / (2 mu g) (any dynamics text, e.g. Meriam & Kraige,
// "Engineering Mechanics: Dynamics", kinetics of particles with friction). The floor is the domain walls'
// band with the `separate` condition and Coulomb coefficient mu (kernels/grid_update.h: |v_t| <- max(0, |v_t|
// - mu |v_n|) per node, Stomakhin et al. 2013, sec. 8). Over a step the nodes under the block remove its
// normal momentum, g dt per unit mass in equilibrium, and take mu g dt of tangential speed, which is the
// Coulomb impulse.
//
// Scene: 2D, double, dx = 1/32 m, a 0.2 m x 0.1 m block (6.4 x 3.2 cells, 2 x 2 particles per cell), density
// 1000, E = 1e6, nu = 0.3 (rho g h / E = 1e-3: nearly rigid), v0 = 1 m/s; the domain is 0.5 m tall so the
// block stays far from the top wall band. mu = 0.3 at c dt / dx = 0.3 and 0.1 (the friction impulse must not
// depend on the time step) and mu = 0.6. Checked: the distance slid and the time at which the mean velocity
// has halved, v0 / (2 mu g) (the deceleration itself; the very end of the stop lingers in elastic ringing).
// Tolerance 2 % on both: the block's elastic compression and the onset of contact are 0.1 % effects, and the
// printed errors are about 1 %; a friction impulse applied twice per step, or a normal impulse counted at two
// band nodes, would be off by a factor 2.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include "validation/support.h"

using namespace ductile;
using namespace ductile::validation;

namespace {

void check_slide(double mu, double cfl) {
  using T = double;
  constexpr int D = 2;
  Stopwatch clock;
  const double g = 9.81, v0 = 1.0, dx = 1.0 / 32;
  Model<T, D> model;
  model.set_grid(Vec<T, D>{{0, 0}}, Vec<T, D>{{1, 0.5}}, dx);
  model.walls.surface = Surface::kSeparate;
  model.walls.friction = mu;
  model.gravity = Vec<T, D>{{0, -g}};
  int mat = add_material(model, "fixed_corotated", {{"density", 1000}, {"E", 1e6}, {"nu", 0.3}});
  model.dt = cfl * dx / model.materials[mat]->wave_speed();
  // the block rests on the top node of the 3-node wall band (2 dx above the domain floor)
  const double floor_y = 2 * dx;
  Particles<T, D> parts;
  parts.add_box(Vec<T, D>{{0.2, floor_y}}, Vec<T, D>{{0.4, floor_y + 0.1}}, dx, 2, 1000, mat);
  State<T, D> s = parts.state();
  for (int p = 0; p < s.n; ++p) pv(s, p, 0) = v0;
  const std::vector<double> c0 = centre_of_mass(s);
  Simulator<T, D> sim(model, Device::kCpu);
  sim.set_state(s);
  const double t_stop = v0 / (mu * g), d_stop = v0 * v0 / (2 * mu * g);
  // the time at which the mean velocity has halved (v0 / (2 mu g)), interpolated between steps
  double t_half = -1, u_prev = v0, t_prev = 0;
  while (sim.time() < 1.5 * t_stop) {
    sim.step();
    sim.get_state(s);
    const double u = momentum(s)[0] / total_mass(s);
    if (t_half < 0 && u < 0.5 * v0)
      t_half = t_prev + (sim.time() - t_prev) * (u_prev - 0.5 * v0) / (u_prev - u);
    u_prev = u, t_prev = sim.time();
  }
  const double d = centre_of_mass(s)[0] - c0[0];
  std::printf(
      "validation Coulomb slide mu = %.1f, c dt/dx = %.1f: distance %.4f m (v0^2/(2 mu g) = %.4f, %+.2f %%), "
      "half speed at %.4f s (v0/(2 mu g) = %.4f s, %+.2f %%); %ld steps; wall %.2f s, cpu %.2f s\n",
      mu, cfl, d, d_stop, 100 * (d / d_stop - 1), t_half, 0.5 * t_stop, 100 * (t_half / (0.5 * t_stop) - 1),
      long(sim.steps()), clock.seconds(), clock.cpu_seconds());
  CHECK(std::fabs(d / d_stop - 1) < 0.02);
  CHECK(std::fabs(t_half / (0.5 * t_stop) - 1) < 0.02);
}

}  // namespace

TEST_CASE("validation: block sliding on a Coulomb floor stops after v0^2/(2 mu g) (2D, double)") {
  check_slide(0.3, 0.3);
  check_slide(0.3, 0.1);
  check_slide(0.6, 0.3);
}
