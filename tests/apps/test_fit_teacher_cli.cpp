// `ductile fit --teacher-forcing` run as a process: frames written with outputs.state restart its windows,
// frames without F fall back to the model's own F (and say so), and bad requests are refused.
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

TEST_CASE("fit --teacher-forcing recovers E from frames with the particle state, in growing windows") {
  test::TempDir dir;
  test::write_text(dir.file("throw.json"), kScene);
  REQUIRE(run_ductile(dir,
                      "simulate throw.json --out truth --set materials.jelly.E=8e3 --set outputs.state=true "
                      "-q")
              .code == 0);
  const Result r = run_ductile(dir,
                               "fit throw.json --observed truth --out fit --teacher-forcing --window 2 "
                               "--grow-every 4 --iterations 20");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("teacher forcing: 4 windows of 2 frames") != std::string::npos);
  CHECK(r.err.find("teacher forcing: 2 windows of 4 frames") != std::string::npos);
  CHECK(r.err.find("have no F") == std::string::npos);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["values"]["materials/jelly/E"].get<double>() == doctest::Approx(8e3).epsilon(0.02));
}

TEST_CASE("fit --teacher-forcing without F in the frames starts from the model's own F and says so") {
  test::TempDir dir;
  test::write_text(dir.file("throw.json"), kScene);
  REQUIRE(run_ductile(dir, "simulate throw.json --out truth --set materials.jelly.E=8e3 -q").code == 0);
  const Result r = run_ductile(
      dir, "fit throw.json --observed truth --out fit --teacher-forcing --window 4 --iterations 12");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("note: observed frames 4 have no F") != std::string::npos);
  CHECK(nlohmann::json::parse(r.out)["values"]["materials/jelly/E"].get<double>() ==
        doctest::Approx(8e3).epsilon(0.02));
}

TEST_CASE("fit --teacher-forcing refuses requests it cannot serve") {
  test::TempDir dir;
  test::write_text(dir.file("throw.json"), kScene);
  REQUIRE(run_ductile(dir, "simulate throw.json --out truth -q").code == 0);
  test::write_text(dir.file("tracks.csv"), "frame,particle,x,y\n1,0,0.4,0.3\n2,0,0.4,0.3\n");
  struct Case {
    std::string args, expect;
  } cases[] = {
      {"--teacher-forcing", "--teacher-forcing: needs --window K"},
      {"--teacher-forcing --window 1 --observed tracks.csv",
       "tracks.csv, frame 1: teacher forcing needs every particle in order"},
  };
  for (const auto& c : cases) {
    const std::string observed = c.args.find("--observed") == std::string::npos ? " --observed truth" : "";
    const Result r = run_ductile(dir, "fit throw.json" + observed + " " + c.args + " --out f -q");
    INFO(c.args << " -> " << r.err);
    CHECK(r.code == 1);
    CHECK(r.err.find(c.expect) != std::string::npos);
  }
}
