// `ductile fit` run as a process: recovers a stiffness from frames of `simulate`, writes its outputs, resumes
// an interrupted fit to the same result, and refuses bad requests.
#include <doctest/doctest.h>

#include <string>

#include "apps/run_cli.h"
#include "apps/throw_scene.h"
#include "io/temp_dir.h"

using namespace ductile;
using ductile::test::Result;
using ductile::test::run_ductile;

namespace {

// The shared 2D jelly throw (tests/apps/throw_scene.h).
const std::string kScene = test::throw_scene();

}  // namespace

TEST_CASE("fit recovers E from simulated frames and writes its outputs") {
  test::TempDir dir;
  test::write_text(dir.file("throw.json"), kScene);
  REQUIRE(run_ductile(dir, "simulate throw.json --out truth --set materials.jelly.E=8e3 -q").code == 0);
  const Result r = run_ductile(dir, "fit throw.json --observed truth --out fit --iterations 20 -q");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  // from 4x away to well within 2% (the truth came from the float simulator, the fit runs the double tape)
  CHECK(j["values"]["materials/jelly/E"].get<double>() == doctest::Approx(8e3).epsilon(0.02));
  const auto fitted = test::read_json(dir.file("fit/fitted_scene.json"));
  CHECK(fitted["materials"][0]["E"].get<double>() == doctest::Approx(8e3).epsilon(0.02));
  CHECK(test::read_text(dir.file("fit/history.csv"))
            .rfind("iteration,evaluations,loss,gradient_norm,materials/jelly/E", 0) == 0);
  CHECK(test::read_text(dir.file("fit/loss.svg")).find("<polyline") != std::string::npos);
}

TEST_CASE("fit --resume continues an interrupted fit to the same iterates") {
  test::TempDir dir;
  test::write_text(dir.file("throw.json"), kScene);
  REQUIRE(run_ductile(dir, "simulate throw.json --out truth --set materials.jelly.E=8e3 -q").code == 0);
  REQUIRE(run_ductile(dir, "fit throw.json --observed truth --out whole --iterations 5 -q").code == 0);
  REQUIRE(run_ductile(dir, "fit throw.json --observed truth --out parts --iterations 2 -q").code == 0);
  const Result r = run_ductile(dir, "fit throw.json --observed truth --out parts --iterations 5 --resume -q");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(test::read_text(dir.file("parts/history.csv")) == test::read_text(dir.file("whole/history.csv")));
}

TEST_CASE("fit grows its window of frames, and resumes across a growth to the same iterates") {
  test::TempDir dir;
  test::write_text(dir.file("throw.json"), kScene);
  REQUIRE(run_ductile(dir, "simulate throw.json --out truth --set materials.jelly.E=8e3 -q").code == 0);
  const std::string args =
      "fit throw.json --observed truth --optimizer adam --lr 0.2 --lr-decay 0.95 --window 3 "
      "--grow-every 2";
  const Result whole = run_ductile(dir, args + " --out whole --iterations 5");
  INFO("stderr: " << whole.err);
  REQUIRE(whole.code == 0);
  // frames 1..3 for iterations 0-1, 1..6 for 2-3, 1..8 (all) from 4
  CHECK(whole.err.find("window: frames 1..6") != std::string::npos);
  CHECK(whole.err.find("window: frames 1..8") != std::string::npos);
  REQUIRE(run_ductile(dir, args + " --out parts --iterations 3 -q").code == 0);
  REQUIRE(run_ductile(dir, args + " --out parts --iterations 5 --resume -q").code == 0);
  CHECK(test::read_text(dir.file("parts/history.csv")) == test::read_text(dir.file("whole/history.csv")));
}

TEST_CASE("fit refuses bad requests naming what is wrong") {
  test::TempDir dir;
  test::write_text(dir.file("throw.json"), kScene);
  REQUIRE(run_ductile(dir, "simulate throw.json --out truth --frames 2 -q").code == 0);
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"fit throw.json --observed nowhere", "nowhere: no such file or directory"},
      {"fit throw.json --observed truth --param materials/jelly/G", "has no parameter 'G'"},
      {"fit throw.json --observed truth --param materials/jelly/E:cubic",
       "the scale must be log, linear or auto"},
      {"fit throw.json --observed truth --param materials/jelly/E:log:5", "give both MIN and MAX"},
      {"fit throw.json --observed truth --param objects/block/angular_velocity",
       "has no single value to fit"},
      {"fit throw.json --observed truth --frames 1 --every 2", "no observed frame between 1 and 1"},
  };
  for (const auto& c : cases) {
    const Result r = run_ductile(dir, c.args + " --out f -q");
    INFO(c.args << " -> " << r.err);
    CHECK(r.code == 1);
    CHECK(r.err.find(c.expect) != std::string::npos);
  }
}

#ifdef DUCTILE_WITH_TORCH
TEST_CASE("fit trains a neural material's weights, saves them, and the fitted scene runs") {
  test::TempDir dir;
  test::write_text(dir.file("throw.json"), kScene);
  REQUIRE(run_ductile(dir, "simulate throw.json --out truth --set materials.jelly.E=8e3 -q").code == 0);
  // the same scene with a fresh (stress-free) network in place of the jelly
  std::string neural = kScene;
  const std::string jelly = R"("model": "fixed_corotated", "E": 2e3, "nu": 0.3, "density": 1000)";
  neural.replace(neural.find(jelly), jelly.size(),
                 R"("model": "neural", "density": 1000, "wave_speed": 3, "stress_scale": 8e3)");
  const std::string wrt = R"("wrt": ["materials/jelly/E"])";
  neural.replace(neural.find(wrt), wrt.size(), R"("wrt": ["materials/jelly/weights"])");
  test::write_text(dir.file("neural.json"), neural);
  const Result r = run_ductile(
      dir, "fit neural.json --observed truth --out nfit --optimizer adam --lr 0.003 --iterations 4 -q");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["weights"]["jelly"].get<std::string>() == dir.file("nfit/jelly_weights.safetensors"));
  // training lowers the loss
  const std::string h = test::read_text(dir.file("nfit/history.csv"));
  CHECK(h.rfind("iteration,evaluations,loss,gradient_norm,weights_norm", 0) == 0);
  CHECK(j["loss"].get<double>() <
        nlohmann::json::parse(test::read_text(dir.file("nfit/fit_state.json")))["history"][0]["loss"]
            .get<double>());
  const Result sim = run_ductile(dir, "simulate nfit/fitted_scene.json --out again --frames 2 -q");
  INFO("simulate: " << sim.err);
  CHECK(sim.code == 0);
}
#endif
