// NaN and infinity in the gradient: a loss whose gradient is not finite stops the forward run, an adjoint
// that overflows in the backward pass stops it with an Error naming the step and stage, and nothing is
// zeroed or clamped on the way (gradients near the top of the range are carried exactly or the call throws).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"
#include "gradient/gradient_problem.h"

using namespace ductile;
using namespace ductile::test;

namespace {

// A jelly block falling freely for 20 steps.
const char* kScene = R"({
  "format": 1, "dimension": 2,
  "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.03125},
  "time": {"dt": 1e-3, "frame_dt": 0.01, "frames": 2},
  "gravity": [0, -9.81],
  "materials": [{"name": "jelly", "model": "fixed_corotated", "density": 1000, "E": 5e3, "nu": 0.3}],
  "objects": [{"name": "jelly", "material": "jelly", "velocity": [0.5, -1],
               "shape": {"type": "box", "center": [0.42, 0.4], "size": [0.15, 0.1]}}]
})";
constexpr int64_t kSteps = 20;

// A loss with a prescribed value and gradient at one step: gx on every component of x and gv on every
// component of v, of one particle (or all when particle < 0).
template <class T>
class SeedLoss final : public Loss<T, 2> {
 public:
  SeedLoss(int64_t step, double gx, double gv, int particle = -1, double value = 1)
      : step_(step), gx_(gx), gv_(gv), particle_(particle), value_(value) {}
  std::string name() const override { return "seed loss at step " + std::to_string(step_); }
  std::vector<int64_t> steps() const override { return {step_}; }
  double evaluate(int64_t, const State<T, 2>& s, std::vector<double>& adj_x,
                  std::vector<double>& adj_v) const override {
    for (int p = 0; p < s.n; ++p)
      if (particle_ < 0 || p == particle_)
        for (int d = 0; d < 2; ++d) adj_x[size_t(d) * s.n + p] += gx_, adj_v[size_t(d) * s.n + p] += gv_;
    return value_;
  }

 private:
  int64_t step_;
  double gx_, gv_;
  int particle_;
  double value_;
};

template <class T>
SceneData<T, 2> scene() {
  return build_scene<T, 2>(load_scene_text(kScene, "."));
}

// The message of the Error that fn throws, or "" (and a failed check) when it returns.
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL_CHECK("expected an Error");
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("backward faults: a loss whose gradient is NaN or infinite stops forward() at its step") {
  auto sc = scene<double>();
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  SeedLoss<double> fine(kSteps, 1, 1);
  // NaN in the position gradient of particle 3 at step 5
  {
    SeedLoss<double> bad(5, nan, 0, 3);
    Tape<double, 2> tape(sc.model, Device::kCpu);
    const std::string msg = error_of([&] { tape.forward(sc.state, kSteps, {&fine, &bad}); });
    INFO(msg);
    CHECK(contains(msg, "loss"));
    CHECK(contains(msg, "step 5"));
    CHECK(contains(msg, "not finite"));
    CHECK(contains(msg, "particle 3"));
  }
  // infinity in the velocity gradient of every particle at step 12
  {
    SeedLoss<double> bad(12, 0, -inf);
    Tape<double, 2> tape(sc.model, Device::kCpu);
    const std::string msg = error_of([&] { tape.forward(sc.state, kSteps, {&bad, &fine}); });
    INFO(msg);
    CHECK(contains(msg, "loss"));
    CHECK(contains(msg, "step 12"));
    CHECK(contains(msg, "not finite"));
  }
  // a NaN value: the message names the loss
  {
    SeedLoss<double> bad(7, 0, 0, -1, nan);
    Tape<double, 2> tape(sc.model, Device::kCpu);
    const std::string msg = error_of([&] { tape.forward(sc.state, kSteps, {&bad}); });
    INFO(msg);
    CHECK(contains(msg, "seed loss at step 7"));
  }
}

