// `ductile render`, `simulate --preview`, Gaussian-splat objects and mesh outputs, run as processes.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "apps/run_cli.h"
#include "core/io/gaussian_splats.h"
#include "core/io/ply.h"
#include "core/io/png.h"
#include "core/io/vdb_mesh.h"
#include "core/render/video.h"
#include "io/temp_dir.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace ductile;
using ductile::test::run_ductile;

namespace {

// A 2D jelly block falling onto a sphere collider, 2 frames.
const char* kScene2d = R"json({
  "format": 1, "name": "tiny", "dimension": 2,
  "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.05},
  "time": {"dt": 1e-3, "frame_dt": 0.01, "frames": 2},
  "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 1e4, "nu": 0.3, "density": 1000}],
  "objects": [{"name": "block", "material": "jelly", "velocity": [0, -1],
               "shape": {"type": "box", "center": [0.5, 0.6], "size": [0.2, 0.2]}}],
  "colliders": [{"type": "sphere", "center": [0.5, 0.2], "radius": 0.1}]
})json";

// The number of pixels that differ from the top-left one (an image of one colour has none).
int varied_pixels(const io::Rgb8Image& img) {
  int n = 0;
  for (size_t k = 0; k < img.rgb.size(); k += 3)
    n += img.rgb[k] != img.rgb[0] || img.rgb[k + 1] != img.rgb[1] || img.rgb[k + 2] != img.rgb[2];
  return n;
}

}  // namespace

TEST_CASE("render CLI: a missing run directory or one without frames is an error naming it") {
  test::TempDir dir;
  auto r = run_ductile(dir, "render nowhere");
  CHECK(r.code != 0);
  CHECK(r.err.find("nowhere: no such run directory") != std::string::npos);
  fs::create_directories(dir.path() / "empty");
  r = run_ductile(dir, "render empty");
  CHECK(r.code != 0);
  CHECK(r.err.find("has no scene.json") != std::string::npos);
}

TEST_CASE("simulate --preview renders every frame, render redraws a run coloured by speed") {
  test::TempDir dir;
  test::write_text(dir.file("scene.json"), kScene2d);
  auto r = run_ductile(dir, "simulate scene.json --out run --preview --quiet");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  for (int f = 0; f <= 2; ++f) {
    const std::string png = dir.file("run/render/frame_0000" + std::to_string(f) + ".png");
    REQUIRE(fs::exists(png));
    const io::Rgb8Image img = io::read_png(png);
    CHECK(img.width == 960);
    CHECK(varied_pixels(img) > 1000);
  }
  if (render::ffmpeg_available()) CHECK(fs::file_size(dir.file("run/render/video.mp4")) > 1000);
  r = run_ductile(dir, "render run --out pictures --color speed --width 64 --height 48 --no-video");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(r.out.find("wrote 3 PNG frame(s) of 64x48") != std::string::npos);
  const io::Rgb8Image first = io::read_png(dir.file("pictures/frame_00000.png"));
  CHECK(first.width == 64);
  CHECK(first.height == 48);
  CHECK(varied_pixels(first) > 100);
  r = run_ductile(dir, "render run --color stress --no-video");
  CHECK(r.code != 0);
  CHECK(r.err.find("has no 'F00' column: colouring by stress needs frames written with the scene's "
                   "outputs.state = true") != std::string::npos);
}

TEST_CASE("simulate: a Gaussian-splat object writes deformed splats and surface meshes per frame" *
          doctest::skip(!test::have_openvdb())) {
  test::TempDir dir;
  const std::string asset = std::string(DUCTILE_SOURCE_DIR) + "/assets/splats/jelly_bean.ply";
  const std::string scene = R"json({
    "format": 1, "name": "bean", "dimension": 3,
    "domain": {"min": [0, 0, 0], "max": [0.6, 0.6, 0.6], "dx": 0.04},
    "time": {"frame_dt": 0.01, "frames": 1},
    "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 2e4, "nu": 0.3, "density": 1000}],
    "objects": [{"name": "bean", "material": "jelly", "velocity": [0, -1, 0],
                 "shape": {"type": "gaussians", "file": ")json" +
                            asset + R"json(", "translate": [0.3, 0.3, 0.3]}}],
    "outputs": {"mesh": true}
  })json";
  test::write_text(dir.file("scene.json"), scene);
  auto r = run_ductile(dir, "simulate scene.json --out run --quiet");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const io::PointTable src = io::read_gaussians(asset);
  const io::PointTable out = io::read_gaussians(dir.file("run/splats/frame_00001.ply"));
  CHECK(out.count == src.count);
  CHECK(out.names == src.names);
  // moved down by about v t = 1 cm, colours unchanged
  const int y = out.column("y"), c = out.column("f_dc_0");
  CHECK(out.at(0, y) < src.at(0, y) + 0.3f - 0.005f);
  CHECK(out.at(7, c) == src.at(7, c));
  const io::SurfaceMesh m = io::read_obj(dir.file("run/meshes/frame_00001.obj"));
  CHECK(m.vertices.size() > 300);
  // a broken splat file: the error names the scene key and the file's problem
  test::write_text(dir.file("bad.ply"),
                   "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n1\n");
  std::string bad = scene;
  bad.replace(bad.find(asset), asset.size(), dir.file("bad.ply"));
  test::write_text(dir.file("bad.json"), bad);
  r = run_ductile(dir, "simulate bad.json --out bad --quiet");
  CHECK(r.code == 1);
  CHECK(r.err.find("/objects/0/shape/file: " + dir.file("bad.ply") + ": not a 3D Gaussian splat PLY") !=
        std::string::npos);
  CHECK(!fs::exists(dir.file("bad")));
}
