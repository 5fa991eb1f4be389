// Controllers of soft robots: they map the time and what the robot senses (its centre of mass, its velocity
// and a goal) to one activation per actuator, and give the vector-Jacobian product of that map so that the
// tape carries the gradient of the loss into their parameters (and, for closed loops, into the state).
// docs/ROBOTS.md describes the types and their inputs.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ductile {

// What a controller sees at one step (3 components; the last is 0 in 2D).
struct Observation {
  int64_t step = 0;
  double time = 0;                          // [s] since the episode began
  std::array<double, 3> com{}, velocity{};  // robot's centre of mass [m] and its velocity [m/s]
  std::array<double, 3> goal{};             // the episode's goal (a point or a velocity), 0 when none
};

class Controller {
 public:
  virtual ~Controller() = default;
  virtual std::string type() const = 0;
  int actuators() const { return actuators_; }
  // Learnable parameters, flat.
  virtual int size() const = 0;
  virtual std::vector<double> parameters() const = 0;
  virtual void set_parameters(const std::vector<double>& p) = 0;
  // Whether the activations depend on the observed state (a closed loop) or on time alone.
  virtual bool closed_loop() const { return false; }
  // Activations a[k], k < actuators(), each in [-1, 1].
  virtual void act(const Observation& o, double* a) const = 0;
  // With adj_a = d loss / d a at observation o: adds d loss / d parameters to adj_params (size() entries) and
  // d loss / d (com, velocity) to adj_obs.com and adj_obs.velocity.
  virtual void act_vjp(const Observation& o, const double* adj_a, double* adj_params,
                       Observation& adj_obs) const = 0;
  // The settings this controller was made from, to rebuild it with make_controller (its parameters are
  // saved apart).
  const nlohmann::json& settings() const { return settings_; }

 protected:
  int actuators_ = 0;
  nlohmann::json settings_;
};

// What a controller is built from: the scene's "controller" section (validated), the number of actuators,
// the dimension, the time step and the episode's first observation (the origin of the network's inputs).
struct ControllerContext {
  int actuators = 0;
  int dim = 3;
  double dt = 0;
  int64_t steps = 0;
  Observation origin;
  uint64_t seed = 0;  // initial weights
};

using ControllerFactory =
    std::function<std::unique_ptr<Controller>(const nlohmann::json& spec, const ControllerContext& ctx)>;

// Controller types by name: "open_loop" and "sinusoid" always; "network" in builds with LibTorch
// (register_network_controller in core/control/torch/, registered when LibTorch's plugin loads on the first
// miss: core/torch_plugin.h).
class ControllerRegistry {
 public:
  static ControllerRegistry& instance();
  void add(const std::string& type, ControllerFactory f) { factories_[type] = std::move(f); }
  bool has(const std::string& type) const;
  std::vector<std::string> types() const;
  // Throws Error "<where>: ..." for an unknown type (listing the known ones).
  std::unique_ptr<Controller> make(const nlohmann::json& spec, const ControllerContext& ctx,
                                   const std::string& where) const;

 private:
  ControllerRegistry();
  std::map<std::string, ControllerFactory> factories_;
};

// Clock inputs shared by the sinusoid and the network: sin(2 pi f t + 2 pi j / J), j < J.
std::vector<double> clock_phases(double time, double frequency, int waves);

}  // namespace ductile
