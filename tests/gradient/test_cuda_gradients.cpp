// The CUDA tape against the CPU tape on the same scenes: loss and every gradient, in double and float, and
// the tape's memory estimate against the buffers it held (the CUDA cases are skipped where no GPU is
// visible). The float tolerances are those that the CPU float tape meets against the CPU double tape, checked
// here on every machine.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/memory.h"
#include "gradient/gradient_problem.h"
#include "gradient/gradient_scenes.h"

using namespace ductile;

namespace {

// The scene in precision T with losses at the end (positions), midway (the second object's centre of mass
// velocity along a direction) and near the end (the first object's centre of mass against a target).
template <class T, int D>
struct Problem {
  SceneData<T, D> scene;
  int64_t steps;
  std::vector<std::unique_ptr<Loss<T, D>>> losses;

  Problem(const char* json, int64_t steps_) : steps(steps_) {
    scene = build_scene<T, D>(load_scene_text(json, "."));
    if (D == 2) test::compress_object(scene.state, 1);  // the sand, off Drucker-Prager's apex kink
    test::add_standard_losses(scene.state, steps, losses);
  }

  Gradients<T, D> gradient(Device dev, CheckpointPolicy policy = {}, TapeStats* stats = nullptr) const {
    std::vector<const Loss<T, D>*> ls;
    for (const auto& l : losses) ls.push_back(l.get());
    Tape<T, D> tape(scene.model, dev, policy);
    const double loss = tape.forward(scene.state, steps, ls);
    Gradients<T, D> g = tape.backward();
    g.loss = loss;
    if (stats) *stats = tape.stats();
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
    for (int i = 0; i < 3; ++i) {
      check_param(a.colliders[k].angular_velocity[i], ref.colliders[k].angular_velocity[i], tol.params, floor,
                  c + " angular velocity");
      check_param(a.colliders[k].rotation[i], ref.colliders[k].rotation[i], tol.params, floor,
                  c + " rotation");
    }
  }
}

// Double precision: the devices differ only in the order of their sums (atomics on the GPU), round-off of
// about 1e-16 that a perturbation of the initial state by 1e-15 of itself shows to grow to at most ~1e-11
// in the gradients over these rollouts: 1e-9 leaves a wide margin and still catches any wrong term. An entry
// that vanishes in exact arithmetic (a 2D collider's rotations about x and y) is round-off of cancelling
// terms in either order (seen on the H200: -6.5e-20 on the GPU against -1.1e-19 on the CPU, loss 1.28): the
// floor 1e-7 |loss| makes its absolute tolerance 1e-16 |loss|, the double epsilon of the loss.
const Tolerance kDouble{1e-9, 1e-9, 1e-9, 1e-7};

// Float: each tape is compared with the CPU double tape. Float round-off (6e-8) grows through the rollout to
// about 1e-7 of the loss, 7e-5 of the particle adjoints' largest value, 3e-4 of the sand's Drucker-Prager
// parameters and 4e-4 of the sand density's summed terms (measured for the CPU float tape; up to twice that
// from initial states perturbed by 1e-7 of themselves); the GPU's float sums err as much in another order.
// The tolerances are about ten times those figures.
const Tolerance kFloat{1e-5, 1e-3, 5e-3, 1e-6};

// The tape's memory estimate (TapeStats::peak_bytes, which sizes checkpoint budgets) against the peak of the
// buffers it held on the device (core/memory.h), for three checkpoint policies. Measured on the CPU: within
// 0.5% (its particle order, 12 bytes per particle in std::vector, is estimated but not counted).
template <class T, int D>
void check_memory_estimate(const char* json, int64_t steps, Device dev) {
  const Problem<T, D> p(json, steps);
  for (const char* policy : {"all", "sqrt", "every:3"}) {
    reset_peak_bytes(dev);
    const int64_t before = held_bytes(dev).now;
    TapeStats stats;
    p.gradient(dev, CheckpointPolicy::parse(policy, "test"), &stats);
    const double held = double(held_bytes(dev).peak - before);
    INFO(std::string(device_name(dev)) << ", checkpoints " << std::string(policy) << ": estimate "
                                       << stats.peak_bytes << " bytes, buffers held at most " << held);
    CHECK(std::fabs(stats.peak_bytes - held) <= 0.02 * held);
  }
}

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
  check_device<2>(test::kJellySand2D, 40, Device::kCpu, true);
}

TEST_CASE("cuda gradients: the CPU float tape agrees with the CPU double tape in 3D too") {
  check_device<3>(test::kJellyClay3D, 20, Device::kCpu, true);
}

TEST_CASE("cuda gradients: the tape's memory estimate is the peak of the buffers it holds, on the CPU") {
  check_memory_estimate<double, 2>(test::kJellySand2D, 40, Device::kCpu);
  check_memory_estimate<float, 3>(test::kJellyClay3D, 20, Device::kCpu);
}

TEST_CASE("cuda gradients: the tape's memory estimate is the peak of the buffers it holds, on the GPU" *
          doctest::skip(!cuda_available())) {
  check_memory_estimate<double, 2>(test::kJellySand2D, 40, Device::kCuda);
  check_memory_estimate<float, 3>(test::kJellyClay3D, 20, Device::kCuda);
}

TEST_CASE("cuda gradients: 2D double tape on the GPU matches the CPU" * doctest::skip(!cuda_available())) {
  check_device<2>(test::kJellySand2D, 40, Device::kCuda, false);
}

TEST_CASE("cuda gradients: 2D float tape on the GPU matches the CPU double tape" *
          doctest::skip(!cuda_available())) {
  check_device<2>(test::kJellySand2D, 40, Device::kCuda, true);
}

TEST_CASE("cuda gradients: 3D double tape on the GPU matches the CPU" * doctest::skip(!cuda_available())) {
  check_device<3>(test::kJellyClay3D, 20, Device::kCuda, false);
}

TEST_CASE("cuda gradients: 3D float tape on the GPU matches the CPU double tape" *
          doctest::skip(!cuda_available())) {
  check_device<3>(test::kJellyClay3D, 20, Device::kCuda, true);
}

TEST_CASE("cuda gradients: the tape's plain-atomic P2G (DUCTILE_CUDA_SORT=0) matches the CPU too" *
          doctest::skip(!cuda_available())) {
  // the tape's forward P2G is the simulator's sorted per-cell sum by default (the cases above); the switch,
  // read when the tape makes its backend, selects the atomics it replaced (restored however the checks end)
  struct Unsorted {
    bool had = std::getenv("DUCTILE_CUDA_SORT") != nullptr;
    std::string saved = had ? std::getenv("DUCTILE_CUDA_SORT") : "";
    Unsorted() { setenv("DUCTILE_CUDA_SORT", "0", 1); }
    ~Unsorted() { had ? setenv("DUCTILE_CUDA_SORT", saved.c_str(), 1) : unsetenv("DUCTILE_CUDA_SORT"); }
  } unsorted;
  check_device<2>(test::kJellySand2D, 40, Device::kCuda, false);
  check_device<3>(test::kJellyClay3D, 20, Device::kCuda, false);
}
