// Scenes: `--set path=value` overrides (JSON pointer, dotted, by name) and scene files with relative paths.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/scene.h"
#include "test_util.h"

using namespace ductile;
using json = nlohmann::json;

namespace {

json scene3() {
  return json::parse(R"({
    "format": 1, "dimension": 3,
    "domain": {"min": [0, 0, 0], "max": [1, 1, 1], "dx": 0.05},
    "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 1e5, "nu": 0.2, "density": 1000},
                  {"name": "sand", "model": "fixed_corotated", "E": 3e5, "nu": 0.3, "density": 1600}],
    "objects": [{"name": "cube", "material": "jelly",
                 "shape": {"type": "box", "center": [0.5, 0.5, 0.5], "size": [0.2, 0.2, 0.2]}}]})");
}

SceneDocument load(const json& j, const std::vector<std::string>& overrides) {
  return load_scene_text(j.dump(), ".", overrides);
}

// An axis-aligned unit cube centred at the origin, as OBJ text.
const char* kCubeObj = R"(v -0.5 -0.5 -0.5
v 0.5 -0.5 -0.5
v 0.5 0.5 -0.5
v -0.5 0.5 -0.5
v -0.5 -0.5 0.5
v 0.5 -0.5 0.5
v 0.5 0.5 0.5
v -0.5 0.5 0.5
f 1 4 3 2
f 5 6 7 8
f 1 2 6 5
f 2 3 7 6
f 3 4 8 7
f 4 1 5 8
)";

}  // namespace

TEST_CASE("scene overrides: pointer, dotted and by-name paths") {
  const json j = scene3();
  CHECK(load(j, {"/materials/0/E=2e5"}).json["materials"][0]["E"] == 2e5);
  CHECK(load(j, {"materials.1.E=4e5"}).json["materials"][1]["E"] == 4e5);
  CHECK(load(j, {"materials.sand.nu=0.25"}).json["materials"][1]["nu"] == 0.25);
  CHECK(load(j, {"/materials/sand/density=1700"}).json["materials"][1]["density"] == 1700);
  CHECK(load(j, {"objects.cube.shape.size.0=0.3"}).json["objects"][0]["shape"]["size"][0] == 0.3);
  // values are JSON, or a bare string when they do not parse
  SceneDocument d =
      load(j, {"gravity=[0, 0, -9.81]", "time.dt=auto", "objects.0.name=block", "outputs.state=true"});
  CHECK(d.json["gravity"][2] == -9.81);
  CHECK(d.json["time"]["dt"] == "auto");
  CHECK(d.json["objects"][0]["name"] == "block");
  CHECK(d.outputs.state);
  // new keys where the format allows them, in sections that may be absent; later overrides win
  d = load(j, {"time.frames=3", "time.frames=5", "domain.boundary.friction=0.4"});
  CHECK(d.frames == 5);
  CHECK(d.json["domain"]["boundary"]["friction"] == 0.4);
  // overrides apply before validation
  SceneData<double, 3> sc = build_scene<double, 3>(load(j, {"materials.jelly.density=500"}));
  double m = 0;
  for (double x : sc.state.mass) m += x;
  CHECK(m == doctest::Approx(500 * 0.008));
  CHECK(load(j, {"objects.0.sampling={\"ppc\": 1}"}).json["objects"][0]["sampling"]["ppc"] == 1);
}

TEST_CASE("scene overrides: resolve_scene_path gives canonical pointers") {
  const json j = scene3();
  CHECK(resolve_scene_path(j, "materials.sand.E") == "/materials/1/E");
  CHECK(resolve_scene_path(j, "/materials/jelly/nu") == "/materials/0/nu");
  CHECK(resolve_scene_path(j, "domain.dx") == "/domain/dx");
  CHECK_THROWS_AS(resolve_scene_path(j, "time.dt"), Error);
  CHECK(resolve_scene_path(j, "time.dt", true) == "/time/dt");
  json k = {{"a/b", {{"c~d", 1}}}};
  CHECK(resolve_scene_path(k, "/a~1b/c~0d") == "/a~1b/c~0d");
}

