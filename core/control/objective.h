// What a robot is asked to do, as a loss on its centre-of-mass trajectory and its activations: travel along
// a direction, reach a velocity, reach a point, jump, with an optional effort penalty (docs/ROBOTS.md).
#pragma once

#include <array>
#include <string>
#include <vector>

namespace ductile {

struct ObjectiveSpec {
  std::string type = "travel";               // travel, velocity, reach, jump (or none: no task)
  std::array<double, 3> direction{1, 0, 0};  // travel, velocity: unit direction
  std::array<double, 3> target{};            // reach: the point; velocity: the velocity (when no goal)
  std::array<double, 3> up{0, 1, 0};         // jump: unit up direction (opposite to gravity)
  double from = 0.5;  // velocity: the fraction of the episode after which the velocity counts
  double effort = 0;  // weight of the mean squared activation
};

// The centre of mass and its velocity at steps 0..T, and the activations of steps 0..T-1 ([t][k]).
struct EpisodeTrace {
  std::vector<std::array<double, 3>> com, velocity;
  std::vector<double> activation;
  int actuators = 0;
};

// The loss and its gradient with respect to the trace.
struct ObjectiveValue {
  double loss = 0, task = 0, effort = 0;
  // travel: distance covered; velocity: mean velocity along the direction; reach: distance to the target at
  // the end; jump: height gained at the top
  double metric = 0;
  std::vector<std::array<double, 3>> adj_com, adj_velocity;  // per step
  std::vector<double> adj_activation;                        // laid out like activation
};

// With `goal` (when has_goal): the reach target or the target velocity of this episode.
ObjectiveValue evaluate_objective(const ObjectiveSpec& spec, const EpisodeTrace& trace, bool has_goal,
                                  const std::array<double, 3>& goal);

// The name of ObjectiveValue::metric for reports ("distance", ...).
const char* objective_metric_name(const std::string& type);

}  // namespace ductile
