// Gradients of whole robot episodes (in the air the objectives score one leg: the actuators cannot move the
// whole robot's centre of mass there) (controller parameters, co-designed stiffness and actuator strength)
// against central differences of the episode's loss, in double precision; sqrt(T) checkpointing giving the
// same gradient as storing every step.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "core/control/robot_training.h"
#include "core/scene.h"
#include "tests/robots/robot_scenes.h"

namespace ductile {

namespace {

struct Episode2D {
  SceneData<double, 2> data;
  RobotScene<double, 2> robot;
  std::unique_ptr<Controller> controller;
  std::unique_ptr<RobotTrainer<double, 2>> trainer;

  Episode2D(const std::string& json, int64_t steps, const std::string& policy = "all") {
    SceneDocument doc = load_scene_text(json, ".");
    data = build_scene<double, 2>(doc);
    robot = build_robot<double, 2>(doc, data);
    ControllerContext ctx;
    ctx.actuators = int(robot.setup.strength.size());
    ctx.dim = 2;
    ctx.dt = data.model.dt;
    ctx.steps = steps;
    ctx.origin.com = {0.3, 0.13, 0};
    ctx.seed = 3;
    controller = ControllerRegistry::instance().make(robot.controller, ctx, "/controller");
    trainer = std::make_unique<RobotTrainer<double, 2>>(data, robot, *controller, Device::kCpu,
                                                        CheckpointPolicy::parse(policy, "test"), steps);
  }

  // Checks d loss / du at `entries` against central differences with step h.
  void check(const std::vector<int>& entries, double h, double tol) {
    std::vector<double> u = trainer->u_now(), g;
    trainer->evaluate(u, {0}, &g);
    for (int i : entries) {
      std::vector<double> up = u, um = u;
      up[size_t(i)] += h, um[size_t(i)] -= h;
      const double fd = (trainer->evaluate(up, {0}, nullptr) - trainer->evaluate(um, {0}, nullptr)) / (2 * h);
      CAPTURE(i);
      CHECK(g[size_t(i)] == doctest::Approx(fd).epsilon(tol).scale(1e-9));
    }
    trainer->apply(u);
  }
};

const char* kSinusoid = R"({"type": "sinusoid", "frequency": 4, "waves": 3, "init": 0.8, "seed": 2})";

// The walker lifted by 0.2 m, so that it does not reach the floor in the tests' steps, or lowered by 0.03 m
// to stand on it.
std::string walker(const std::string& controller, const std::string& objective, bool on_floor,
                   const std::string& extra = "") {
  std::string s = test::tiny_walker_2d(controller, objective, extra);
  const char* lifted[][2] = {{"[0.3, 0.16]", "[0.3, 0.36]"},
                             {"[0.23, 0.1]", "[0.23, 0.3]"},
                             {"[0.37, 0.1]", "[0.37, 0.3]"},
                             {"[0.2, 0.13]", "[0.2, 0.33]"},
                             {"[0.4, 0.2]", "[0.4, 0.4]"}};
  const char* lowered[][2] = {{"[0.3, 0.16]", "[0.3, 0.13]"},
                              {"[0.23, 0.1]", "[0.23, 0.07]"},
                              {"[0.37, 0.1]", "[0.37, 0.07]"},
                              {"[0.2, 0.13]", "[0.2, 0.10]"},
                              {"[0.4, 0.2]", "[0.4, 0.17]"}};
  for (int k = 0; k < 5; ++k) {
    const char* const* m = on_floor ? lowered[k] : lifted[k];
    s.replace(s.find(m[0]), std::string(m[0]).size(), m[1]);
  }
  return s;
}

}  // namespace

TEST_CASE("robots: sinusoid controller gradient of a 2D episode in the air matches central differences") {
  Episode2D e(walker(kSinusoid,
                     R"({"type": "travel", "direction": [1, 0], "effort": 0.01, "body": ["front"]})", false),
              60);
  e.check({0, 1, 2, 4, 7, 9, 10, 11}, 1e-6, 1e-6);
}

TEST_CASE("robots: 2D episode on the floor with friction, objectives reach and jump") {
  for (const char* objective : {R"({"type": "reach", "target": [0.5, 0.2]})", R"({"type": "jump"})",
                                R"({"type": "velocity", "target": [0.3, 0], "from": 0.5})"}) {
    INFO("objective := " << std::string(objective));
    Episode2D e(walker(kSinusoid, objective, true), 50);
    e.check({0, 3, 6, 9, 11}, 1e-6, 1e-5);
  }
}

TEST_CASE("robots: co-designed stiffness and actuator strength gradients match central differences") {
  const std::string extra = R"(,
  "optimize": {"wrt": ["materials/rubber/E", "actuators/spine/strength", "actuators/back/strength"]})";
  Episode2D e(
      walker(kSinusoid, R"({"type": "travel", "direction": [1, 0], "body": ["front"]})", false, extra), 50);
  const int n = e.trainer->size();
  CHECK(e.trainer->codesign_names().size() == 3);
  e.check({n - 3, n - 2, n - 1}, 1e-6, 1e-6);
}

TEST_CASE("robots: open-loop controller gradient, and sqrt(T) checkpoints give the stored-all gradient") {
  const std::string c = R"({"type": "open_loop", "interval": 10})";
  const std::string json =
      walker(c, R"({"type": "travel", "direction": [1, 0], "effort": 0.05, "body": ["back"]})", false);
  Episode2D all(json, 40, "all"), sq(json, 40, "sqrt");
  std::vector<double> u = all.trainer->u_now();
  for (size_t i = 0; i < u.size(); ++i) u[i] = 0.7 * std::sin(double(i) + 1);
  all.trainer->apply(u);
  all.check({0, 1, 2, 5, 8, 11}, 1e-6, 1e-6);
  std::vector<double> ga, gs;
  const double la = all.trainer->evaluate(u, {0}, &ga), ls = sq.trainer->evaluate(u, {0}, &gs);
  CHECK(la == ls);
  CHECK(ga == gs);
}

TEST_CASE("robots: closed-loop network controller gradient through the observed state") {
  if (!ControllerRegistry::instance().has("network")) {
    MESSAGE("skipped: this build has no LibTorch");
    return;
  }
  const std::string c =
      R"({"type": "network", "hidden": [6], "activation": "sin", "waves": 2, "length_scale": 0.05,
          "speed_scale": 0.2, "inputs": ["clock", "com", "velocity"], "seed": 4})";
  Episode2D e(walker(c, R"({"type": "reach", "target": [0.5, 0.4], "body": ["front"]})", false), 40);
  // its gradients are small (1e-6): h = 1e-4 keeps the difference's round-off (1e-16 |loss| / h) below 1e-6
  e.check({0, 5, 11, 17, 23, 30, e.trainer->size() - 1}, 1e-4, 1e-6);
}

}  // namespace ductile
