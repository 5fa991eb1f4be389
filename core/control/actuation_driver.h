// Soft-robot actuation inside the gradient tape: each step it observes the robot (centre of mass and
// velocity), asks the controller for activations, adds the actuators' active stress (kernels/actuation.h)
// and, in the backward pass, carries the loss's gradient through the active stress and the controller back
// into the controller's parameters, the actuator strengths and the particle state (docs/ROBOTS.md).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/control/controller.h"
#include "core/control/objective.h"
#include "core/memory.h"
#include "core/state.h"
#include "core/tape_fields.h"
#include "kernels/diff_backend.h"

namespace ductile {

// The actuated particles of a scene (section "actuators"); per-particle arrays in the State's order.
template <class T, int D>
struct RobotSetup {
  std::vector<std::string> actuator_names;
  std::vector<double> strength;   // per actuator [Pa]
  std::vector<int32_t> actuator;  // per particle: actuator index or -1
  std::vector<T> fiber;           // per particle: rest fiber direction, D SoA
  std::vector<uint8_t> body;      // per particle: 1 when it counts in the robot's centre of mass
};

template <class T, int D>
class ActuationDriver {
 public:
  // The controller and setup must outlive the driver.
  ActuationDriver(const RobotSetup<T, D>& robot, Controller& controller, ObjectiveSpec objective);

  // This episode's goal (a reach target or a target velocity), seen by the controller and the objective.
  void set_goal(const std::array<double, 3>& goal);
  // Replaces the actuators' strengths (co-design); size = number of actuators.
  void set_strength(const std::vector<double>& s) { strength_ = s; }
  const std::vector<double>& strength() const { return strength_; }

  // --- called by the tape
  // Before the first step: the particle order (slot q holds particle perm[q]), the masses in that order.
  void begin(Device dev, const std::vector<int32_t>& perm, const std::vector<T>& mass_slots, int64_t steps,
             double dt);
  // State t in slot order: records the centre of mass and velocity and, for t < steps, the activations.
  void observe(int64_t t, const TapeFields<T, D>& state);
  // Adds the active stress of step t (from F of state t) to tau.
  void add_stress(DiffBackend<T, D>& backend, int64_t t, const T* F, T* tau);
  // After the last step: the objective's loss (its gradient is kept for the backward pass).
  double finish();
  // Zeroes the gradient sums: call before running a tape backward a second time (finish() does it first).
  void begin_backward();
  // Adjoint of step t's active stress and of the observation of state t: adds to adj.F (through the stress)
  // and to adj.x, adj.v (through the centre of mass the controller and the objective read).
  void backward_step(DiffBackend<T, D>& backend, int64_t t, const TapeFields<T, D>& state, const T* adj_tau,
                     TapeFields<T, D>& adj);
  // Adjoint of the final state's observation.
  void backward_final(const TapeFields<T, D>& state, TapeFields<T, D>& adj);
  // d loss / d mass per particle, slot order (the centre of mass weighs particles by mass).
  const std::vector<double>& adj_mass_slots() const { return adj_mass_; }

  // Slot q of the fields the tape hands over holds particle perm()[q].
  const std::vector<int32_t>& perm() const { return perm_; }

  // --- results
  const EpisodeTrace& trace() const { return trace_; }
  const ObjectiveValue& objective_value() const { return value_; }
  // d loss / d controller parameters and d loss / d strength, after the backward pass.
  const std::vector<double>& controller_gradient() const { return adj_controller_; }
  const std::vector<double>& strength_gradient() const { return adj_strength_; }
  // Called for every state t (0..steps) the forward pass observes (for writing frames).
  void set_state_callback(std::function<void(int64_t, const TapeFields<T, D>&)> fn) {
    on_state_ = std::move(fn);
  }

 private:
  Observation observation(int64_t t) const;
  void add_com_adjoint(int64_t t, const TapeFields<T, D>& state, const std::array<double, 3>& ac,
                       const std::array<double, 3>& av, TapeFields<T, D>& adj);

  const RobotSetup<T, D>& robot_;
  Controller& controller_;
  ObjectiveSpec objective_;
  std::vector<double> strength_;
  bool has_goal_ = false;
  std::array<double, 3> goal_{};
  Device dev_ = Device::kCpu;
  int n_ = 0, K_ = 0;
  int64_t steps_ = 0;
  double dt_ = 0, body_mass_ = 0;
  std::vector<int32_t> body_slots_, perm_;
  std::vector<T> mass_;  // slot order
  Buffer<int32_t> actuator_;
  Buffer<T> fiber_, level_, adj_level_p_;
  EpisodeTrace trace_;
  ObjectiveValue value_;
  std::vector<double> adj_controller_, adj_strength_, adj_mass_;
  std::function<void(int64_t, const TapeFields<T, D>&)> on_state_;
};

}  // namespace ductile
