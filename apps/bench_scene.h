// The standard benchmark scenes of `ductile bench` (the Taichi mpm3d box), shared by its forward and
// gradient runs.
#pragma once

#include <string>
#include <vector>

#include "core/model.h"
#include "core/state.h"

namespace ductile::app {

// The benchmark box at grid resolution G (dx = 1/G, N = G^3/4 particles) with material `scene` ("fluid",
// "fixed_corotated"); see apps/bench.cpp for the exact set-up. domain_scale S > 1 makes the domain [0, S]^3
// (S^3 times the volume) around the same particles, with the same dx (the sparse grid's benchmark).
void build_bench_scene(const std::string& scene, int G, Model<float, 3>& model, State<float, 3>& state,
                       int domain_scale = 1);

// The gradient benchmark: forward on the tape, backward, their time ratio and memory, per scene, grid and
// checkpoint policy (apps/bench_gradient.cpp). Writes JSON runs to `json` when it is not empty.
struct GradientBenchOptions {
  std::vector<std::string> scenes;
  std::vector<int> grids;
  std::vector<std::string> policies;
  int steps = 50;
  std::string json;
  Device device = Device::kCpu;
};
void run_gradient_bench(const GradientBenchOptions& o);

}  // namespace ductile::app
