// The scene's optional "camera" section and Gaussian-splat shapes: defaults, checks and messages.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/render/camera.h"
#include "core/scene.h"

using namespace ductile;

namespace {

std::string scene3d(const std::string& camera) {
  return R"({"format": 1, "domain": {"min": [0, 0, 0], "max": [1, 1, 1], "dx": 0.1},
    "materials": [{"name": "m", "model": "fixed_corotated"}],
    "objects": [{"material": "m", "shape": {"type": "sphere", "center": [0.5, 0.5, 0.5], "radius": 0.2}}])" +
         camera + "}";
}

}  // namespace

TEST_CASE("scene camera: defaults filled, bad cameras refused with their pointer") {
  const SceneDocument doc =
      load_scene_text(scene3d(R"(, "camera": {"position": [2, 1, 3], "target": [0.5, 0.5, 0.5]})"), ".");
  CHECK(doc.json["camera"]["up"] == nlohmann::json::array({0, 1, 0}));
  CHECK(doc.json["camera"]["fov_deg"] == 35);
  const render::Camera c = render::camera_from_json(doc.json["camera"], 3);
  CHECK(c.position[2] == 3);
  CHECK(!load_scene_text(scene3d(""), ".").json.contains("camera"));
  CHECK_THROWS_WITH(
      load_scene_text(scene3d(R"(, "camera": {"position": [1, 1, 1], "target": [1, 1, 1]})"), "."),
      doctest::Contains("/camera/target: coincides with the camera's position"));
  CHECK_THROWS_WITH(
      load_scene_text(scene3d(R"(, "camera": {"position": [1, 2, 1], "target": [1, 1, 1], "up": [0, 1, 0]})"),
                      "."),
      doctest::Contains("/camera/up: is zero or parallel to the viewing direction"));
  CHECK_THROWS_WITH(
      load_scene_text(scene3d(R"(, "camera": {"position": [1, 2, 1], "target": [0, 0, 0], "fov": 3})"), "."),
      doctest::Contains("/camera/fov: unknown key"));
  CHECK_THROWS_WITH(
      load_scene_text(scene3d(R"(, "camera": {"position": [2, 1, 3], "target": [0, 0, 0], "fov_deg": 180})"),
                      "."),
      doctest::Contains("/camera/fov_deg"));
}

TEST_CASE("auto camera: every corner of the framed box is inside the image") {
  const double lo[3] = {0, 0, 0}, hi[3] = {2, 1, 0.5}, up[3] = {0, 1, 0};
  const render::Camera c = render::auto_camera(3, lo, hi, up, 320, 180);
  const render::View v = render::make_view(c, 320, 180);
  double closest = 1e9;  // of a corner to the 4% margin the framing keeps
  for (int m = 0; m < 8; ++m) {
    const double p[3] = {(m & 1) ? hi[0] : lo[0], (m & 2) ? hi[1] : lo[1], (m & 4) ? hi[2] : lo[2]};
    double px, py, depth;
    REQUIRE(v.project(p, px, py, depth));
    CHECK(px >= 0);
    CHECK(px <= 320);
    CHECK(py >= 0);
    CHECK(py <= 180);
    closest = std::min({closest, px - 0.04 * 320, 0.96 * 320 - px, py - 0.04 * 180, 0.96 * 180 - py});
  }
  // tight: the camera is as close as it can be, a corner touches the margin (not a box lost in the middle)
  CHECK(closest >= -1e-6);
  CHECK(closest < 1.0);
}

TEST_CASE("scene: gaussians shapes need 3D and a readable 3DGS file") {
  const std::string two =
      R"({"format": 1, "dimension": 2, "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.1},
    "materials": [{"name": "m", "model": "fixed_corotated"}],
    "objects": [{"material": "m", "shape": {"type": "gaussians", "file": "x.ply"}}]})";
  CHECK_THROWS_WITH(load_scene_text(two, "."),
                    doctest::Contains("/objects/0/shape/type: 'gaussians' shapes need a 3D scene"));
  const std::string missing = scene3d("");
  std::string m = missing;
  m.replace(m.find(R"({"type": "sphere", "center": [0.5, 0.5, 0.5], "radius": 0.2})"),
            std::string(R"({"type": "sphere", "center": [0.5, 0.5, 0.5], "radius": 0.2})").size(),
            R"({"type": "gaussians", "file": "no_such.ply"})");
  CHECK_THROWS_WITH(load_scene_text(m, "/tmp"), doctest::Contains("/objects/0/shape/file: cannot open"));
  const std::string asset = std::string(DUCTILE_SOURCE_DIR) + "/assets/splats/jelly_bean.ply";
  std::string far = missing;
  far.replace(far.find(R"({"type": "sphere", "center": [0.5, 0.5, 0.5], "radius": 0.2})"),
              std::string(R"({"type": "sphere", "center": [0.5, 0.5, 0.5], "radius": 0.2})").size(),
              R"({"type": "gaussians", "file": ")" + asset + R"(", "translate": [0.95, 0.5, 0.5]})");
  CHECK_THROWS_WITH(load_scene_text(far, "."),
                    doctest::Contains("/objects/0/shape: lies outside the domain: its x extent"));
  // inside: one particle per Gaussian, and the particles weigh density x the cells they share
  std::string ok = far;
  ok.replace(ok.find("0.95, 0.5, 0.5"), std::string("0.95, 0.5, 0.5").size(), "0.5, 0.5, 0.5");
  const SceneDocument doc = load_scene_text(ok, ".");
  const SceneData<float, 3> data = build_scene<float, 3>(doc);
  REQUIRE(data.splats.size() == 1);
  CHECK(data.state.n == int(data.splats[0].gaussians->count));
  CHECK(data.splats[0].rows.size() == data.splats[0].gaussians->count);
  double vol = 0;
  for (int p = 0; p < data.state.n; ++p) vol += data.state.vol0[p];
  // every occupied cell's volume once: between the bean's volume (1.31e-3 m^3) and its bounding box's cells
  CHECK(vol > 1.31e-3);
  CHECK(vol < 0.3 * 0.2 * 0.2 + 0.01);
}