TEST_CASE("backward faults: an adjoint that overflows in a stage names the step and the stage") {
  auto sc = scene<double>();
  // a finite seed of 1e308 on one particle's velocity at step 10 reaches the grid in step 9, whose grid
  // update adjoint divides by node masses (a fraction of a kilogram at the block's edge) and overflows
  SeedLoss<double> huge(10, 0, 1e308, 0);
  Tape<double, 2> tape(sc.model, Device::kCpu);
  CHECK(tape.forward(sc.state, kSteps, {&huge}) == 1.0);
  const std::string msg = error_of([&] { tape.backward(); });
  INFO(msg);
  CHECK(contains(msg, "backward pass"));
  CHECK(contains(msg, "NaN or infinity"));
  CHECK(contains(msg, "at step 9"));
  CHECK(contains(msg, "stage grid_update"));
  CHECK(contains(msg, "nothing was zeroed"));
  // the same on a second call: the failed pass left nothing behind that hides the fault
  CHECK(error_of([&] { tape.backward(); }) == msg);
}

TEST_CASE("backward faults: a parameter adjoint that overflows names the step and the parameters") {
  auto sc = scene<double>();
  // 1e308 on every particle's velocity at the end: gravity's adjoint sums them over nodes and overflows
  SeedLoss<double> huge(kSteps, 0, 1e308);
  Tape<double, 2> tape(sc.model, Device::kCpu);
  tape.forward(sc.state, kSteps, {&huge});
  const std::string msg = error_of([&] { tape.backward(); });
  INFO(msg);
  CHECK(contains(msg, "backward pass"));
  CHECK(contains(msg, "gravity"));
  CHECK(contains(msg, "at step 19"));
}

TEST_CASE("backward faults: seeds near the top of the range give the exactly scaled gradient or throw") {
  // the adjoints are linear in the loss's gradient and scaling by 2^k is exact in floating point, so a seed
  // scaled by 2^k must give the gradient scaled by 2^k bit for bit: anything clamped or zeroed would show
  auto sc = scene<double>();
  SeedLoss<double> a(10, 0.3, -0.7), b(kSteps, 1.1, 1.6);
  Tape<double, 2> tape(sc.model, Device::kCpu);
  tape.forward(sc.state, kSteps, {&a, &b});
  const Gradients<double, 2> g = tape.backward();
  int exact = 0, threw = 0;
  for (int k = 1000; k <= 1023; ++k) {
    INFO("seed scaled by 2^" << k);
    SeedLoss<double> A(10, std::ldexp(0.3, k), std::ldexp(-0.7, k)),
        B(kSteps, std::ldexp(1.1, k), std::ldexp(1.6, k));
    tape.forward(sc.state, kSteps, {&A, &B});
    Gradients<double, 2> G;
    try {
      G = tape.backward();
    } catch (const Error& e) {
      INFO(std::string(e.what()));
      CHECK(contains(e.what(), "backward pass"));
      CHECK(contains(e.what(), "step"));
      ++threw;
      continue;
    }
    ++exact;
    auto scaled = [&](const std::vector<double>& small, const std::vector<double>& big) {
      if (small.size() != big.size()) return false;
      for (size_t i = 0; i < small.size(); ++i)
        if (std::ldexp(small[i], k) != big[i]) return false;
      return true;
    };
    CHECK(scaled(g.x, G.x));
    CHECK(scaled(g.v, G.v));
    CHECK(scaled(g.C, G.C));
    CHECK(scaled(g.F, G.F));
    CHECK(scaled(g.mass, G.mass));
    CHECK(scaled(g.material[0], G.material[0]));
    CHECK(
        scaled({g.gravity[0], g.gravity[1], g.wall_friction}, {G.gravity[0], G.gravity[1], G.wall_friction}));
  }
  CHECK(exact > 0);  // 2^1000 fits
  CHECK(threw > 0);  // 2^1023 does not (gravity's adjoint overflows)
}

