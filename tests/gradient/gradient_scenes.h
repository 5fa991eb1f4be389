// The scenes and losses the gradient tests share: 2D jelly and sand around a moving sphere and a tilted
// sticky floor, and 3D jelly and plasticine on a sliding box; losses at several steps.
#pragma once

#include <memory>
#include <vector>

#include "core/loss.h"
#include "core/state.h"

namespace ductile::test {

// Jelly and sand fall onto a moving sphere with friction and a tilted sticky floor, inside slip walls with
// friction (the tests choose how many steps to run).
inline const char* kJellySand2D = R"({
  "format": 1, "dimension": 2,
  "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.03125, "boundary": {"surface": "slip", "friction": 0.2}},
  "time": {"dt": 1e-3, "frame_dt": 0.01, "frames": 6},
  "gravity": [0, -9.81],
  "materials": [{"name": "jelly", "model": "fixed_corotated", "density": 1000, "E": 5e3, "nu": 0.3},
                {"name": "sand", "model": "drucker_prager", "density": 1500, "E": 2e4, "nu": 0.25,
                 "friction_angle": 30}],
  "objects": [{"name": "jelly", "material": "jelly", "velocity": [0.5, -2],
               "shape": {"type": "box", "center": [0.42, 0.31], "size": [0.15, 0.1]}},
              {"name": "sand", "material": "sand", "velocity": [-0.5, -1.5],
               "shape": {"type": "sphere", "center": [0.7, 0.2], "radius": 0.06}}],
  "colliders": [{"name": "ball", "type": "sphere", "center": [0.5, 0.15], "radius": 0.09, "surface": "slip",
                 "friction": 0.3, "motion": {"type": "constant", "velocity": [0.2, 0.3]}},
                {"name": "floor", "type": "plane", "point": [0, 0.12], "normal": [0.1, 1], "surface": "sticky"}]
})";

// A jelly cube and a plasticine sphere in 3D, hitting a box collider that slides.
inline const char* kJellyClay3D = R"({
  "format": 1, "dimension": 3,
  "domain": {"min": [0, 0, 0], "max": [1, 1, 1], "dx": 0.0625, "boundary": {"surface": "separate", "friction": 0.1}},
  "time": {"dt": 2e-3, "frame_dt": 0.01, "frames": 2},
  "gravity": [0, -9.81, 0],
  "materials": [{"name": "jelly", "model": "neo_hookean", "density": 1000, "E": 3e3, "nu": 0.3},
                {"name": "clay", "model": "von_mises", "density": 1200, "E": 1e4, "nu": 0.3, "yield_stress": 200}],
  "objects": [{"name": "jelly", "material": "jelly", "velocity": [0.3, -1.5, 0.2],
               "shape": {"type": "box", "center": [0.4, 0.38, 0.5], "size": [0.2, 0.15, 0.2]}},
              {"name": "clay", "material": "clay", "velocity": [-0.4, -1.2, 0],
               "shape": {"type": "sphere", "center": [0.68, 0.36, 0.5], "radius": 0.1}}],
  "colliders": [{"name": "slab", "type": "box", "center": [0.5, 0.153, 0.5], "size": [0.8, 0.2, 0.8],
                 "surface": "slip", "friction": 0.4, "motion": {"type": "constant", "velocity": [0.3, 0.2, 0]}}]
})";

// Sand at rest (F = I) sits exactly on Drucker-Prager's switch to the cone's apex, where the loss has a kink
// and one-sided differences disagree (docs/GRADIENTS.md): a 1.5% compression of object `o` (2D) starts it
// inside the cone.
template <class T, int D>
void compress_object(State<T, D>& s, int o) {
  for (int p = 0; p < s.n; ++p)
    if (s.object[p] == o)
      for (int d = 0; d < D; ++d) s.F[size_t(d * D + d) * s.n + p] = T(0.985);
}

// Losses reading several steps: positions against shifted initial positions after `steps`, object 1's centre
// of mass velocity along a direction midway, object 0's centre of mass position against a target 3 steps
// before the end.
template <class T, int D>
void add_standard_losses(const State<T, D>& s, int64_t steps, std::vector<std::unique_ptr<Loss<T, D>>>& out) {
  std::vector<double> target(static_cast<size_t>(D) * s.n);
  std::vector<int32_t> first, second;
  for (int p = 0; p < s.n; ++p) {
    for (int d = 0; d < D; ++d)
      target[size_t(p) * D + d] = double(s.x[size_t(d) * s.n + p]) + (d == 0 ? 0.02 : -0.01);
    (s.object[p] == 1 ? second : first).push_back(p);
  }
  out.push_back(make_position_loss<T, D>(steps, {}, target, 10.0));
  CenterOfMassSpec vel;
  vel.velocity = true;
  vel.has_target = false;
  vel.direction[0] = 1, vel.direction[1] = 0.5;
  out.push_back(make_center_of_mass_loss<T, D>(steps / 2, second, vel));
  CenterOfMassSpec pos;
  pos.target[0] = 0.45, pos.target[1] = 0.3, pos.target[2] = 0.5;
  out.push_back(make_center_of_mass_loss<T, D>(steps - 3, first, pos, 5.0));
}

}  // namespace ductile::test