TEST_CASE("scene files: relative mesh paths resolve against the scene's directory" *
          doctest::skip(!test::have_openvdb())) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "ductile_scene_files";
  fs::create_directories(dir / "scenes");
  fs::create_directories(dir / "assets" / "meshes");
  std::ofstream(dir / "assets" / "meshes" / "cube.obj") << kCubeObj;
  json j = scene3();
  j["domain"]["dx"] = 0.04;
  j["objects"][0]["shape"] = {{"type", "mesh"},
                              {"file", "../assets/meshes/cube.obj"},
                              {"scale", 0.4},
                              {"rotate_deg", {0, 0, 0}},
                              {"translate", {0.5, 0.5, 0.5}}};
  j["colliders"] = {{{"name", "tool"},
                     {"type", "mesh"},
                     {"file", "../assets/meshes/cube.obj"},
                     {"scale", 0.2},
                     {"translate", {0.5, 0.1, 0.5}}}};
  const fs::path scene_path = dir / "scenes" / "scene.json";
  std::ofstream(scene_path) << j.dump(2);
  SceneDocument doc = load_scene_file(scene_path.string(), {"objects.cube.sampling.ppc=8"});
  CHECK(doc.path == scene_path.string());
  CHECK(doc.base_dir == (dir / "scenes").string());
  const std::string abs = (dir / "assets" / "meshes" / "cube.obj").string();
  CHECK(doc.json["objects"][0]["shape"]["file"] == abs);
  CHECK(doc.json["colliders"][0]["file"] == abs);
  SceneData<double, 3> sc = build_scene<double, 3>(doc);
  // a 0.4 cube at h = 0.02: 20^3 points
  CHECK(double(sc.state.n) == doctest::Approx(8000).epsilon(0.02));
  double m = 0;
  for (double x : sc.state.mass) m += x;
  CHECK(m == doctest::Approx(1000 * 0.064).epsilon(0.02));
  for (int p = 0; p < sc.state.n; ++p) CHECK(std::fabs(sc.state.x[p] - 0.5) < 0.21);
  // the mesh collider keeps its own origin in the pose: inside at its centre, outside 0.15 above it
  REQUIRE(sc.model.colliders.size() == 1);
  const Collider<double, 3>& c = sc.model.colliders[0];
  CHECK(c.shape.shape == ColliderShape::kSdf);
  CHECK(c.shape.t[1] == doctest::Approx(0.1));
  Vec<double, 3> n;
  CHECK(collider_phi(c.at(0), Vec<double, 3>{{0.5, 0.1, 0.5}}, n) < -0.06);
  CHECK(collider_phi(c.at(0), Vec<double, 3>{{0.5, 0.25, 0.5}}, n) > 0);
  // an object outside the domain, found from its mesh
  CHECK_THROWS_WITH_AS(load_scene_file(scene_path.string(), {"objects.0.shape.translate=[0.9, 0.5, 0.5]"}),
                       doctest::Contains("/objects/0/shape: lies outside the domain: its x extent"), Error);
}

TEST_CASE("scene files: vdb level sets fill objects" * doctest::skip(!test::have_openvdb())) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "ductile_scene_vdb";
  fs::create_directories(dir);
  // a sphere of radius 0.5 around the origin, sampled at 0.05
  DenseSdf ball;
  ball.dx = 0.05;
  for (int d = 0; d < 3; ++d) ball.origin[d] = -0.8, ball.res[d] = 33;
  for (int i = 0; i < 33; ++i)
    for (int j = 0; j < 33; ++j)
      for (int k = 0; k < 33; ++k) {
        const double x = -0.8 + 0.05 * i, y = -0.8 + 0.05 * j, z = -0.8 + 0.05 * k;
        ball.phi.push_back(float(std::sqrt(x * x + y * y + z * z) - 0.5));
      }
  write_sdf_vdb(ball, (dir / "ball.vdb").string(), "surface");
  json j = scene3();
  j["domain"]["dx"] = 0.02;
  j["objects"][0]["shape"] = {{"type", "vdb"},
                              {"file", "ball.vdb"},
                              {"grid", "surface"},
                              {"scale", 0.4},
                              {"translate", {0.5, 0.5, 0.5}}};
  SceneDocument doc = load_scene_text(j.dump(), dir.string());
  SceneData<float, 3> sc = build_scene<float, 3>(doc);
  const double volume = 4.0 / 3 * 3.14159265358979 * 0.008;  // radius 0.2
  CHECK(double(sc.state.n) == doctest::Approx(volume * 8 / 8e-6).epsilon(0.03));
  j["objects"][0]["shape"]["grid"] = "density";
  CHECK_THROWS_WITH_AS(load_scene_text(j.dump(), dir.string()), doctest::Contains("/objects/0/shape/file: "),
                       Error);
}
