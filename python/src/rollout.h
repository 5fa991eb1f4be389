// A differentiable rollout for Python: one tape (core/tape.h) run forward from given inputs (initial x and v,
// named parameters, a per-step external force, the robot's per-step activations), recording the states at
// chosen steps, then run backward from
// the gradient of a PyTorch loss with respect to those states (Tape::set_output_adjoints). ductile/rollout.py
// wraps it in a torch.autograd.Function.
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <string>
#include <vector>

#include "core/scene.h"

namespace ductile::python {

namespace py = pybind11;

class Rollout {
 public:
  virtual ~Rollout() = default;
  // x, v ([n, D]), mass, material, object ([n]) of the scene's initial state; in a robot scene also
  // actuator ([n]: the particle's actuator index, -1 for passive particles).
  virtual py::dict initial() const = 0;
  // The names of the scene's actuators (section "actuators"), in the order of actuation's columns.
  virtual std::vector<std::string> actuators() const = 0;
  // Runs `steps` steps. x0, v0: [n, D] or None (the scene's); params: name -> 1-D values (set; objects/<o>/
  // velocity and angular_velocity replace the scene's initial motion; actuators/<a>/strength the actuator's
  // strength); force: [steps, n, D] or None; actuation: [steps, actuators] activations or None; record: the
  // steps whose (x, v) are returned, in that order.
  virtual py::list forward(int64_t steps, const py::object& x0, const py::object& v0, const py::dict& params,
                           const py::object& force, const py::object& actuation, const py::list& record) = 0;
  // The gradient of a loss L(recorded states): seeds = [(step, dL/dx [n, D] or None, dL/dv or None)], wrt:
  // the parameter names whose gradients to return. Returns {"x", "v", "force" and "actuation" (when given),
  // "params": {name: values}}.
  virtual py::dict backward(const py::list& seeds, const py::list& wrt) = 0;
  // The tape's checkpoint interval, recomputed steps, memory and times.
  virtual py::dict stats() const = 0;
};

// A rollout of the scene in precision "float32" or "float64" on backend "cpu" or "cuda", with the checkpoint
// policy ("all", "every:K", "sqrt", "budget:4GB") and the modules of its "python" materials.
std::unique_ptr<Rollout> make_rollout(const SceneDocument& doc, const std::string& dtype,
                                      const std::string& backend, const std::string& checkpoint,
                                      const py::dict& bridges);

}  // namespace ductile::python