TEST_CASE("backward faults: a loss gradient that overflows where it is added still throws") {
  // double: seeds on particle 0's position of 3e307 at step 11 and 1.75e308 at step 10; the first passes
  // through step 10's stages finite (alone it gives a finite gradient) and its sum with the second overflows
  {
    auto sc = scene<double>();
    SeedLoss<double> a(10, 1.75e308, 0, 0), b(11, 3e307, 0, 0);
    Tape<double, 2> tape(sc.model, Device::kCpu);
    tape.forward(sc.state, kSteps, {&a, &b});
    const std::string msg = error_of([&] { tape.backward(); });
    INFO(msg);
    CHECK(contains(msg, "backward pass"));
    CHECK(contains(msg, "step 10"));
    // the step-11 seed alone is carried through
    SeedLoss<double> alone(11, 3e307, 0, 0);
    tape.forward(sc.state, kSteps, {&alone});
    const Gradients<double, 2> g = tape.backward();
    CHECK(g.x[0] > 1e307);
    CHECK(std::isfinite(g.x[0]));
  }
  // float: a seed of 1e39, finite in double but beyond float's range
  {
    auto sc = scene<float>();
    SeedLoss<float> a(10, 0, 1e39);
    Tape<float, 2> tape(sc.model, Device::kCpu);
    const std::string msg = error_of([&] {
      tape.forward(sc.state, kSteps, {&a});
      tape.backward();
    });
    INFO(msg);
    CHECK(contains(msg, "step 10"));
  }
}

// An overflow where a loss gradient enters is named as the loss gradient's (double), and a loss gradient a
// float tape cannot hold stops the forward pass naming the loss.
TEST_CASE("backward faults: an overflowing loss gradient is named as such") {
  auto sc = scene<double>();
  SeedLoss<double> a(10, 1.75e308, 0, 0), b(11, 3e307, 0, 0);
  Tape<double, 2> tape(sc.model, Device::kCpu);
  tape.forward(sc.state, kSteps, {&a, &b});
  const std::string msg = error_of([&] { tape.backward(); });
  INFO(msg);
  CHECK(contains(msg, "step 10"));
  CHECK(!contains(msg, "did not reproduce"));
  CHECK(!contains(msg, "grid_update"));  // see the next test
  auto sf = scene<float>();
  SeedLoss<float> f(10, 0, 1e39);
  Tape<float, 2> ftape(sf.model, Device::kCpu);
  const std::string fmsg = error_of([&] {
    ftape.forward(sf.state, kSteps, {&f});
    ftape.backward();
  });
  INFO(fmsg);
  CHECK(contains(fmsg, "seed loss at step 10"));
  CHECK(!contains(fmsg, "did not reproduce"));
  CHECK(!contains(fmsg, "grid_update"));
}

// The stage-by-stage rerun checks whole node arrays, so it must not see what an earlier pass left outside the
// nodes this step touches (the CPU backend works only inside that box).
TEST_CASE("backward faults: a fault is located without what an earlier pass left in the grid") {
  auto sc = scene<double>();
  auto shifted = [&](double dx) {
    State<double, 2> s = sc.state;
    for (int p = 0; p < s.n; ++p) s.x[p] += dx;
    return s;
  };
  // the fault of the test above, with the block on the right of the domain, on a fresh tape
  const State<double, 2> left = shifted(-0.25), right = shifted(0.3);
  SeedLoss<double> a(10, 1.75e308, 0, 0), b(11, 3e307, 0, 0);
  Tape<double, 2> fresh(sc.model, Device::kCpu);
  fresh.forward(right, kSteps, {&a, &b});
  const std::string expected = error_of([&] { fresh.backward(); });
  // the same on a tape whose previous pass, with the block on the left, overflowed in the grid there
  SeedLoss<double> huge(10, 0, 1e308, 0);
  Tape<double, 2> reused(sc.model, Device::kCpu);
  reused.forward(left, kSteps, {&huge});
  CHECK_THROWS_AS(reused.backward(), Error);
  reused.forward(right, kSteps, {&a, &b});
  const std::string msg = error_of([&] { reused.backward(); });
  INFO(msg);
  CHECK(msg == expected);
  CHECK(!contains(msg, "grid_update"));
}
