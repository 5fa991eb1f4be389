// `ductile simulate` run as a process: outputs, exit codes and messages.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/run_cli.h"
#include "core/io/ply.h"
#include "io/temp_dir.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace ductile;
using ductile::test::read_json;
using ductile::test::Result;
using ductile::test::run_ductile;

namespace {

// A 2D jelly block of 64 particles, 4 frames of 20 steps: well under a second.
const char* kTinyScene = R"json({
  "format": 1,
  "name": "tiny",
  "dimension": 2,
  "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.05},
  "time": {"dt": 1e-4, "frame_dt": 0.002, "frames": 4},
  "gravity": [0, -9.81],
  "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 1e4, "nu": 0.3, "density": 1000}],
  "objects": [{"name": "block", "material": "jelly",
               "shape": {"type": "box", "center": [0.5, 0.5], "size": [0.2, 0.2]},
               "sampling": {"ppc": 4, "method": "regular"}}]
}
)json";

// The same block in 3D with VDB volumes.
const char* kTinyScene3d = R"json({
  "format": 1,
  "name": "tiny3d",
  "dimension": 3,
  "domain": {"min": [0, 0, 0], "max": [1, 1, 1], "dx": 0.1},
  "time": {"dt": 1e-3, "frame_dt": 0.004, "frames": 2},
  "gravity": [0, -9.81, 0],
  "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 1e3, "nu": 0.3, "density": 1000}],
  "objects": [{"name": "block", "material": "jelly",
               "shape": {"type": "box", "center": [0.5, 0.5, 0.5], "size": [0.2, 0.2, 0.2]},
               "sampling": {"ppc": 8, "method": "regular"}}],
  "outputs": {"ply": true, "vdb": true}
}
)json";

}  // namespace

TEST_CASE("simulate writes every frame and a completed summary") {
  test::TempDir dir;
  test::write_text(dir.file("tiny.json"), kTinyScene);
  const Result r = run_ductile(dir, "simulate tiny.json --out run --backend cpu --threads 1");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  const fs::path out = dir.path() / "run";
  // where the frames went, as an absolute path, and the throughput
  CHECK(r.out.find((out / "particles").string()) != std::string::npos);
  CHECK(r.out.find("particle-steps/s") != std::string::npos);
  // progress goes to stderr as plain lines when it is not a terminal
  CHECK(r.err.find("frame 4/4") != std::string::npos);
  CHECK(r.err.find('\r') == std::string::npos);

  const auto s = read_json((out / "summary.json").string());
  CHECK(s["status"] == "completed");
  CHECK(s["frames"] == 5);
  CHECK(s["steps"] == 80);
  CHECK(s["particles"] == 64);
  CHECK(s["backend"] == "cpu");
  CHECK(s["threads"] == 1);
  CHECK(s["dt"].get<double>() == doctest::Approx(1e-4));
  CHECK(s["wall_seconds"].get<double>() > 0);
  CHECK(s["particle_steps_per_second"].get<double>() > 0);
  REQUIRE(s["frame_stats"].size() == 5);
  const double m0 = s["frame_stats"][0]["mass"];
  for (int f = 0; f <= 4; ++f) {
    const auto& st = s["frame_stats"][f];
    CHECK(st["frame"] == f);
    CHECK(st["time"].get<double>() == doctest::Approx(0.002 * f).epsilon(1e-4));
    CHECK(st["mass"].get<double>() == doctest::Approx(m0));
    const io::PointTable t =
        io::read_ply((out / "particles" / ("frame_0000" + std::to_string(f) + ".ply")).string());
    CHECK(t.count == 64);
  }
  // the block falls: momentum along -y grows
  CHECK(s["frame_stats"][4]["momentum"][1].get<double>() < s["frame_stats"][1]["momentum"][1].get<double>());
  CHECK(fs::exists(out / "scene.json"));
  CHECK_FALSE(fs::exists(out / "volumes"));
  // nothing but the outputs: no temporaries left behind
  for (const auto& e : fs::recursive_directory_iterator(out))
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}

