// The CUDA backend against the CPU backend on the same scene (skipped where no GPU is visible).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "core/device.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/scene.h"
#include "core/simulator.h"
#include "kernels/backend.h"

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

// Sets environment variables for a scope and restores what they were (bench/gpu.sh runs these tests a second
// time with switches set in the environment).
class ScopedEnv {
 public:
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it)
      it->second.first ? setenv(it->first.c_str(), it->second.second.c_str(), 1)
                       : unsetenv(it->first.c_str());
  }
  void set(const char* name, const char* value) {
    save(name);
    setenv(name, value, 1);
  }
  void unset(const char* name) {
    save(name);
    unsetenv(name);
  }

 private:
  void save(const char* name) {
    const char* old = std::getenv(name);
    saved_.push_back({name, {old != nullptr, old ? old : ""}});
  }
  std::vector<std::pair<std::string, std::pair<bool, std::string>>> saved_;
};

// One material (fluid or fixed-corotated, which the CUDA backend can fuse into its transfers) falling on a
// collider, in 3D and in 2D; the model name and its parameters are spliced in (the fluid refuses E and nu).
std::string one_material_scene(const std::string& model, int dim) {
  const std::string v = dim == 3 ? "3" : "2";
  const std::string obj =
      dim == 3 ? R"("box", "center": [0.4, 0.5, 0.5], "size": [0.25, 0.2, 0.2]}, "velocity": [1, -1, 0.5])"
               : R"("box", "center": [0.4, 0.5], "size": [0.25, 0.2]}, "velocity": [1, -1])";
  const std::string domain = dim == 3 ? R"("min": [0, 0, 0], "max": [1, 1, 1], "dx": 0.04)"
                                      : R"("min": [0, 0], "max": [1, 1], "dx": 0.02)";
  const std::string floor =
      dim == 3 ? R"("point": [0, 0.3, 0], "normal": [0, 1, 0])" : R"("point": [0, 0.3], "normal": [0, 1])";
  const std::string params = model == "fluid" ? R"("bulk_modulus": 2e4)" : R"("E": 2e4, "nu": 0.3)";
  return R"({"format": 1, "dimension": )" + v + R"(, "domain": {)" + domain +
         R"(}, "time": {"dt": 2e-4, "frame_dt": 0.01, "frames": 1},
    "materials": [{"name": "m", "model": ")" +
         model + R"(", )" + params + R"(}],
    "objects": [{"name": "a", "material": "m", "shape": {"type": )" +
         obj + R"(}],
    "colliders": [{"name": "floor", "type": "plane", )" +
         floor + R"(, "surface": "slip", "friction": 0.3}]})";
}

// The largest differences of x and v between the particles of two simulators.
template <class T, int D>
void largest_differences(const Simulator<T, D>& sa, const Simulator<T, D>& sb, double& max_dx,
                         double& max_dv) {
  State<T, D> a, b;
  sa.get_state(a);
  sb.get_state(b);
  REQUIRE(a.n == b.n);
  max_dx = 0, max_dv = 0;
  for (size_t i = 0; i < a.x.size(); ++i) {
    max_dx = std::max(max_dx, double(std::fabs(a.x[i] - b.x[i])));
    max_dv = std::max(max_dv, double(std::fabs(a.v[i] - b.v[i])));
  }
}

// One scene on the CPU and on the GPU, each simulator set to its initial state.
template <class T, int D>
struct BothDevices {
  SceneData<T, D> cpu, gpu;
  Simulator<T, D> sc, sg;
  explicit BothDevices(const std::string& json)
      : cpu(build_scene<T, D>(load_scene_text(json, "."))),
        gpu(build_scene<T, D>(load_scene_text(json, "."))),
        sc(cpu.model, Device::kCpu),
        sg(gpu.model, Device::kCuda) {
    sc.set_state(cpu.state);
    sg.set_state(gpu.state);
  }
};

// The GPU's seconds in the separate material stages (zero where the transfers ran them).
struct SeparateStages {
  double stress = 0, project = 0;
};

// Runs `steps` steps of the scene on the CPU and on the GPU; the largest differences of x and v (and, when
// gpu_stages is given, adds the GPU's time in the separate stress and projection stages to it).
template <class T, int D>
void run_both(const std::string& json, int steps, double& max_dx, double& max_dv,
              SeparateStages* gpu_stages = nullptr) {
  BothDevices<T, D> both(json);
  both.sg.set_timing(gpu_stages != nullptr);
  for (int s = 0; s < steps; ++s) {
    both.sc.step();
    both.sg.step();
  }
  if (gpu_stages)
    gpu_stages->stress += both.sg.stage_times().stress, gpu_stages->project += both.sg.stage_times().project;
  largest_differences(both.sc, both.sg, max_dx, max_dv);
}

// The scene in 3D float and its 2D version in float and double against the CPU: float atomics reorder sums on
// the GPU (agreement to a few ulps of the motion); in double the sums' order alone differs (round-off of
// 1e-16 grown over the steps). `separate_stages` (if given): the GPU's seconds in the separate stress and
// projection stages, summed over the three runs.
void check_matches_cpu(const std::string& scene3d, const std::string& scene2d, int steps,
                       SeparateStages* separate_stages = nullptr) {
  double max_dx = 0, max_dv = 0;
  run_both<float, 3>(scene3d, steps, max_dx, max_dv, separate_stages);
  CHECK(max_dx < 1e-5);
  CHECK(max_dv < 1e-3);
  run_both<float, 2>(scene2d, steps, max_dx, max_dv, separate_stages);
  CHECK(max_dx < 1e-5);
  CHECK(max_dv < 1e-3);
  run_both<double, 2>(scene2d, steps, max_dx, max_dv, separate_stages);
  CHECK(max_dx < 1e-12);
  CHECK(max_dv < 1e-10);
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
  // (and DUCTILE_CUDA_GRID: the active-block grid and the sparse grid for every sorted variant; the adaptive
  // sort, which keeps the last order while few particles left their cells, with some of them)
  const char* variants[][3] = {
      {"1", "cells", "dense"},           {"1", "slabs", "dense"},        {"1", "tile", "dense"},
      {"1", "tile-contiguous", "dense"}, {"1", "global", "dense"},       {"0", "", "dense"},
      {"1", "cells", "active"},          {"1", "slabs", "active"},       {"1", "tile", "active"},
      {"1", "global", "active"},         {"1", "cells", "sparse"},       {"1", "slabs", "sparse"},
      {"1", "tile", "sparse"},           {"1", "global", "sparse"},      {"adaptive", "cells", "dense"},
      {"adaptive", "slabs", "sparse"},   {"adaptive", "tile", "active"}, {"adaptive", "global", "sparse"},
      {"1", "staged", "dense"},          {"1", "staged", "active"},      {"1", "staged", "sparse"},
      {"adaptive", "staged", "sparse"}};
  for (const auto& v : variants) {
    ScopedEnv env;
    env.set("DUCTILE_CUDA_SORT", v[0]);
    env.set("DUCTILE_CUDA_P2G", v[1]);
    env.set("DUCTILE_CUDA_GRID", v[2]);
    INFO("DUCTILE_CUDA_SORT=" << std::string(v[0]) << " DUCTILE_CUDA_P2G=" << std::string(v[1])
                              << " DUCTILE_CUDA_GRID=" << std::string(v[2]));
    // an error thrown by one variant fails it and the case goes on to the next
    CHECK_NOTHROW(check_matches_cpu(kScene, kScene2D, 50));
  }
  // the staged P2G with two particles of each cell per chunk (most cells take several chunks)
  ScopedEnv env;
  env.set("DUCTILE_CUDA_P2G", "staged");
  env.set("DUCTILE_CUDA_STAGED_ROWS", "2");
  INFO("DUCTILE_CUDA_P2G=staged DUCTILE_CUDA_STAGED_ROWS=2");
  CHECK_NOTHROW(check_matches_cpu(kScene, kScene2D, 50));
}

TEST_CASE("cuda backend: the fused stress and projection match the cpu backend (fluid, fixed-corotated)" *
          doctest::skip(!cuda_available())) {
  // DUCTILE_CUDA_FUSE=1: the material's stress inside p2g_cells (one or three threads per cell) or
  // p2g_staged and its projection inside G2P, with the dense, the active-block and the sparse grid;
  // =project (the default): the projection alone inside G2P. The fused stages must not run separately, the
  // others must.
  for (const char* fuse : {"1", "project"})
    for (const char* p2g : {"cells", "slabs", "staged"})
      for (const char* grid : {"dense", "active", "sparse"})
        for (const char* model : {"fluid", "fixed_corotated"}) {
          ScopedEnv env;
          env.set("DUCTILE_CUDA_FUSE", fuse);
          env.set("DUCTILE_CUDA_P2G", p2g);
          env.set("DUCTILE_CUDA_GRID", grid);
          INFO("model " << std::string(model) << ", DUCTILE_CUDA_FUSE=" << std::string(fuse)
                        << ", DUCTILE_CUDA_P2G=" << std::string(p2g)
                        << ", DUCTILE_CUDA_GRID=" << std::string(grid));
          SeparateStages stages;
          CHECK_NOTHROW(
              check_matches_cpu(one_material_scene(model, 3), one_material_scene(model, 2), 50, &stages));
          CHECK(stages.project == 0);
          if (std::string(fuse) == "1")
            CHECK(stages.stress == 0);
          else
            CHECK(stages.stress > 0);
        }
  // without it both stages run
  ScopedEnv env;
  env.set("DUCTILE_CUDA_FUSE", "0");
  double max_dx = 0, max_dv = 0;
  SeparateStages stages;
  run_both<float, 3>(one_material_scene("fluid", 3), 5, max_dx, max_dv, &stages);
  CHECK(stages.stress > 0);
  CHECK(stages.project > 0);
}

TEST_CASE("cuda backend: the materials' batches selected on the device match the cpu backend" *
          doctest::skip(!cuda_available())) {
  // DUCTILE_CUDA_PARTITION=device: two materials, their batches rebuilt on the device after every G2P
  for (const char* grid : {"dense", "active", "sparse"}) {
    ScopedEnv env;
    env.set("DUCTILE_CUDA_PARTITION", "device");
    env.set("DUCTILE_CUDA_GRID", grid);
    INFO("DUCTILE_CUDA_GRID=" << std::string(grid));
    CHECK_NOTHROW(check_matches_cpu(kScene, kScene2D, 50));
  }
}

// A 3D scene of domain [0, 1]^3 in the domain [0, scale]^3, with the same dx.
std::string widened(const std::string& json, int scale) {
  std::string wide = json;
  const std::string box = R"("max": [1, 1, 1])";
  REQUIRE(wide.find(box) != std::string::npos);
  const std::string s = std::to_string(scale);
  wide.replace(wide.find(box), box.size(), R"("max": [)" + s + ", " + s + ", " + s + "]");
  return wide;
}

// The grid bytes after `steps` steps of a scene on the GPU, and how far it ends from the CPU.
double gpu_grid_bytes(const std::string& json, int steps, double& max_dx, double& max_dv) {
  run_both<float, 3>(json, steps, max_dx, max_dv);
  SceneDocument doc = load_scene_text(json, ".");
  SceneData<float, 3> scene = build_scene<float, 3>(doc);
  Simulator<float, 3> sim(scene.model, Device::kCuda);
  sim.set_state(scene.state);
  for (int s = 0; s < steps; ++s) sim.step();
  return double(sim.grid_bytes());
}

TEST_CASE("cuda backend: the sparse grid's memory follows the particles, not the domain" *
          doctest::skip(!cuda_available())) {
  // the one-material scene in its domain and in one 4 times larger along each axis, same dx: the pool holds
  // the same blocks, only the block table (4 bytes per 4^3 cells of the padded grid: 8^3 blocks, then 27^3)
  // grows; the dense grid grows with the padded grid's nodes (30^3, then 105^3: 43 times, not 64)
  const std::string small = one_material_scene("fixed_corotated", 3), big = widened(small, 4);
  double max_dx = 0, max_dv = 0;
  double sparse_small = 0, sparse_big = 0, dense_small = 0, dense_big = 0;
  {
    ScopedEnv env;
    env.set("DUCTILE_CUDA_GRID", "sparse");
    sparse_small = gpu_grid_bytes(small, 30, max_dx, max_dv);
    CHECK(max_dx < 1e-5);
    CHECK(max_dv < 1e-3);
    sparse_big = gpu_grid_bytes(big, 30, max_dx, max_dv);
    CHECK(max_dx < 1e-5);
    CHECK(max_dv < 1e-3);
  }
  {
    ScopedEnv env;
    env.set("DUCTILE_CUDA_GRID", "dense");
    dense_small = gpu_grid_bytes(small, 1, max_dx, max_dv);
    dense_big = gpu_grid_bytes(big, 1, max_dx, max_dv);
  }
  // the padded grid's nodes and blocks of 4^3 cells
  auto grid_of = [](const std::string& json) {
    return build_scene<float, 3>(load_scene_text(json, ".")).model.grid;
  };
  auto table_bytes = [](const GridSpec<float, 3>& g) {
    double blocks = 1;
    for (int d = 0; d < 3; ++d) blocks *= (g.res[d] + 3) / 4;
    return 4 * blocks;
  };
  const GridSpec<float, 3> grid_small = grid_of(small), grid_big = grid_of(big);
  const double table_small = table_bytes(grid_small), table_big = table_bytes(grid_big);
  INFO("grid bytes: sparse " << sparse_small << " -> " << sparse_big << " (block tables " << table_small
                             << " -> " << table_big << "), dense " << dense_small << " -> " << dense_big);
  CHECK(sparse_small > table_small);
  CHECK(sparse_big - table_big < 1.6 * (sparse_small - table_small));
  CHECK(sparse_small < dense_small);
  CHECK(dense_big ==
        doctest::Approx(dense_small * double(grid_big.num_nodes()) / double(grid_small.num_nodes())));
}

TEST_CASE("cuda backend: by default the sparse grid where a dense one would take over 1 GiB" *
          doctest::skip(!cuda_available())) {
  // DUCTILE_CUDA_GRID unset (bench/gpu.sh's second run of these tests sets it): the one-material scene (25^3
  // cells) keeps its dense grid; in a domain 18 times wider along each axis at the same dx (450^3 cells: 1.4
  // GiB of float mass and momentum) the backend keeps the pool, and its steps match the CPU's
  ScopedEnv env;
  env.unset("DUCTILE_CUDA_GRID");
  env.unset("DUCTILE_CUDA_SORT");
  const std::string small = one_material_scene("fixed_corotated", 3), big = widened(small, 18);
  double max_dx = 0, max_dv = 0;
  const double small_bytes = gpu_grid_bytes(small, 1, max_dx, max_dv);
  const double big_bytes = gpu_grid_bytes(big, 20, max_dx, max_dv);
  CHECK(max_dx < 1e-5);
  CHECK(max_dv < 1e-3);
  const SceneData<float, 3> small_scene = build_scene<float, 3>(load_scene_text(small, "."));
  const SceneData<float, 3> big_scene = build_scene<float, 3>(load_scene_text(big, "."));
  CHECK(double(big_scene.model.grid.num_nodes()) * 16 > 1024.0 * 1024 * 1024);
  // the dense grid's mass and momentum, then the pool's blocks and table: far below the dense 1.4 GiB
  CHECK(small_bytes >= double(small_scene.model.grid.num_nodes()) * 16);
  CHECK(big_bytes < 64.0 * 1024 * 1024);
  CHECK_FALSE(Simulator<float, 3>(small_scene.model, Device::kCuda).sparse_grid());
  CHECK(Simulator<float, 3>(big_scene.model, Device::kCuda).sparse_grid());
}

// A box wider than the sparse grid's first pool: 6 x 4 x 6 = 144 blocks claimed (64 fit the first pool).
const char* kWideBox = R"({
  "format": 1, "dimension": 3,
  "domain": {"min": [0, 0, 0], "max": [1, 1, 1], "dx": 0.04},
  "time": {"dt": 2e-4, "frame_dt": 0.01, "frames": 1},
  "materials": [{"name": "m", "model": "fixed_corotated", "E": 2e4, "nu": 0.3}],
  "objects": [{"name": "a", "material": "m", "shape": {"type": "box", "center": [0.5, 0.5, 0.5], "size": [0.5, 0.3, 0.5]},
               "velocity": [0.5, -1, 0.3]}],
  "colliders": [{"name": "floor", "type": "plane", "point": [0, 0.3, 0], "normal": [0, 1, 0], "surface": "slip", "friction": 0.3}]
})";

TEST_CASE("cuda backend: the sparse grid grows its pool and runs the step again, as the cpu backend steps" *
          doctest::skip(!cuda_available())) {
  // the first step claims 144 blocks against the first pool's 64 (kStatusGridFull: the pool grows to the
  // claims and a quarter more, plus 64, and the step runs again); after 20 steps the particles are spread
  // 1.8 times wider in x and z (256 blocks, more than the grown pool: it grows and reruns again); the claims
  // were counted on the CPU with the same ActiveBlocks code
  for (const char* sort : {"1", "adaptive"}) {
    ScopedEnv env;
    env.set("DUCTILE_CUDA_GRID", "sparse");
    env.set("DUCTILE_CUDA_SORT", sort);
    INFO("DUCTILE_CUDA_SORT=" << std::string(sort));
    BothDevices<float, 3> both(kWideBox);
    Simulator<float, 3>& sc = both.sc;
    Simulator<float, 3>& sg = both.sg;
    auto compare = [&](int steps) {
      for (int s = 0; s < steps; ++s) sc.step(), sg.step();
      double max_dx = 0, max_dv = 0;
      largest_differences(sc, sg, max_dx, max_dv);
      // check_matches_cpu's float bounds
      CHECK(max_dx < 1e-5);
      CHECK(max_dv < 1e-3);
    };
    compare(20);
    const int64_t first_claims = sg.grid_blocks(), first_bytes = sg.grid_bytes();
    CHECK(first_claims > 64);
    // spread the CPU's particles about x = z = 0.5 (their F unchanged) and set the state into both
    State<float, 3> wide;
    sc.get_state(wide);
    for (int d : {0, 2})
      for (int p = 0; p < wide.n; ++p) {
        float& x = wide.x[size_t(d) * wide.n + p];
        x = 0.5f + 1.8f * (x - 0.5f);
      }
    sc.set_state(wide);
    sg.set_state(wide);
    compare(20);
    // more blocks than the pool grown at the first step held: it grew again
    CHECK(sg.grid_blocks() > first_claims + first_claims / 4 + 64);
    CHECK(sg.grid_bytes() > first_bytes);
  }
}

TEST_CASE("cuda backend: the GPU memory a simulator holds is counted, and given back with it" *
          doctest::skip(!cuda_available())) {
  // held_bytes(kCuda) counts every device buffer (`ductile bench`'s buf MB): at least the particles' arrays
  // and the dense grid while the simulator lives, nothing of it after
  SceneData<float, 3> scene = build_scene<float, 3>(load_scene_text(kScene, "."));
  const int64_t before = held_bytes(Device::kCuda).now;
  {
    Simulator<float, 3> sim(scene.model, Device::kCuda);
    sim.set_state(scene.state);
    sim.step();
    // x, v, C, F, plastic, mass, vol0 in float, material and id in int32: 29 words a particle
    const int64_t particles = int64_t(scene.state.n) * 29 * 4;
    CHECK(held_bytes(Device::kCuda).now - before >= particles + sim.grid_bytes());
    CHECK(held_bytes(Device::kCuda).peak >= held_bytes(Device::kCuda).now);
  }
  CHECK(held_bytes(Device::kCuda).now == before);
}

TEST_CASE("cuda backend: the sparse grid refuses the unsorted particles" * doctest::skip(!cuda_available())) {
  ScopedEnv env;
  env.set("DUCTILE_CUDA_GRID", "sparse");
  env.set("DUCTILE_CUDA_SORT", "0");
  SceneData<float, 3> scene = build_scene<float, 3>(load_scene_text(kScene, "."));
  auto make = [&] { Simulator<float, 3> sim(scene.model, Device::kCuda); };
  CHECK_THROWS_WITH(make(), doctest::Contains("does not run with DUCTILE_CUDA_SORT=0"));
}

TEST_CASE("cuda backend: the adaptive sort matches the cpu backend across set_state and fast motion" *
          doctest::skip(!cuda_available())) {
  // DUCTILE_CUDA_SORT=adaptive keeps the last sort's order while at most 1/64 of the particles left their
  // cells; a state set between steps in reversed slot order, and particles thrown fast (many leave their
  // cells each step), must give what the CPU gives
  ScopedEnv env;
  env.set("DUCTILE_CUDA_SORT", "adaptive");
  for (const char* grid : {"dense", "sparse"}) {
    ScopedEnv grid_env;
    grid_env.set("DUCTILE_CUDA_GRID", grid);
    INFO("DUCTILE_CUDA_GRID=" << std::string(grid));
    BothDevices<float, 3> both(kScene);
    Simulator<float, 3>& sc = both.sc;
    Simulator<float, 3>& sg = both.sg;
    for (int s = 0; s < 20; ++s) sc.step(), sg.step();
    // the CPU's state, its particles reversed and sped up 20 times, into both
    State<float, 3> mid;
    sc.get_state(mid);
    State<float, 3> rev = mid;
    const int n = mid.n;
    auto reverse = [&](const std::vector<float>& a, std::vector<float>& b, int width) {
      for (int c = 0; c < width; ++c)
        for (int p = 0; p < n; ++p) b[size_t(c) * n + p] = a[size_t(c) * n + (n - 1 - p)];
    };
    reverse(mid.x, rev.x, 3), reverse(mid.v, rev.v, 3), reverse(mid.C, rev.C, 9), reverse(mid.F, rev.F, 9);
    reverse(mid.plastic, rev.plastic, 1), reverse(mid.mass, rev.mass, 1), reverse(mid.vol0, rev.vol0, 1);
    for (int p = 0; p < n; ++p) rev.material[p] = mid.material[n - 1 - p];
    for (float& v : rev.v) v *= 20;
    sc.set_state(rev);
    sg.set_state(rev);
    for (int s = 0; s < 30; ++s) sc.step(), sg.step();
    double max_dx = 0, max_dv = 0;
    largest_differences(sc, sg, max_dx, max_dv);
    // check_matches_cpu's float bounds, ten times wider for motion twenty times faster
    CHECK(max_dx < 1e-4);
    CHECK(max_dv < 1e-2);
  }
}

TEST_CASE("cuda backend: an unknown value of one of its switches is an error naming the variable" *
          doctest::skip(!cuda_available())) {
  for (const char* name : {"DUCTILE_CUDA_SORT", "DUCTILE_CUDA_P2G", "DUCTILE_CUDA_STAGED_ROWS",
                           "DUCTILE_CUDA_GRID", "DUCTILE_CUDA_FUSE", "DUCTILE_CUDA_PARTITION"}) {
    INFO(name);
    ScopedEnv env;
    env.set(name, "bogus");
    std::string message;
    try {
      make_cuda_backend<float, 3>();
    } catch (const Error& e) {
      message = e.what();
    }
    CHECK(message.find(name) != std::string::npos);
    CHECK(message.find("unknown value 'bogus'") != std::string::npos);
  }
}
