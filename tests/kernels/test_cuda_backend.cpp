// The CUDA backend against the CPU backend on the same scene (skipped where no GPU is visible).
#include <doctest/doctest.h>

#include <cmath>

#include "core/device.h"
#include "core/scene.h"
#include "core/simulator.h"

using namespace ductile;

namespace {

// Two materials, a collider and walls: every stage of the step runs on the device.
const char* kScene = R"({
  "format": 1, "dimension": 3,
  "domain": {"min": [0, 0, 0], "max": [1, 1, 1], "dx": 0.05},
  "time": {"dt": 2e-4, "frame_dt": 0.01, "frames": 1},
  "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 2e4, "nu": 0.3},
                {"name": "sand", "model": "drucker_prager", "E": 5e4, "nu": 0.3}],
  "objects": [{"name": "a", "material": "jelly", "shape": {"type": "box", "center": [0.4, 0.5, 0.5], "size": [0.2, 0.2, 0.2]},
               "velocity": [1, -1, 0]},
              {"name": "b", "material": "sand", "shape": {"type": "sphere", "center": [0.7, 0.4, 0.5], "radius": 0.1}}],
  "colliders": [{"name": "floor", "type": "plane", "point": [0, 0.2, 0], "normal": [0, 1, 0], "surface": "slip", "friction": 0.3}]
})";

}  // namespace

TEST_CASE("cuda backend matches the cpu backend over 50 steps" * doctest::skip(!cuda_available())) {
  SceneDocument doc = load_scene_text(kScene, ".");
  SceneData<float, 3> cpu = build_scene<float, 3>(doc), gpu = build_scene<float, 3>(doc);
  Simulator<float, 3> sc(cpu.model, Device::kCpu), sg(gpu.model, Device::kCuda);
  sc.set_state(cpu.state);
  sg.set_state(gpu.state);
  for (int s = 0; s < 50; ++s) {
    sc.step();
    sg.step();
  }
  State<float, 3> a, b;
  sc.get_state(a);
  sg.get_state(b);
  REQUIRE(a.n == b.n);
  // float atomics reorder sums on the GPU: agreement to a few ulps of the motion, not bit for bit
  double max_dx = 0, max_dv = 0;
  for (size_t i = 0; i < a.x.size(); ++i) {
    max_dx = std::max(max_dx, double(std::fabs(a.x[i] - b.x[i])));
    max_dv = std::max(max_dv, double(std::fabs(a.v[i] - b.v[i])));
  }
  CHECK(max_dx < 1e-5);
  CHECK(max_dv < 1e-3);
}
