// Losses on the particle state at chosen steps, with their gradients: the scene's "loss" section and
// user-defined C++ losses implement the same interface (docs/GRADIENTS.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/state.h"

namespace ductile {

template <class T, int D>
class Loss {
 public:
  virtual ~Loss() = default;
  // A short description for reports ("positions at frame 10").
  virtual std::string name() const = 0;
  // The steps (counted from the initial state) at which the loss reads the state.
  virtual std::vector<int64_t> steps() const = 0;
  // The loss's term at `step` for the host state s (particles in the State's order), adding its gradient
  // with respect to positions and velocities to adj_x and adj_v (SoA, laid out like s.x and s.v).
  virtual double evaluate(int64_t step, const State<T, D>& s, std::vector<double>& adj_x,
                          std::vector<double>& adj_v) const = 0;
  // For losses that weigh particles by mass (a centre of mass): adds d loss / d mass_p at `step` to adj_mass.
  // The mass of a particle is constant, so this reaches the material densities.
  virtual void mass_gradient(int64_t, const State<T, D>&, std::vector<double>&) const {}
};

// Mean squared distance of particles to target positions at one step: (1 / |P|) sum_p |x_p - y_p|^2 over
// the selected particles P (all when `particles` is empty); `target` holds D coordinates per selected
// particle, point after point (as the target clouds of make_chamfer_loss).
template <class T, int D>
std::unique_ptr<Loss<T, D>> make_position_loss(int64_t step, std::vector<int32_t> particles,
                                               std::vector<double> target, double weight = 1);

// Symmetric Chamfer distance between the selected particles X and a target point cloud Y at one step:
//   (1 / |X|) sum_x min_y |x - y|^2 + (1 / |Y|) sum_y min_x |x - y|^2,
// with the nearest neighbours held fixed for the gradient (they change only on a set of measure zero).
template <class T, int D>
std::unique_ptr<Loss<T, D>> make_chamfer_loss(int64_t step, std::vector<int32_t> particles,
                                              std::vector<double> target, double weight = 1);

// An object's mass-weighted centre of mass position or velocity c at one step: |c - target|^2 when a target
// is given, else direction . c (a linear objective, e.g. distance travelled along an axis).
struct CenterOfMassSpec {
  bool velocity = false;  // velocity instead of position
  bool has_target = true;
  double target[3] = {0, 0, 0};
  double direction[3] = {0, 0, 0};
};
template <class T, int D>
std::unique_ptr<Loss<T, D>> make_center_of_mass_loss(int64_t step, std::vector<int32_t> particles,
                                                     const CenterOfMassSpec& spec, double weight = 1);

}  // namespace ductile
