// The granular column collapse scene of test_column_collapse.cpp: a symmetric 2D column of Drucker-Prager
// sand released on a floor, run until it stops; returns the run-out and the deposit height.
#pragma once

#include <cmath>
#include <cstdio>

#include "validation/support.h"

namespace ductile::validation {

struct CollapseSetup {
  double aspect = 0.5;         // a = H0 / L0
  int cells_per_l0 = 16;       // grid cells per half-width L0
  double l0 = 0.1;             // half-width [m]
  double density = 2000;       // bulk density [kg/m^3]
  double youngs = 1e6;         // E [Pa]
  double poisson = 0.3;        // nu
  double friction_angle = 30;  // phi [deg]
  double volume_correction = 0;
  Surface floor = Surface::kSticky;
  double floor_friction = 0;
  double cfl = 0.1;             // c dt / dx with c the P-wave speed (0.1: the run-out is converged in dt)
  double stop_fraction = 1e-3;  // stop when the kinetic energy falls below this fraction of its peak
  double max_time_scale = 25;   // give up after this many sqrt(H0 / g)
};

struct CollapseResult {
  double runout_max = 0;   // (L_inf - L0) / L0 from the farthest particle edge
  double runout_q995 = 0;  // the same from the 99.5th percentile of |x - centre| (drops stray particles)
  double height = 0;       // H_inf / L0 from the highest particle edge
  double time = 0;         // simulated seconds until the stop criterion [s]
  double peak_ke = 0, final_ke = 0;
  int steps = 0, particles = 0;
  bool stopped = false;
  std::vector<double> x, y;  // final particle positions from the centre line and the floor, in L0
};

inline CollapseResult run_collapse(const CollapseSetup& cs) {
  using T = double;
  constexpr int D = 2;
  const double g = 9.81;
  const double dx = cs.l0 / cs.cells_per_l0;
  const double h0 = cs.aspect * cs.l0;
  // domain: the column in the middle of a floor long enough for the run-out (Lube's power law at this a, plus
  // a margin of 2 L0 and the wall band), and 8 cells above the column (clear of the top wall band)
  const double reach =
      cs.l0 * (1 + 2.5 * (cs.aspect < 1.8 ? 1.2 * cs.aspect : 1.9 * std::pow(cs.aspect, 2.0 / 3)) + 2);
  const double band = 3 * dx;  // the wall band's nodes (walls.cells = 3) hold the floor
  Model<T, D> model;
  Vec<T, D> lo{{0, 0}}, hi{{2 * (reach + band), band + h0 + 8 * dx}};
  model.set_grid(lo, hi, dx);
  model.walls.surface = cs.floor;
  model.walls.friction = cs.floor_friction;
  model.gravity = Vec<T, D>{{0, -g}};
  int mat = add_material(model, "drucker_prager",
                         {{"density", cs.density},
                          {"E", cs.youngs},
                          {"nu", cs.poisson},
                          {"friction_angle", cs.friction_angle},
                          {"cohesion", 0},
                          {"volume_correction", cs.volume_correction}});
  const double c = model.materials[mat]->wave_speed();
  model.dt = cs.cfl * dx / c;
  const double centre = 0.5 * hi[0];
  // the column rests on the top node of the wall band (y = 2 dx above the domain floor)
  const double floor_y = 2 * dx;
  Particles<T, D> parts;
  parts.add_box(Vec<T, D>{{centre - cs.l0, floor_y}}, Vec<T, D>{{centre + cs.l0, floor_y + h0}}, dx, 2,
                cs.density, mat);
  State<T, D> s = parts.state();
  const double half_spacing = 0.25 * dx;

  Simulator<T, D> sim(model, Device::kCpu);
  sim.set_state(s);
  CollapseResult r;
  r.particles = s.n;
  const double t_scale = std::sqrt(h0 / g);
  const int check_every = 20;
  for (;;) {
    for (int k = 0; k < check_every; ++k) sim.step();
    r.steps += check_every;
    sim.get_state(s);
    double ke = kinetic_energy(s);
    r.peak_ke = std::max(r.peak_ke, ke);
    r.final_ke = ke;
    r.time = sim.time();
    // stop once the kinetic energy has peaked and fallen below the fraction (not before one t_scale)
    if (r.time > t_scale && ke < cs.stop_fraction * r.peak_ke) {
      r.stopped = true;
      break;
    }
    if (r.time > cs.max_time_scale * t_scale) break;
  }
  // run-out per side from the centre, averaged over both sides
  std::vector<double> left, right;
  double top = 0;
  for (int p = 0; p < s.n; ++p) {
    double x = px(s, p, 0) - centre;
    (x < 0 ? left : right).push_back(std::fabs(x));
    r.x.push_back(x / cs.l0);
    r.y.push_back((px(s, p, 1) - floor_y) / cs.l0);
    top = std::max(top, px(s, p, 1) - floor_y + half_spacing);
  }
  auto extent = [&](std::vector<double>& v, double q) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(q * double(v.size() - 1) + 0.5))] + half_spacing;
  };
  double lmax = 0.5 * (extent(left, 1.0) + extent(right, 1.0));
  double lq = 0.5 * (extent(left, 0.995) + extent(right, 0.995));
  r.runout_max = (lmax - cs.l0) / cs.l0;
  r.runout_q995 = (lq - cs.l0) / cs.l0;
  r.height = top / cs.l0;
  return r;
}

}  // namespace ductile::validation