TEST_CASE("simulate --frames, --set and --quiet, a rerun replaces the earlier frames") {
  test::TempDir dir;
  test::write_text(dir.file("tiny.json"), kTinyScene);
  REQUIRE(run_ductile(dir, "simulate tiny.json --out run --backend cpu --threads 1 --quiet").code == 0);
  const Result r = run_ductile(
      dir, "simulate tiny.json --out run --threads 1 --quiet --frames 2 --set outputs.every_n_frames=2");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.err.find("frame 2/2") == std::string::npos);  // quiet: no progress
  const auto s = read_json(dir.file("run/summary.json"));
  CHECK(s["frames"] == 2);  // frames 0 and 2
  CHECK(s["steps"] == 40);
  CHECK(fs::exists(dir.file("run/particles/frame_00000.ply")));
  CHECK(fs::exists(dir.file("run/particles/frame_00002.ply")));
  CHECK_FALSE(fs::exists(dir.file("run/particles/frame_00001.ply")));
  CHECK_FALSE(fs::exists(dir.file("run/particles/frame_00004.ply")));  // stale frame of the first run removed
}

TEST_CASE("simulate a 3D scene writes VDB volumes with density and velocity" *
          doctest::skip(!test::have_openvdb())) {
  test::TempDir dir;
  test::write_text(dir.file("tiny3d.json"), kTinyScene3d);
  const Result r = run_ductile(dir, "simulate tiny3d.json --backend cpu --threads 1 --quiet");
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  // default output directory: out/<scene name>
  const fs::path out = dir.path() / "out" / "tiny3d";
  CHECK(r.out.find((out / "volumes").string()) != std::string::npos);
  for (int f = 0; f <= 2; ++f) {
    CHECK(fs::exists(out / "particles" / ("frame_0000" + std::to_string(f) + ".ply")));
    CHECK(fs::file_size(out / "volumes" / ("frame_0000" + std::to_string(f) + ".vdb")) > 0);
  }
  CHECK(read_json((out / "summary.json").string())["status"] == "completed");
}

TEST_CASE("simulate rejects a malformed scene before writing anything") {
  test::TempDir dir;
  std::string bad = kTinyScene;
  bad.replace(bad.find("\"E\": 1e4"), 8, "\"E\": -5");
  test::write_text(dir.file("bad.json"), bad);
  const Result r = run_ductile(dir, "simulate bad.json --out run");
  CHECK(r.code == 1);
  CHECK(r.err.rfind("error: ", 0) == 0);
  CHECK(r.err.find("/materials/0/E") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);  // one line
  CHECK_FALSE(fs::exists(dir.file("run")));

  // a bad override, a missing file and a bad flag value are caught the same way
  test::write_text(dir.file("tiny.json"), kTinyScene);
  const Result o = run_ductile(dir, "simulate tiny.json --out run --set /materials/0/nu=0.7");
  CHECK(o.code == 1);
  CHECK(o.err.find("/materials/0/nu") != std::string::npos);
  const Result m = run_ductile(dir, "simulate missing.json --out run");
  CHECK(m.code == 1);
  CHECK(m.err.find("error: missing.json") == 0);
  const Result u = run_ductile(dir, "simulate tiny.json --out run --backend tpu");
  CHECK(u.code == 1);
  CHECK(u.err.find("error: --backend") == 0);
  CHECK_FALSE(fs::exists(dir.file("run")));
}

TEST_CASE("simulate of a scene that blows up keeps the frames written and reports the failure") {
  test::TempDir dir;
  test::write_text(dir.file("tiny.json"), kTinyScene);
  // far too stiff for the step: one 2 ms step per frame on E = 1e11 Pa (CFL bound ~2e-7 s)
  const Result r =
      run_ductile(dir,
                  "simulate tiny.json --out run --threads 1 --set time.dt=1 --set materials.jelly.E=1e11 "
                  "--set time.allow_cfl_violation=true");
  INFO("stderr: " << r.err);
  CHECK(r.code == 2);
  CHECK(r.err.find("error: ") != std::string::npos);
  CHECK(r.err.find("step") != std::string::npos);
  CHECK(r.err.find("stage") != std::string::npos);

  const auto s = read_json(dir.file("run/summary.json"));
  const std::string status = s["status"];
  CHECK(status.rfind("failed: ", 0) == 0);
  CHECK(status.find("step") != std::string::npos);
  CHECK(status.find("stage") != std::string::npos);
  // every frame the summary lists is on disk and reads back whole
  REQUIRE(s["frames"].get<int>() >= 1);
  CHECK(s["frames"].get<int>() < 5);
  for (const auto& st : s["frame_stats"]) {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%05d.ply", st["frame"].get<int>());
    const io::PointTable t = io::read_ply(dir.file(std::string("run/particles/") + name));
    CHECK(t.count == 64);
  }
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.file("run/particles"))) (void)e, ++files;
  CHECK(files == s["frames"].get<int>());
}
