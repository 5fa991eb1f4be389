// `ductile grad` run as a process: the JSON it prints, finite-difference checks, and its errors.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "apps/run_cli.h"
#include "io/temp_dir.h"

using namespace ductile;
using ductile::test::Result;
using ductile::test::run_ductile;

namespace {

// A 2D jelly block thrown at a sphere; 10 frames of 10 steps. {LOSS} is replaced by the loss section.
const std::string kScene = R"json({
  "format": 1, "name": "toss", "dimension": 2,
  "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.03125, "boundary": {"surface": "slip", "friction": 0.2}},
  "time": {"dt": 5e-4, "frame_dt": 0.005, "frames": 10},
  "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 5e3, "nu": 0.3, "density": 1000}],
  "objects": [{"name": "block", "material": "jelly", "velocity": [2, -1], "angular_velocity": 3,
               "shape": {"type": "box", "center": [0.4, 0.3], "size": [0.12, 0.1]}}],
  "colliders": [{"name": "ball", "type": "sphere", "center": [0.55, 0.2], "radius": 0.05, "surface": "slip",
                 "friction": 0.3, "motion": {"type": "constant", "velocity": [0.1, 0.2]}}]
  {LOSS}
})json";

std::string scene_with(const std::string& loss) {
  std::string s = kScene;
  s.replace(s.find("{LOSS}"), 6, loss);
  return s;
}

}  // namespace

TEST_CASE("grad prints the loss and gradients, and finite differences agree") {
  test::TempDir dir;
  test::write_text(dir.file("toss.json"),
                   scene_with(R"(, "loss": [{"type": "center_of_mass", "object": "block", "frame": 10,
                                             "target": [0.5, 0.25]}])"));
  const Result r =
      run_ductile(dir,
                  "grad toss.json --wrt materials/jelly/E,materials/jelly/density,gravity "
                  "--wrt objects/block/velocity,objects/block/angular_velocity "
                  "--wrt colliders/ball/friction --fd-check 8 --checkpoint every:7 --out g.json -q");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  const auto j = test::read_json(dir.file("g.json"));
  CHECK(j["loss"].get<double>() > 0);
  REQUIRE(j["losses"].size() == 1);
  CHECK(j["losses"][0]["value"].get<double>() == j["loss"].get<double>());
  CHECK(j["steps"] == 100);
  CHECK(j["checkpoint"]["interval"] == 7);
  CHECK(j["gradient"]["gravity"].size() == 2);
  CHECK(j["gradient"]["materials/jelly/E"].is_number());
  CHECK(j["fd_check"]["entries"].size() == 8);
  CHECK(j["fd_check"]["ok"] == true);
  CHECK(j["fd_check"]["max_relative_error"].get<double>() < 1e-4);
}

// Rotational collider parameters by name: a sticky wheel spinning under a falling block and a keyframed one
// beside it (a sphere's shape does not turn, so the loss is smooth in its rotation: no node crosses its
// surface under the differences' steps), and the list of names when the scene gives none.
TEST_CASE("grad differentiates collider rotations by name, and finite differences agree") {
  test::TempDir dir;
  test::write_text(dir.file("wheels.json"), R"json({
    "format": 1, "dimension": 2,
    "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.03125},
    "time": {"dt": 1e-3, "frame_dt": 0.01, "frames": 4},
    "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 5e3, "nu": 0.3, "density": 1000}],
    "objects": [{"name": "block", "material": "jelly", "velocity": [0, -1.5],
                 "shape": {"type": "box", "center": [0.5, 0.34], "size": [0.3, 0.1]}}],
    "colliders": [{"name": "wheel", "type": "sphere", "center": [0.4, 0.18], "radius": 0.1, "surface": "sticky",
                   "motion": {"type": "constant", "angular_velocity": 5}},
                  {"name": "roller", "type": "sphere", "center": [0.62, 0.18], "radius": 0.1,
                   "surface": "sticky", "motion": {"type": "keyframes", "keys": [{"t": 0, "position": [0.62, 0.18]},
                     {"t": 0.03, "position": [0.62, 0.18], "rotation_deg": 40}]}},
                  {"name": "paddle", "type": "box", "center": [0.2, 0.7], "size": [0.1, 0.02], "rotate_deg": 30}],
    "loss": [{"type": "center_of_mass", "object": "block", "frame": 4, "target": [0.6, 0.3]}]
  })json");
  const Result r = run_ductile(dir,
                               "grad wheels.json --wrt colliders/wheel/angular_velocity "
                               "--wrt colliders/roller/keyframes/1/rotation,colliders/paddle/rotation "
                               "--fd-check 3 --out g.json -q");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  const auto j = test::read_json(dir.file("g.json"));
  CHECK(j["gradient"]["colliders/wheel/angular_velocity"].is_number());
  CHECK(std::fabs(j["gradient"]["colliders/roller/keyframes/1/rotation"].get<double>()) > 1e-6);
  CHECK(j["gradient"]["colliders/paddle/rotation"].get<double>() == 0.0);  // far from the block
  CHECK(j["fd_check"]["entries"].size() == 3);
  CHECK(j["fd_check"]["ok"] == true);
  CHECK(j["fd_check"]["max_relative_error"].get<double>() < 1e-6);
  // every name, when the scene and --wrt give none
  const Result all = run_ductile(dir, "grad wheels.json -q");
  REQUIRE(all.code == 0);
  const auto names = nlohmann::json::parse(all.out)["gradient"];
  for (const char* n : {"colliders/wheel/angular_velocity", "colliders/roller/keyframes/0/rotation",
                        "colliders/roller/keyframes/1/rotation", "colliders/paddle/rotation"})
    CHECK_MESSAGE(names.contains(n), n);
  CHECK(!names.contains("colliders/wheel/rotation"));
}

