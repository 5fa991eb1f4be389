#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "core/io/summary.h"
#include "io/temp_dir.h"

using namespace ductile;

TEST_CASE("frame_stats sums mass, momentum and kinetic energy") {
  State<float, 2> s;
  s.resize(2);
  s.mass = {1.0f, 3.0f};
  s.v = {2.0f, 0.0f, /* vy */ 1.0f, -1.0f};
  s.time = 0.5;
  const io::FrameStats f = io::frame_stats(7, s);
  CHECK(f.frame == 7);
  CHECK(f.time == 0.5);
  CHECK(f.mass == 4.0);
  CHECK(f.momentum[0] == 2.0);
  CHECK(f.momentum[1] == -2.0);
  CHECK(f.momentum[2] == 0.0);
  CHECK(f.kinetic_energy == doctest::Approx(0.5 * (1 * (4 + 1)) + 0.5 * (3 * 1)));
}

TEST_CASE("summary.json holds the run's totals, status and per-frame stats") {
  test::TempDir dir;
  io::RunSummary s;
  s.scene = "scenes/x.json";
  s.backend = "cpu";
  s.threads = 2;
  s.dt = 1e-4;
  s.steps_per_frame = 10;
  s.frames_planned = 4;
  s.steps = 20;
  s.particles = 100;
  s.wall_seconds = 0.5;
  s.status = "failed: NaN at step 20, stage p2g";
  s.frames.push_back({0, 0.0, 1.0, {0, 0, -1}, 0.5});
  s.frames.push_back({1, 0.001, 1.0, {0, 0, -2}, 2.0});
  const std::string path = dir.file("summary.json");
  io::write_summary(path, s);
  const auto j = nlohmann::json::parse(test::read_text(path));
  CHECK(j["frames"] == 2);
  CHECK(j["frames_planned"] == 4);
  CHECK(j["steps"] == 20);
  CHECK(j["particles"] == 100);
  CHECK(j["wall_seconds"] == 0.5);
  CHECK(j["particle_steps_per_second"].get<double>() == doctest::Approx(4000.0));
  CHECK(j["status"] == "failed: NaN at step 20, stage p2g");
  CHECK(j["backend"] == "cpu");
  CHECK(j["threads"] == 2);
  CHECK(j["dt"] == 1e-4);
  REQUIRE(j["frame_stats"].size() == 2);
  const auto& f1 = j["frame_stats"][1];
  CHECK(f1["frame"] == 1);
  CHECK(f1["time"] == 0.001);
  CHECK(f1["mass"] == 1.0);
  CHECK(f1["momentum"] == nlohmann::json::array({0.0, 0.0, -2.0}));
  CHECK(f1["kinetic_energy"] == 2.0);

  // rewriting replaces the file as a whole
  s.status = "completed";
  io::write_summary(path, s);
  CHECK(nlohmann::json::parse(test::read_text(path))["status"] == "completed");
}
