// The soft-robot sections of a scene: "actuators" (which particles pull along which fiber, how strongly),
// "controller", "objective" and "optimize" (docs/SCENE_FORMAT.md, "Robots").
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/control/actuation_driver.h"
#include "core/control/objective.h"
#include "core/scene.h"

namespace ductile {

// Section "optimize": how `ductile optimize` trains the controller.
struct OptimizeSettings {
  int iterations = 50;
  double learning_rate = 0.05;
  double lr_decay = 1.0;
  double grad_clip = 0;
  int frames = 0;                            // episode length in frames (0: the scene's frames)
  std::vector<std::array<double, 3>> goals;  // one episode per goal and iteration (none: one episode)
  int batch = 0;                             // goals drawn per iteration (0: all)
  std::vector<std::string> wrt;              // co-design: material or actuator-strength parameters
  std::string checkpoint = "all";
  uint64_t seed = 0;
};

template <class T, int D>
struct RobotScene {
  RobotSetup<T, D> setup;
  ObjectiveSpec objective;
  nlohmann::json controller;  // the validated "controller" section
  OptimizeSettings optimize;
};

// Whether the scene declares actuators.
bool scene_has_robot(const SceneDocument& doc);

// The robot of a validated scene, against its particles. Throws Error naming the JSON pointer when an
// actuator selects no particle.
template <class T, int D>
RobotScene<T, D> build_robot(const SceneDocument& doc, const SceneData<T, D>& data);

}  // namespace ductile
