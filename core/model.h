// The model: every constant of a simulation (grid, time step, gravity, materials, colliders, walls).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/collider.h"
#include "core/grid.h"
#include "kernels/grid_update.h"
#include "materials/material.h"

namespace ductile {

// What happens to a particle that leaves the domain (scene key domain.boundary.policy): the run stops with an
// error, the particle is put back on the domain's face, or it is removed from the simulation.
enum class BoundaryPolicy { kError, kClamp, kDelete };

template <class T, int D>
struct Model {
  Vec<T, D> domain_min, domain_max;  // particles must stay inside [m]
  GridSpec<T, D> grid;               // the domain plus padding nodes
  WallData<T, D> walls;
  BoundaryPolicy boundary_policy = BoundaryPolicy::kError;
  T dt = 0;  // time step [s]
  int steps_per_frame = 1;
  int frames = 1;
  Vec<T, D> gravity;  // [m/s^2]
  std::vector<std::string> material_names;
  std::vector<std::unique_ptr<Material<T, D>>> materials;
  std::vector<Collider<T, D>> colliders;

  // Sets the grid from the domain and spacing, with `pad` extra nodes beyond each face.
  void set_grid(const Vec<T, D>& lo, const Vec<T, D>& hi, T dx, int pad = 2) {
    domain_min = lo;
    domain_max = hi;
    grid.dx = dx;
    grid.inv_dx = T(1) / dx;
    for (int d = 0; d < D; ++d) {
      int cells = int(std::ceil(double(hi[d] - lo[d]) / double(dx) - 1e-6));
      grid.origin[d] = lo[d] - T(pad) * dx;
      grid.res[d] = cells + 1 + 2 * pad;
      walls.lo[d] = pad;
      walls.hi[d] = pad + cells;
    }
  }
};

}  // namespace ductile
