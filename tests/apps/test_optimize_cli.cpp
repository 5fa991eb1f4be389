// `ductile optimize` run as a process: a tiny 2D robot improves its objective within a few iterations and
// writes its outputs; an interrupted run resumes to the same iterates; the baselines run; bad requests are
// refused naming what is wrong.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <string>

#include "apps/run_cli.h"
#include "hardening/process.h"
#include "io/temp_dir.h"
#include "robots/robot_scenes.h"

using namespace ductile;
using ductile::test::Result;
using ductile::test::run_ductile;

namespace {

// The tiny walker on the floor, 0.12 s episodes, a sinusoid controller trained to move along +x.
std::string tiny_robot() {
  std::string s =
      test::tiny_walker_2d(R"({"type": "sinusoid", "frequency": 8, "waves": 4, "init": 0.3, "seed": 1})",
                           R"({"type": "travel", "direction": [1, 0]})",
                           R"(,
  "optimize": {"iterations": 6, "lr": 0.1, "frames": 12})");
  // stand on the floor (walls 3 cells thick: y = 0.094)
  for (const auto& [a, b] : {std::pair<std::string, std::string>{"[0.3, 0.16]", "[0.3, 0.19]"},
                             {"[0.23, 0.1]", "[0.23, 0.13]"},
                             {"[0.37, 0.1]", "[0.37, 0.13]"},
                             {"[0.2, 0.13]", "[0.2, 0.16]"},
                             {"[0.4, 0.2]", "[0.4, 0.23]"}})
    s.replace(s.find(a), a.size(), b);
  return s;
}

std::string read(const std::string& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("optimize: a tiny 2D robot travels farther after a few Adam iterations, and writes its outputs") {
  test::TempDir dir;
  test::write_text(dir.file("robot.json"), tiny_robot());
  const Result r = run_ductile(dir, "optimize robot.json --out run -q");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  const double first = j["first"]["metric"].get<double>(), last = j["last"]["metric"].get<double>();
  MESSAGE("distance " << first << " m -> " << last << " m");
  CHECK(last > first);
  CHECK(j["last"]["loss"].get<double>() < j["first"]["loss"].get<double>());
  for (const char* f :
       {"history.csv", "loss.svg", "controller.json", "optimize_state.json", "summary.json",
        "rollout/particles/frame_00000.ply", "rollout/particles/frame_00012.ply", "rollout/scene.json"})
    CHECK_MESSAGE(std::filesystem::exists(dir.file(std::string("run/") + f)), f);
  // the rollout is the trained controller's episode: its metric is the last iterate's (Adam reports the
  // metric at the iterate it ends on)
  CHECK(j["rollout"]["metric"].get<double>() == doctest::Approx(last).epsilon(1e-9));
  // the controller reloads: zero iterations from it give the same rollout
  const Result again =
      run_ductile(dir, "optimize robot.json --out again --iterations 0 --controller run/controller.json -q");
  REQUIRE(again.code == 0);
  CHECK(nlohmann::json::parse(again.out)["rollout"]["metric"].get<double>() ==
        doctest::Approx(j["rollout"]["metric"].get<double>()).epsilon(1e-12));
}

TEST_CASE("optimize --resume continues an interrupted run to the same iterates") {
  test::TempDir dir;
  test::write_text(dir.file("robot.json"), tiny_robot());
  REQUIRE(run_ductile(dir, "optimize robot.json --out full --iterations 4 --no-rollout -q").code == 0);
  REQUIRE(run_ductile(dir, "optimize robot.json --out part --iterations 2 --no-rollout -q").code == 0);
  const Result r = run_ductile(dir, "optimize robot.json --out part --iterations 4 --no-rollout --resume -q");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(read(dir.file("part/history.csv")) == read(dir.file("full/history.csv")));
  CHECK(read(dir.file("part/controller.json")) == read(dir.file("full/controller.json")));
}

TEST_CASE(
    "optimize: killed (SIGKILL) or interrupted (SIGINT) mid-run, --resume ends where an uninterrupted run "
    "does") {
  test::TempDir dir;
  test::write_text(dir.file("robot.json"), tiny_robot());
  REQUIRE(run_ductile(dir, "optimize robot.json --out full --iterations 5 --no-rollout -q").code == 0);
  // a history with at least two rows exists once two iterations have been saved
  auto rows = [&](const std::string& d) {
    const std::string t = test::read_text(dir.file(d + "/history.csv"));
    return std::count(t.begin(), t.end(), '\n');
  };
  for (int sig : {SIGKILL, SIGINT}) {
    const std::string out = sig == SIGKILL ? "killed" : "interrupted";
    const pid_t pid = test::spawn_ductile(
        dir, {"optimize", "robot.json", "--out", out, "--iterations", "5", "--no-rollout", "-q"});
    REQUIRE(test::wait_until(
        [&] { return std::filesystem::exists(dir.file(out + "/history.csv")) && rows(out) >= 3; }, pid));
    const int status = test::stop(pid, sig);
    if (sig == SIGINT && WIFEXITED(status)) CHECK(WEXITSTATUS(status) == 130);
    const Result r =
        run_ductile(dir, "optimize robot.json --out " + out + " --iterations 5 --no-rollout --resume -q");
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    CHECK(read(dir.file(out + "/history.csv")) == read(dir.file("full/history.csv")));
  }
}

TEST_CASE("optimize: random search and CMA-ES baselines run and keep their best rollout") {
  test::TempDir dir;
  test::write_text(dir.file("robot.json"), tiny_robot());
  for (const char* m : {"random", "cmaes"}) {
    const Result r = run_ductile(dir, std::string("optimize robot.json --out ") + m + " --method " + m +
                                          " --iterations 8 --no-rollout -q");
    INFO("stderr: " << r.err);
    REQUIRE(r.code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["simulated_steps"].get<int64_t>() >= 8 * 120);
  }
  // a baseline resumes too: 4 rollouts, then 8, equals 8 at once
  REQUIRE(
      run_ductile(dir, "optimize robot.json --out r4 --method random --iterations 4 --no-rollout -q").code ==
      0);
  REQUIRE(
      run_ductile(dir, "optimize robot.json --out r4 --method random --iterations 8 --no-rollout --resume -q")
          .code == 0);
  CHECK(read(dir.file("r4/history.csv")) == read(dir.file("random/history.csv")));
}

TEST_CASE("optimize refuses bad requests naming what is wrong") {
  test::TempDir dir;
  test::write_text(dir.file("robot.json"), tiny_robot());
  auto fails_with = [&](const std::string& args, const std::string& what) {
    const Result r = run_ductile(dir, args);
    INFO("stderr: " << r.err);
    CHECK(r.code == 1);
    CHECK(r.err.find(what) != std::string::npos);
  };
  fails_with("optimize missing.json", "no such scene file");
  fails_with("optimize robot.json --set actuators.0.object=tail", "/actuators/0/object");
  fails_with("optimize robot.json --set controller.type=pid", "/controller/type");
  fails_with("optimize robot.json --set objective.type=fly", "/objective/type");
  fails_with(
      "optimize robot.json --set 'actuators.2.box.min=[0.9,0.9]' --set 'actuators.2.box.max=[0.95,0.95]'",
      "/actuators/2");
  fails_with("optimize robot.json --set 'optimize.wrt=[\"materials/rubber/E\",\"gravity\"]'",
             "/optimize/wrt");
  test::write_text(dir.file("bad_controller.json"), R"({"type": "open_loop", "parameters": [1, 2]})");
  fails_with("optimize robot.json --controller bad_controller.json", "bad_controller.json");
  // a scene without actuators
  test::write_text(dir.file("plain.json"), R"({"format": 1, "dimension": 2,
    "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.05}, "time": {"dt": 1e-3, "frame_dt": 0.01, "frames": 1},
    "materials": [{"name": "m", "model": "fixed_corotated", "E": 1e3, "nu": 0.3, "density": 1000}],
    "objects": [{"name": "o", "material": "m", "shape": {"type": "box", "center": [0.5, 0.5], "size": [0.1, 0.1]}}]})");
  fails_with("optimize plain.json", "has no 'actuators'");
  test::write_text(dir.file("orphan.json"), R"({"format": 1, "dimension": 2,
    "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.05}, "time": {"dt": 1e-3, "frame_dt": 0.01, "frames": 1},
    "materials": [{"name": "m", "model": "fixed_corotated", "E": 1e3, "nu": 0.3, "density": 1000}],
    "objects": [{"name": "o", "material": "m", "shape": {"type": "box", "center": [0.5, 0.5], "size": [0.1, 0.1]}}],
    "controller": {"type": "sinusoid"}})");
  fails_with("optimize orphan.json", "/controller");
}
