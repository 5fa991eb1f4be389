// The CUDA tape against the CPU tape on the same scenes: loss and every gradient, in double and float (the
// CUDA cases are skipped where no GPU is visible). The float tolerances are those that the CPU float tape
// meets against the CPU double tape, checked here on every machine.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "gradient/gradient_problem.h"

using namespace ductile;

namespace {

// Jelly and sand fall past a moving sphere with friction onto a sticky floor, inside slip walls.
const char* kScene2D = R"({
  "format": 1, "dimension": 2,
  "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.03125, "boundary": {"surface": "slip", "friction": 0.2}},
  "time": {"dt": 1e-3, "frame_dt": 0.01, "frames": 4},
  "gravity": [0, -9.81],
  "materials": [{"name": "jelly", "model": "fixed_corotated", "density": 1000, "E": 5e3, "nu": 0.3},
                {"name": "sand", "model": "drucker_prager", "density": 1500, "E": 2e4, "nu": 0.25,
                 "friction_angle": 30}],
  "objects": [{"name": "jelly", "material": "jelly", "velocity": [0.5, -2],
               "shape": {"type": "box", "center": [0.42, 0.31], "size": [0.15, 0.1]}},
              {"name": "sand", "material": "sand", "velocity": [-0.5, -1.5],
               "shape": {"type": "sphere", "center": [0.7, 0.2], "radius": 0.06}}],
  "colliders": [{"name": "ball", "type": "sphere", "center": [0.5, 0.15], "radius": 0.09, "surface": "slip",
                 "friction": 0.3, "motion": {"type": "constant", "velocity": [0.2, 0.3]}},
                {"name": "floor", "type": "plane", "point": [0, 0.12], "normal": [0.1, 1], "surface": "sticky"}]
})";

// A jelly cube and a plasticine sphere hitting a sliding box, in 3D.
const char* kScene3D = R"({
  "format": 1, "dimension": 3,
  "domain": {"min": [0, 0, 0], "max": [1, 1, 1], "dx": 0.0625, "boundary": {"surface": "separate", "friction": 0.1}},
  "time": {"dt": 2e-3, "frame_dt": 0.01, "frames": 2},
  "gravity": [0, -9.81, 0],
  "materials": [{"name": "jelly", "model": "neo_hookean", "density": 1000, "E": 3e3, "nu": 0.3},
                {"name": "clay", "model": "von_mises", "density": 1200, "E": 1e4, "nu": 0.3, "yield_stress": 200}],
  "objects": [{"name": "jelly", "material": "jelly", "velocity": [0.3, -1.5, 0.2],
               "shape": {"type": "box", "center": [0.4, 0.38, 0.5], "size": [0.2, 0.15, 0.2]}},
              {"name": "clay", "material": "clay", "velocity": [-0.4, -1.2, 0],
               "shape": {"type": "sphere", "center": [0.68, 0.36, 0.5], "radius": 0.1}}],
  "colliders": [{"name": "slab", "type": "box", "center": [0.5, 0.153, 0.5], "size": [0.8, 0.2, 0.8],
                 "surface": "slip", "friction": 0.4, "motion": {"type": "constant", "velocity": [0.3, 0.2, 0]}}]
})";

// The scene in precision T with losses at the end (positions), midway (the second object's centre of mass
// velocity along a direction) and near the end (the first object's centre of mass against a target).
template <class T, int D>
struct Problem {
  SceneData<T, D> scene;
  int64_t steps;
  std::vector<std::unique_ptr<Loss<T, D>>> losses;

  Problem(const char* json, int64_t steps_) : steps(steps_) {
    scene = build_scene<T, D>(load_scene_text(json, "."));
    auto& s = scene.state;
    // the sand starts inside Drucker-Prager's cone, off the apex kink (as in test_rollout_gradients.cpp)
    if (D == 2)
      for (int p = 0; p < s.n; ++p)
        if (s.object[p] == 1) s.F[p] = s.F[size_t(3) * s.n + p] = T(0.985);
    std::vector<double> target(static_cast<size_t>(D) * s.n);
    std::vector<int32_t> first, second;
    for (int p = 0; p < s.n; ++p) {
      for (int d = 0; d < D; ++d)
        target[size_t(p) * D + d] = double(s.x[size_t(d) * s.n + p]) + (d == 0 ? 0.02 : -0.01);
      (s.object[p] == 1 ? second : first).push_back(p);
    }
    losses.push_back(make_position_loss<T, D>(steps, {}, target, 10.0));
    CenterOfMassSpec vel;
    vel.velocity = true;
    vel.has_target = false;
    vel.direction[0] = 1, vel.direction[1] = 0.5;
    losses.push_back(make_center_of_mass_loss<T, D>(steps / 2, second, vel));
    CenterOfMassSpec pos;
    pos.target[0] = 0.45, pos.target[1] = 0.3, pos.target[2] = 0.5;
    losses.push_back(make_center_of_mass_loss<T, D>(steps - 3, first, pos, 5.0));
  }

  Gradients<T, D> gradient(Device dev) const {
    std::vector<const Loss<T, D>*> ls;
    for (const auto& l : losses) ls.push_back(l.get());
    Tape<T, D> tape(scene.model, dev);
    const double loss = tape.forward(scene.state, steps, ls);
    Gradients<T, D> g = tape.backward();
    g.loss = loss;
    return g;
  }
};