TEST_CASE("grad fits positions to a frame written by simulate") {
  test::TempDir dir;
  // the observation: the same throw with a stiffer jelly
  test::write_text(dir.file("toss.json"), scene_with(""));
  const Result sim =
      run_ductile(dir, "simulate toss.json --out observed --set materials.jelly.E=8e3 --frames 4 --quiet");
  REQUIRE(sim.code == 0);
  test::write_text(dir.file("fit.json"), scene_with(R"(, "loss": [{"type": "positions", "object": "block",
      "frame": 4, "target": "observed/particles/frame_00004.ply"}],
      "gradient": {"wrt": ["materials/jelly/E"]})"));
  const Result r = run_ductile(dir, "grad fit.json --frames 4 --fd-check 1 -q");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  // the jelly is softer than observed: raising E lowers the loss
  CHECK(j["gradient"]["materials/jelly/E"].get<double>() < 0);
  CHECK(j["fd_check"]["ok"] == true);
}

// A wrong analytic gradient (the hidden test option --test-scale-analytic scales it by 1.001) fails the check
// with exit code 3; the same run unscaled passes.
TEST_CASE("grad --fd-check fails a wrong gradient with a non-zero exit") {
  test::TempDir dir;
  test::write_text(dir.file("toss.json"),
                   scene_with(R"(, "loss": [{"type": "center_of_mass", "object": "block", "frame": 4,
                                             "target": [0.5, 0.25]}])"));
  const std::string args =
      "grad toss.json --frames 4 --wrt objects/block/velocity,gravity --fd-check 4 -q --out g.json";
  const Result good = run_ductile(dir, args + " --test-scale-analytic 1");
  INFO("stderr: " << good.err);
  REQUIRE(good.code == 0);
  CHECK(test::read_json(dir.file("g.json"))["fd_check"]["passed"] == 4);
  const Result bad = run_ductile(dir, args + " --test-scale-analytic 1.001");
  INFO("stderr: " << bad.err);
  CHECK(bad.code == 3);
  CHECK(bad.err.find("4 of 4 entries fail") != std::string::npos);
  const auto j = test::read_json(dir.file("g.json"));
  CHECK(j["fd_check"]["ok"] == false);
  CHECK(j["fd_check"]["failed"] == 4);
  for (const auto& e : j["fd_check"]["entries"]) {
    CHECK(e["status"] == "fail");
    CHECK(e["relative_error"].get<double>() > 5e-4);
    CHECK(e["absolute_error"].get<double>() > 100 * e["uncertainty"].get<double>());
  }
}

