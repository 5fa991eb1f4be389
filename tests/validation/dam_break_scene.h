// The dam break scene of test_dam_break.cpp: a 2D water column of width a and height 2a released against the
// left wall of a tank; returns the surge front position over time in Martin & Moyce's dimensionless form.
#pragma once

#include <cmath>
#include <vector>

#include "validation/support.h"

namespace ductile::validation {

struct DamBreakSetup {
  double a = 0.05715;       // column width [m] (Martin & Moyce's 2 1/4 in)
  int cells_per_a = 16;     // grid cells per a
  double density = 1000;    // [kg/m^3]
  double sound_speed = 20;  // artificial sound speed [m/s]; bulk modulus = density c^2
  double gamma = 7;         // Tait exponent
  double viscosity = 1e-3;  // water [Pa s]
  double cfl = 0.3;         // c dt / dx
  double t_end = 3.5;       // in units of T = t sqrt(2 g / a)
  Surface walls = Surface::kSlip;
};

struct DamBreakResult {
  std::vector<double> T, Z;  // dimensionless time t sqrt(2 g / a) and front position x / a, every few steps
  int particles = 0, steps = 0;
  double max_speed_over_c = 0;  // largest particle speed / sound speed (weak compressibility check)
  double min_J = 1, max_J = 1;  // volume ratio det F range over the run
};

inline DamBreakResult run_dam_break(const DamBreakSetup& ds) {
  using T = double;
  constexpr int D = 2;
  const double g = 9.81, a = ds.a, dx = a / ds.cells_per_a;
  const double wall = 2 * dx;  // the top node of the 3-cell wall band on the left and at the floor
  Model<T, D> model;
  model.set_grid(Vec<T, D>{{0, 0}}, Vec<T, D>{{wall + 6 * a, wall + 2.5 * a}}, dx);
  model.walls.surface = ds.walls;
  model.gravity = Vec<T, D>{{0, -g}};
  const double bulk = ds.density * ds.sound_speed * ds.sound_speed;
  int mat = add_material(
      model, "fluid",
      {{"density", ds.density}, {"bulk_modulus", bulk}, {"gamma", ds.gamma}, {"viscosity", ds.viscosity}});
  model.dt = ds.cfl * dx / ds.sound_speed;
  Particles<T, D> parts;
  parts.add_box(Vec<T, D>{{wall, wall}}, Vec<T, D>{{wall + a, wall + 2 * a}}, dx, 2, ds.density, mat);
  State<T, D> s = parts.state();
  const double half_spacing = 0.25 * dx;
  const double t_scale = std::sqrt(2 * g / a);

  Simulator<T, D> sim(model, Device::kCpu);
  sim.set_state(s);
  DamBreakResult r;
  r.particles = s.n;
  auto record = [&] {
    double front = coordinate_quantile(s, 0, 1.0) + half_spacing - wall;
    r.T.push_back(sim.time() * t_scale);
    r.Z.push_back(front / a);
    for (int p = 0; p < s.n; ++p) {
      double sp = std::hypot(pv(s, p, 0), pv(s, p, 1));
      r.max_speed_over_c = std::max(r.max_speed_over_c, sp / ds.sound_speed);
      double J = s.F[p] * s.F[size_t(3) * s.n + p] - s.F[size_t(1) * s.n + p] * s.F[size_t(2) * s.n + p];
      r.min_J = std::min(r.min_J, J);
      r.max_J = std::max(r.max_J, J);
    }
  };
  record();
  const int every = 5;
  while (sim.time() * t_scale < ds.t_end) {
    for (int k = 0; k < every; ++k) sim.step();
    r.steps += every;
    sim.get_state(s);
    record();
  }
  return r;
}

// Linear interpolation of the recorded front at dimensionless time t.
inline double front_at(const DamBreakResult& r, double t) {
  for (size_t k = 1; k < r.T.size(); ++k)
    if (r.T[k] >= t) {
      double f = (t - r.T[k - 1]) / (r.T[k] - r.T[k - 1]);
      return r.Z[k - 1] + f * (r.Z[k] - r.Z[k - 1]);
    }
  return r.Z.back();
}

}  // namespace ductile::validation
