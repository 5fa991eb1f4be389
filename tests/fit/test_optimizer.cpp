// The fitting optimizers on known functions: convergence, bounds, failures, and an exact resume.
#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"
#include "core/optimizer.h"

using namespace ductile;

namespace {

// Rosenbrock's valley, minimum 0 at (1, 1).
double rosenbrock(const std::vector<double>& u, std::vector<double>& g) {
  const double a = 1 - u[0], b = u[1] - u[0] * u[0];
  g[0] = -2 * a - 400 * u[0] * b;
  g[1] = 200 * b;
  return a * a + 100 * b * b;
}

// A quadratic bowl centred at (3, -2) with different curvatures.
double bowl(const std::vector<double>& u, std::vector<double>& g) {
  g[0] = 2 * (u[0] - 3);
  g[1] = 20 * (u[1] + 2);
  return (u[0] - 3) * (u[0] - 3) + 10 * (u[1] + 2) * (u[1] + 2);
}

}  // namespace

TEST_CASE("optimizer: L-BFGS finds Rosenbrock's minimum") {
  OptimizerOptions o;
  o.method = "lbfgs";
  o.learning_rate = 0.5;
  Optimizer opt(o);
  opt.start({-1.2, 1.0}, rosenbrock);
  for (int i = 0; i < 200 && opt.value() > 1e-20; ++i)
    if (!opt.iterate(rosenbrock)) break;
  CHECK(opt.u()[0] == doctest::Approx(1).epsilon(1e-6));
  CHECK(opt.u()[1] == doctest::Approx(1).epsilon(1e-6));
}

TEST_CASE("optimizer: Adam converges on a bowl, with and without gradient clipping") {
  for (double clip : {0.0, 1.0}) {
    OptimizerOptions o;
    o.method = "adam";
    o.learning_rate = 0.05;
    o.grad_clip = clip;
    Optimizer opt(o);
    opt.start({0, 0}, bowl);
    for (int i = 0; i < 3000; ++i) opt.iterate(bowl);
    CHECK(opt.u()[0] == doctest::Approx(3).epsilon(1e-3));
    CHECK(opt.u()[1] == doctest::Approx(-2).epsilon(1e-3));
  }
}

TEST_CASE("optimizer: bounds hold and the constrained minimum is found") {
  OptimizerOptions o;
  o.lo = {-10, -1};  // the bowl's centre (3, -2) lies below u1 = -1
  o.hi = {2, 10};    // and beyond u0 = 2
  Optimizer opt(o);
  opt.start({0, 0}, bowl);
  for (int i = 0; i < 100; ++i)
    if (!opt.iterate(bowl)) break;
  CHECK(opt.u()[0] == doctest::Approx(2));
  CHECK(opt.u()[1] == doctest::Approx(-1));
}

TEST_CASE("optimizer: a failed evaluation makes L-BFGS step back, and a failed start is an error") {
  // the bowl, undefined beyond u0 > 3.5 (like a simulation that blows up at extreme parameters)
  int failures = 0;
  const Objective fenced = [&](const std::vector<double>& u, std::vector<double>& g) {
    if (u[0] > 3.5) {
      ++failures;
      throw ObjectiveFailure("blew up");
    }
    return bowl(u, g);
  };
  OptimizerOptions o;
  o.max_step = 100;  // let the first steps overshoot into the fence
  o.learning_rate = 100;
  Optimizer opt(o);
  opt.start({0, 0}, fenced);
  for (int i = 0; i < 50; ++i)
    if (!opt.iterate(fenced)) break;
  CHECK(failures > 0);
  CHECK(opt.u()[0] == doctest::Approx(3).epsilon(1e-6));
  Optimizer bad(o);
  CHECK_THROWS_AS(bad.start({4, 0}, fenced), Error);
}

TEST_CASE("optimizer: Adam takes back a step that cannot be evaluated and halves it (stability safeguard)") {
  int failures = 0;
  const Objective fenced = [&](const std::vector<double>& u, std::vector<double>& g) {
    if (u[0] > 3.5) {
      ++failures;
      throw ObjectiveFailure("blew up");
    }
    return bowl(u, g);
  };
  OptimizerOptions o;
  o.method = "adam";
  o.learning_rate = 2;  // Adam's first step has this length in each unknown: from u0 = 2 into the fence
  o.lr_decay = 0.99;
  Optimizer opt(o);
  opt.start({2, 0}, fenced);
  for (int i = 0; i < 1000; ++i) opt.iterate(fenced);
  CHECK(failures > 0);
  CHECK(opt.backoffs() == failures);
  CHECK(opt.u()[0] == doctest::Approx(3).epsilon(1e-3));
  CHECK(opt.u()[1] == doctest::Approx(-2).epsilon(1e-3));
  CHECK(opt.save().at("backoff").get<double>() == std::pow(0.5, failures));
  // a fence it cannot step into at any length: an error after 10 halvings, the iterate kept
  const Objective wall = [&](const std::vector<double>& u, std::vector<double>& g) {
    if (u[0] != 0) throw ObjectiveFailure("blew up");
    return bowl(u, g);
  };
  Optimizer stuck(o);
  stuck.start({0, 0}, wall);
  CHECK_THROWS_WITH_AS(stuck.iterate(wall), doctest::Contains("also after 10 halvings"), Error);
  CHECK(stuck.u() == std::vector<double>{0, 0});
}

TEST_CASE("optimizer: a saved state resumes to exactly the same iterates") {
  for (const char* method : {"lbfgs", "adam"}) {
    OptimizerOptions o;
    o.method = method;
    Optimizer a(o);
    a.start({-1.2, 1.0}, rosenbrock);
    for (int i = 0; i < 5; ++i) a.iterate(rosenbrock);
    const nlohmann::json saved = nlohmann::json::parse(a.save().dump());  // through text, as on disk
    for (int i = 0; i < 5; ++i) a.iterate(rosenbrock);
    Optimizer b(o);
    b.load(saved);
    for (int i = 0; i < 5; ++i) b.iterate(rosenbrock);
    INFO(method);
    CHECK(a.u() == b.u());
    CHECK(a.value() == b.value());
    CHECK(a.iteration() == b.iteration());
  }
}