// Two blocks far apart: the loss is dominated by one far from its target (|L| ~ 2e6), so a central difference
// at h = 1e-6 carries a round-off of ~eps |L| / h ~ 4e-4 in any entry; the other block's velocity gradient
// (~1e-2) is below that resolution: reported as such, neither passed nor failed.
TEST_CASE("grad --fd-check reports entries below the finite differences' resolution, not as failures") {
  test::TempDir dir;
  test::write_text(dir.file("two.json"), R"json({
    "format": 1, "dimension": 2,
    "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.03125},
    "time": {"dt": 5e-4, "frame_dt": 0.005, "frames": 4},
    "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 5e3, "nu": 0.3, "density": 1000}],
    "objects": [{"name": "block", "material": "jelly", "velocity": [1, 0],
                 "shape": {"type": "box", "center": [0.25, 0.5], "size": [0.1, 0.1]}},
                {"name": "pebble", "material": "jelly", "velocity": [-1, 0.5],
                 "shape": {"type": "box", "center": [0.75, 0.5], "size": [0.06, 0.06]}}],
    "loss": [{"type": "center_of_mass", "object": "block", "frame": 4, "target": [1000, 1000]},
             {"type": "center_of_mass", "object": "pebble", "frame": 4, "target": [0.7, 0.45]}]
  })json");
  const Result r = run_ductile(
      dir, "grad two.json --wrt objects/block/velocity,objects/pebble/velocity --fd-check 4 --out g.json");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("below FD resolution") != std::string::npos);
  const auto j = test::read_json(dir.file("g.json"));
  const auto& fd = j["fd_check"];
  CHECK(j["loss"].get<double>() > 1e6);
  CHECK(fd["ok"] == true);
  CHECK(fd["failed"] == 0);
  CHECK(fd["passed"] == 2);
  CHECK(fd["below_resolution"] == 2);
  CHECK(fd["max_relative_error"].get<double>() > fd["tolerance"].get<double>());  // the old check failed here
  REQUIRE(fd["entries"].size() == 4);
  for (const auto& e : fd["entries"]) {
    INFO(e.dump());
    const double a = e["analytic"].get<double>(), rel = e["relative_error"].get<double>();
    const double u = e["uncertainty"].get<double>(), roundoff = e["roundoff"].get<double>();
    CHECK(roundoff == doctest::Approx(3 * 2.220446049250313e-16 * j["loss"].get<double>() / 1e-6));
    CHECK(u >= roundoff);
    if (e["parameter"] == "objects/block/velocity") {
      CHECK(e["status"] == "pass");
      CHECK(std::fabs(a) > 1e4 * u);
    } else {
      CHECK(e["status"] == "below_resolution");
      CHECK(rel > 1e-4);
      CHECK(e["absolute_error"].get<double>() <= u);
    }
  }
  // checking only the entries below resolution verifies nothing: exit code 4, not ok
  const Result only = run_ductile(dir, "grad two.json --wrt objects/pebble/velocity --fd-check 2 -q");
  INFO("stderr: " << only.err);
  CHECK(only.code == 4);
  CHECK(only.err.find("no entry verified") != std::string::npos);
  const auto k = nlohmann::json::parse(only.out)["fd_check"];
  CHECK(k["ok"] == false);
  CHECK(k["below_resolution"] == 2);
}

TEST_CASE("grad refuses bad requests with the name of what is wrong") {
  test::TempDir dir;
  const std::string com = R"(, "loss": [{"type": "center_of_mass", "frame": 2, "target": [0.5, 0.25]}])";
  test::write_text(dir.file("noloss.json"), scene_with(""));
  test::write_text(dir.file("toss.json"), scene_with(com));
  test::write_text(dir.file("late.json"),
                   scene_with(R"(, "loss": [{"type": "center_of_mass", "frame": 11, "target": [0, 0]}])"));
  test::write_text(dir.file("count.json"),
                   scene_with(R"(, "loss": [{"type": "positions", "frame": 1, "target": [[0.1, 0.2]]}])"));
  test::write_text(
      dir.file("obj.json"),
      scene_with(R"(, "loss": [{"type": "chamfer", "object": "cube", "frame": 1, "target": [[0, 0]]}])"));
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"grad noloss.json", "declares no loss"},
      {"grad toss.json --wrt materials/rubber/E",
       "--wrt: 'materials/rubber/E': no material 'rubber' (materials: jelly)"},
      {"grad toss.json --wrt materials/jelly/Young", "has no parameter 'Young'"},
      {"grad toss.json --wrt colliders/ball/rotation",
       "'colliders/ball/rotation': a sphere has no orientation"},
      {"grad toss.json --wrt colliders/ball/keyframes/0/rotation", "the collider's motion has no keyframes"},
      {"grad toss.json --wrt colliders/ball/spin",
       "expected colliders/<collider>/velocity, angular_velocity"},
      {"grad toss.json --checkpoint sometimes", "--checkpoint: 'sometimes'"},
      {"grad toss.json --checkpoint budget:1KB", "more than the budget"},
      {"grad late.json", "/loss/0/frame"},
      {"grad count.json", "/loss/0/target: 1 target points for"},
      {"grad obj.json", "/loss/0/object: unknown object 'cube'"},
  };
  for (const auto& c : cases) {
    const Result r = run_ductile(dir, c.args + " -q");
    INFO(c.args << " -> " << r.err);
    CHECK(r.code == 1);
    CHECK(r.err.find(c.expect) != std::string::npos);
    CHECK(r.out.empty());
  }
}
