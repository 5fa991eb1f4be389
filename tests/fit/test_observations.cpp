// Observed motion: PLY frame directories and CSV tracks, and their errors with file and line.
#include <doctest/doctest.h>

#include "core/error.h"
#include "core/io/ply.h"
#include "core/observations.h"
#include "io/temp_dir.h"

using namespace ductile;

namespace {

std::string error_of(const std::string& path, int dim, int particles) {
  try {
    load_observations(path, dim, particles);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("observations: CSV of tracked particles and of unordered points") {
  test::TempDir dir;
  test::write_text(dir.file("tracks.csv"),
                   "frame,particle,x,y\n2,0,0.1,0.2\n2,3,0.3,0.4\n# comment\n1,1,0.5,0.6\n");
  const Observations o = load_observations(dir.file("tracks.csv"), 2, 4);
  REQUIRE(o.frames.size() == 2);
  CHECK(o.frames[0].frame == 1);
  CHECK(o.frames[1].particles == std::vector<int32_t>{0, 3});
  CHECK(o.frames[1].points == std::vector<double>{0.1, 0.2, 0.3, 0.4});
  CHECK(o.frames[1].ordered);
  test::write_text(dir.file("cloud.csv"), "frame,x,y,z\n5,1,2,3\n5,4,5,6\n");
  const Observations c = load_observations(dir.file("cloud.csv"), 3, 10);
  REQUIRE(c.frames.size() == 1);
  CHECK(!c.frames[0].ordered);
  CHECK(c.frames[0].points.size() == 6);
  // one loss per frame in range, weighted equally
  auto losses = observation_losses<double, 2>(o, 10, 2);
  REQUIRE(losses.size() == 2);
  CHECK(losses[0]->steps() == std::vector<int64_t>{10});
  CHECK(losses[1]->steps() == std::vector<int64_t>{20});
  CHECK_THROWS_AS((observation_losses<double, 2>(o, 10, 0)), Error);
}

TEST_CASE("observations: a directory of PLY frames, whole frames are ordered, others are clouds") {
  test::TempDir dir;
  io::PointTable t;
  t.names = {"x", "y", "z"};
  t.count = 2;
  t.values = {0, 1, 2, 3, 4, 5};
  std::filesystem::create_directories(dir.path() / "run" / "particles");
  io::write_ply((dir.path() / "run/particles/frame_00000.ply").string(), t);
  io::write_ply((dir.path() / "run/particles/frame_00003.ply").string(), t);
  const Observations o = load_observations(dir.file("run"), 3, 2);
  REQUIRE(o.frames.size() == 2);
  CHECK(o.frames[1].frame == 3);
  CHECK(o.frames[1].ordered);
  CHECK(!load_observations(dir.file("run"), 3, 5).frames[1].ordered);
}

TEST_CASE("observations: malformed input names the file and line") {
  test::TempDir dir;
  const int n = 4;
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"", "empty file"},
      {"frame,particle,x\n", "tracks.csv:1: expected the header 'frame,particle,x,y'"},
      {"frame,particle,x,y\n1,0,0.5\n", "tracks.csv:2: 3 values, expected 4"},
      {"frame,particle,x,y\n1,0,abc,0.5\n", "tracks.csv:2: 'abc' is not a number"},
      {"frame,particle,x,y\n1,9,0.1,0.5\n", "tracks.csv:2: particle"},
      {"frame,particle,x,y\n1.5,0,0.1,0.5\n", "tracks.csv:2: the frame must be an integer"},
      {"frame,particle,x,y\n", "no observations"},
  };
  for (const auto& c : cases) {
    test::write_text(dir.file("tracks.csv"), c.text);
    const std::string msg = error_of(dir.file("tracks.csv"), 2, n);
    INFO(c.text << " -> " << msg);
    CHECK(msg.find(c.expect) != std::string::npos);
  }
  CHECK(error_of(dir.file("missing.csv"), 2, n).find("no such file") != std::string::npos);
  std::filesystem::create_directories(dir.path() / "empty");
  CHECK(error_of(dir.file("empty"), 2, n).find("no frame_NNNNN.ply") != std::string::npos);
  test::write_text(dir.file("data.txt"), "x");
  CHECK(error_of(dir.file("data.txt"), 2, n).find("expected a directory of PLY frames or a .csv") !=
        std::string::npos);
}
