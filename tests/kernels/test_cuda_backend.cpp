// The CUDA backend against the CPU backend on the same scene (skipped where no GPU is visible).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

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

// The same in 2D: 8 x 8-cell blocks, float and double.
const char* kScene2D = R"({
  "format": 1, "dimension": 2,
  "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.02},
  "time": {"dt": 2e-4, "frame_dt": 0.01, "frames": 1},
  "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 2e4, "nu": 0.3},
                {"name": "sand", "model": "drucker_prager", "E": 5e4, "nu": 0.3}],
  "objects": [{"name": "a", "material": "jelly", "shape": {"type": "box", "center": [0.4, 0.5], "size": [0.2, 0.2]},
               "velocity": [1, -1]},
              {"name": "b", "material": "sand", "shape": {"type": "sphere", "center": [0.7, 0.4], "radius": 0.1}}],
  "colliders": [{"name": "floor", "type": "plane", "point": [0, 0.2], "normal": [0, 1], "surface": "slip", "friction": 0.3}]
})";

// Runs `steps` steps of the scene on the CPU and on the GPU; the largest differences of x and v.
template <class T, int D>
void run_both(const char* json, int steps, double& max_dx, double& max_dv) {
  SceneDocument doc = load_scene_text(json, ".");
  SceneData<T, D> cpu = build_scene<T, D>(doc), gpu = build_scene<T, D>(doc);
  Simulator<T, D> sc(cpu.model, Device::kCpu), sg(gpu.model, Device::kCuda);
  sc.set_state(cpu.state);
  sg.set_state(gpu.state);
  for (int s = 0; s < steps; ++s) {
    sc.step();
    sg.step();
  }
  State<T, D> a, b;
  sc.get_state(a);
  sg.get_state(b);
  REQUIRE(a.n == b.n);
  max_dx = 0, max_dv = 0;
  for (size_t i = 0; i < a.x.size(); ++i) {
    max_dx = std::max(max_dx, double(std::fabs(a.x[i] - b.x[i])));
    max_dv = std::max(max_dv, double(std::fabs(a.v[i] - b.v[i])));
  }
}

}  // namespace

TEST_CASE("cuda backend matches the cpu backend over 50 steps" * doctest::skip(!cuda_available())) {
  // float atomics reorder sums on the GPU: agreement to a few ulps of the motion, not bit for bit
  double max_dx = 0, max_dv = 0;
  run_both<float, 3>(kScene, 50, max_dx, max_dv);
  CHECK(max_dx < 1e-5);
  CHECK(max_dv < 1e-3);
}

TEST_CASE(
    "cuda backend: every particle-to-grid variant matches the cpu backend (3D float, 2D float and double)" *
    doctest::skip(!cuda_available())) {
  // DUCTILE_CUDA_SORT / DUCTILE_CUDA_P2G are read when a simulator makes its backend
  const char* variants[][2] = {
      {"1", "cells"}, {"1", "tile"}, {"1", "tile-contiguous"}, {"1", "global"}, {"0", ""}};
  for (const auto& v : variants) {
    setenv("DUCTILE_CUDA_SORT", v[0], 1);
    setenv("DUCTILE_CUDA_P2G", v[1], 1);
    INFO("DUCTILE_CUDA_SORT=" << v[0] << " DUCTILE_CUDA_P2G=" << v[1]);
    double max_dx = 0, max_dv = 0;
    run_both<float, 3>(kScene, 50, max_dx, max_dv);
    CHECK(max_dx < 1e-5);
    CHECK(max_dv < 1e-3);
    run_both<float, 2>(kScene2D, 50, max_dx, max_dv);
    CHECK(max_dx < 1e-5);
    CHECK(max_dv < 1e-3);
    // double: the sums' order alone differs, round-off of 1e-16 grown over 50 steps
    run_both<double, 2>(kScene2D, 50, max_dx, max_dv);
    CHECK(max_dx < 1e-12);
    CHECK(max_dv < 1e-10);
  }
  unsetenv("DUCTILE_CUDA_SORT");
  unsetenv("DUCTILE_CUDA_P2G");
}
