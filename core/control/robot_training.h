// Training a soft robot: the unknowns (the controller's parameters, then co-designed material parameters and
// actuator strengths on a log scale), episodes through the gradient tape, and the loss averaged over goals.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/checkpoint.h"
#include "core/control/robot_scene.h"
#include "core/parameters.h"
#include "core/tape.h"

namespace ductile {

// One episode's outcome.
struct EpisodeResult {
  double loss = 0, task = 0, effort = 0, metric = 0;
  double forward_seconds = 0, backward_seconds = 0;
};

template <class T, int D>
class RobotTrainer {
 public:
  // `steps` per episode. The scene data, robot and controller must outlive the trainer.
  RobotTrainer(SceneData<T, D>& data, RobotScene<T, D>& robot, Controller& controller, Device device,
               CheckpointPolicy policy, int64_t steps);
  ~RobotTrainer();

  // The unknowns: controller parameters first ("controller[i]"), then the co-design entries of
  // optimize.wrt ("materials/body/E", "actuators/leg/strength").
  int size() const { return int(lo_.size()); }
  const std::vector<std::string>& codesign_names() const { return codesign_names_; }
  std::vector<double> u_now() const;
  const std::vector<double>& lo() const { return lo_; }
  const std::vector<double>& hi() const { return hi_; }
  // Sets u into the controller, the materials and the actuators.
  void apply(const std::vector<double>& u);
  // The values of the co-design entries at u (in their units).
  std::vector<double> codesign_values(const std::vector<double>& u) const;

  // Runs the episodes of `goals` (indices into optimize.goals; ignored without goals) at u and returns
  // their mean loss; with `grad`, also d mean loss / du. Each episode's outcome goes to `episodes`.
  double evaluate(const std::vector<double>& u, const std::vector<int>& goals, std::vector<double>* grad,
                  std::vector<EpisodeResult>* episodes = nullptr);
  // One episode at u (forward only), calling `frame(t, state)` at every `every`-th step with the state in
  // the scene's particle order.
  EpisodeResult rollout(const std::vector<double>& u, int goal, int64_t every,
                        const std::function<void(int64_t, const State<T, D>&)>& frame);
  const TapeStats& last_stats() const { return stats_; }

 private:
  EpisodeResult run(int goal, bool backward, std::vector<double>* grad);

  SceneData<T, D>& data_;
  RobotScene<T, D>& robot_;
  Controller& controller_;
  Device device_;
  CheckpointPolicy policy_;
  int64_t steps_;
  int nc_ = 0;  // controller parameters
  std::vector<std::string> codesign_names_;
  std::vector<Parameter<T, D>> material_params_;  // co-designed material parameters (entry 0 of each)
  std::vector<int> strength_index_;               // co-designed actuator strengths (actuator indices)
  std::vector<double> lo_, hi_;
  std::unique_ptr<ActuationDriver<T, D>> driver_;
  TapeStats stats_;
};

}  // namespace ductile