struct Tolerance {
  double loss;    // relative
  double arrays;  // largest difference over the array's largest value
  double params;  // relative, per parameter
  double floor;   // parameters: absolute floor, times |loss|
};

void check_array(const std::vector<double>& a, const std::vector<double>& ref, double tol,
                 const std::string& what) {
  REQUIRE(a.size() == ref.size());
  double scale = 0, diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, std::fabs(ref[i]));
    diff = std::max(diff, std::fabs(a[i] - ref[i]));
  }
  INFO(what << ": largest difference " << diff << ", largest value " << scale);
  CHECK(diff <= tol * scale);
}

void check_param(double a, double ref, double tol, double floor, const std::string& what) {
  INFO(what << ": " << a << " against " << ref);
  CHECK(std::fabs(a - ref) <= tol * std::max(std::fabs(ref), floor));
}

// Every gradient of `a` against the reference `ref`. A density's gradient sums vol0_p dL/dm_p over the
// material's particles with cancellations, so its round-off scales with the sum of the terms' magnitudes.
template <class A, int D>
void compare(const Gradients<A, D>& a, const Gradients<double, D>& ref, const State<double, D>& s0,
             const std::vector<std::string>& material_names, const Tolerance& tol) {
  CHECK(std::fabs(a.loss - ref.loss) <= tol.loss * std::fabs(ref.loss));
  check_array(a.x, ref.x, tol.arrays, "x");
  check_array(a.v, ref.v, tol.arrays, "v");
  check_array(a.C, ref.C, tol.arrays, "C");
  check_array(a.F, ref.F, tol.arrays, "F");
  check_array(a.plastic, ref.plastic, tol.arrays, "plastic");
  check_array(a.mass, ref.mass, tol.arrays, "mass");
  const double floor = tol.floor * std::fabs(ref.loss);
  REQUIRE(a.material.size() == ref.material.size());
  for (size_t m = 0; m < ref.material.size(); ++m) {
    double terms = 0;
    for (int p = 0; p < s0.n; ++p)
      if (s0.material[p] == int(m)) terms += s0.vol0[p] * std::fabs(ref.mass[p]);
    REQUIRE(a.material[m].size() == ref.material[m].size());
    for (size_t k = 0; k < ref.material[m].size(); ++k)
      check_param(a.material[m][k], ref.material[m][k], tol.params, std::max(floor, k == 0 ? terms : 0.0),
                  material_names[m] + " parameter " + std::to_string(k));
  }
  for (int d = 0; d < D; ++d) check_param(a.gravity[d], ref.gravity[d], tol.params, floor, "gravity");
  check_param(a.wall_friction, ref.wall_friction, tol.params, floor, "wall friction");
  REQUIRE(a.colliders.size() == ref.colliders.size());
  for (size_t k = 0; k < ref.colliders.size(); ++k) {
    const std::string c = "collider " + std::to_string(k);
    for (int d = 0; d < D; ++d) {
      check_param(a.colliders[k].velocity[d], ref.colliders[k].velocity[d], tol.params, floor,
                  c + " velocity");
      check_param(a.colliders[k].position[d], ref.colliders[k].position[d], tol.params, floor,
                  c + " position");
    }
    check_param(a.colliders[k].friction, ref.colliders[k].friction, tol.params, floor, c + " friction");
  }
}

// Double precision: the devices differ only in the order of their sums (atomics on the GPU), round-off of
// about 1e-16 that a perturbation of the initial state by 1e-15 of itself shows to grow to at most ~1e-11
// in the gradients over these rollouts: 1e-9 leaves a wide margin and still catches any wrong term.
const Tolerance kDouble{1e-9, 1e-9, 1e-9, 1e-12};

// Float: each tape is compared with the CPU double tape. Float round-off (6e-8) grows through the rollout to
// about 1e-7 of the loss, 7e-5 of the particle adjoints' largest value, 3e-4 of the sand's Drucker-Prager
// parameters and 4e-4 of the sand density's summed terms (measured for the CPU float tape; up to twice that
// from initial states perturbed by 1e-7 of themselves); the GPU's float sums err as much in another order.
// The tolerances are about ten times those figures.
const Tolerance kFloat{1e-5, 1e-3, 5e-3, 1e-6};

template <int D>
void check_device(const char* json, int64_t steps, Device dev, bool single) {
  const Problem<double, D> ref(json, steps);
  const Gradients<double, D> g = ref.gradient(Device::kCpu);
  if (single) {
    const Problem<float, D> p(json, steps);
    compare(p.gradient(dev), g, ref.scene.state, ref.scene.model.material_names, kFloat);
  } else {
    compare(ref.gradient(dev), g, ref.scene.state, ref.scene.model.material_names, kDouble);
  }
}

}  // namespace

TEST_CASE("cuda gradients: the CPU float tape agrees with the CPU double tape within the float tolerances") {
  check_device<2>(kScene2D, 40, Device::kCpu, true);
}

TEST_CASE("cuda gradients: 2D double tape on the GPU matches the CPU" * doctest::skip(!cuda_available())) {
  check_device<2>(kScene2D, 40, Device::kCuda, false);
}

TEST_CASE("cuda gradients: 2D float tape on the GPU matches the CPU double tape" *
          doctest::skip(!cuda_available())) {
  check_device<2>(kScene2D, 40, Device::kCuda, true);
}

TEST_CASE("cuda gradients: 3D double tape on the GPU matches the CPU" * doctest::skip(!cuda_available())) {
  check_device<3>(kScene3D, 20, Device::kCuda, false);
}
