// Small robots for the robot tests: a 2D two-legged walker on a floor with friction.
#pragma once

#include <string>

namespace ductile::test {

// A body on two legs; each leg carries one actuator along y, the body one along x. `controller` and
// `objective` are JSON objects spliced into the scene.
inline std::string tiny_walker_2d(const std::string& controller, const std::string& objective,
                                  const std::string& extra = "") {
  return R"({
  "format": 1, "dimension": 2,
  "domain": {"min": [0, 0], "max": [1, 0.5], "dx": 0.03125, "boundary": {"surface": "separate", "friction": 0.8}},
  "time": {"dt": 1e-3, "frame_dt": 0.01, "frames": 6},
  "gravity": [0, -9.81],
  "materials": [{"name": "rubber", "model": "fixed_corotated", "density": 1000, "E": 3e3, "nu": 0.3}],
  "objects": [{"name": "body", "material": "rubber", "shape": {"type": "box", "center": [0.3, 0.16], "size": [0.2, 0.06]}},
              {"name": "back", "material": "rubber", "shape": {"type": "box", "center": [0.23, 0.1], "size": [0.05, 0.06]}},
              {"name": "front", "material": "rubber", "shape": {"type": "box", "center": [0.37, 0.1], "size": [0.05, 0.06]}}],
  "actuators": [{"name": "back", "object": "back", "fiber": [0, 1], "strength": 1500},
                {"name": "front", "object": "front", "fiber": [0, 1], "strength": 1500},
                {"name": "spine", "object": "body", "box": {"min": [0.2, 0.13], "max": [0.4, 0.2]}, "fiber": [1, 0], "strength": 800}],
  "controller": )" +
         controller + R"(,
  "objective": )" +
         objective + extra + R"(
})";
}

}  // namespace ductile::test
