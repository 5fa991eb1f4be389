// Scenes: valid documents build the expected model and particles (counts, masses, velocities, colliders,
// time step), and the embedded default scene parses and builds.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/scene.h"
#include "io/temp_dir.h"
#include "materials/registry.h"
#include "test_util.h"

using namespace ductile;
using json = nlohmann::json;

namespace {

json scene3() {
  return json::parse(R"({
    "format": 1, "dimension": 3,
    "domain": {"min": [0, 0, 0], "max": [1, 1, 1], "dx": 0.05},
    "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 1e5, "nu": 0.2, "density": 1000}],
    "objects": [{"name": "cube", "material": "jelly",
                 "shape": {"type": "box", "center": [0.5, 0.5, 0.5], "size": [0.2, 0.2, 0.2]}}]})");
}

json scene2() {
  return json::parse(R"({
    "format": 1, "dimension": 2,
    "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.01},
    "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 1e5, "nu": 0.2, "density": 1000}],
    "objects": [{"name": "disk", "material": "jelly",
                 "shape": {"type": "sphere", "center": [0.5, 0.5], "radius": 0.2}}]})");
}

SceneDocument load(const json& j, const std::vector<std::string>& overrides = {}) {
  return load_scene_text(j.dump(), ".", overrides);
}

template <class T, int D>
double total_mass(const State<T, D>& s, int object = -1) {
  double m = 0;
  for (int p = 0; p < s.n; ++p)
    if (object < 0 || s.object[p] == object) m += double(s.mass[p]);
  return m;
}

}  // namespace

TEST_CASE("scene: a box builds a regular lattice with the exact count, mass and volume") {
  SceneDocument doc = load(scene3());
  CHECK(doc.dim == 3);
  SceneData<double, 3> sc = build_scene<double, 3>(doc);
  // h = 0.05 / 2: 8 points per axis in a 0.2 box
  REQUIRE(sc.state.n == 512);
  CHECK(total_mass(sc.state) == doctest::Approx(1000 * 0.008).epsilon(1e-12));
  CHECK(sc.state.vol0[0] == doctest::Approx(std::pow(0.05, 3) / 8));
  CHECK(sc.object_names == std::vector<std::string>{"cube"});
  for (int p = 0; p < sc.state.n; ++p) {
    CHECK(sc.state.F[size_t(0) * sc.state.n + p] == 1.0);
    CHECK(sc.state.F[size_t(1) * sc.state.n + p] == 0.0);
    CHECK(sc.state.plastic[p] == 1.0);
    for (int d = 0; d < 3; ++d) {
      const double x = sc.state.x[size_t(d) * sc.state.n + p];
      CHECK((x > 0.4 && x < 0.6));
    }
  }
  // the model: grid padded by 2 nodes, walls, materials in spec order, default gravity
  const Model<double, 3>& m = sc.model;
  CHECK(m.grid.res[0] == 20 + 1 + 4);
  CHECK(m.grid.origin[0] == doctest::Approx(-0.1));
  CHECK(m.walls.cells == 3);
  CHECK(m.walls.surface == Surface::kSlip);
  REQUIRE(m.materials.size() == 1);
  CHECK(m.material_names[0] == "jelly");
  CHECK(m.materials[0]->value("E") == 1e5);
  CHECK(m.materials[0]->value("nu") == 0.2);
  CHECK(m.gravity[1] == doctest::Approx(-9.81));
  CHECK(m.frames == 48);
  CHECK(m.steps_per_frame == doc.steps_per_frame);
  CHECK(double(m.dt) == doc.dt);
  // defaults are written into the document
  CHECK(doc.json["objects"][0]["sampling"]["ppc"] == 8);
  CHECK(doc.json["objects"][0]["sampling"]["method"] == "regular");
  CHECK(doc.json["materials"][0]["density"] == 1000);
  CHECK(doc.json["domain"]["boundary"]["surface"] == "slip");
  CHECK(doc.warnings.empty());
}

TEST_CASE("scene: particle counts and masses follow volume * ppc / dx^D for every shape") {
  struct Case {
    const char* shape;
    double volume;
  };
  const double pi = 3.14159265358979323846;
  const Case cases3[] = {
      {R"({"type": "sphere", "center": [0.5, 0.5, 0.5], "radius": 0.2})", 4.0 / 3 * pi * 0.008},
      {R"({"type": "ellipsoid", "center": [0.5, 0.5, 0.5], "radii": [0.3, 0.2, 0.1]})", 4.0 / 3 * pi * 0.006},
      {R"({"type": "cylinder", "center": [0.5, 0.5, 0.5], "radius": 0.15, "height": 0.3, "axis": "x"})",
       pi * 0.0225 * 0.3},
  };
  for (const Case& c : cases3) {
    INFO("shape := " << std::string(c.shape));
    for (const char* method : {"regular", "jittered"}) {
      json j = scene3();
      j["domain"]["dx"] = 0.02;
      j["objects"][0]["shape"] = json::parse(c.shape);
      j["objects"][0]["sampling"] = {{"ppc", 8}, {"method", method}, {"seed", 3}};
      SceneData<float, 3> sc = build_scene<float, 3>(load(j));
      const double expected = c.volume * 8 / std::pow(0.02, 3);
      CHECK(double(sc.state.n) == doctest::Approx(expected).epsilon(0.03));
      CHECK(total_mass(sc.state) == doctest::Approx(1000 * c.volume).epsilon(0.03));
    }
  }
  // 2D: disk, ellipse and box at 4 particles per cell
  json j = scene2();
  SceneData<double, 2> disk = build_scene<double, 2>(load(j));
  CHECK(double(disk.state.n) == doctest::Approx(pi * 0.04 * 4 / 1e-4).epsilon(0.01));
  CHECK(total_mass(disk.state) == doctest::Approx(1000 * pi * 0.04).epsilon(0.01));
  j["objects"][0]["shape"] = {{"type", "box"}, {"center", {0.5, 0.5}}, {"size", {0.3, 0.1}}};
  CHECK(build_scene<double, 2>(load(j)).state.n == 60 * 20);
}

TEST_CASE("scene: jittered sampling is deterministic and depends on the seed") {
  json j = scene3();
  j["objects"][0]["sampling"] = {{"method", "jittered"}, {"seed", 7}};
  SceneData<double, 3> a = build_scene<double, 3>(load(j));
  SceneData<double, 3> b = build_scene<double, 3>(load(j));
  CHECK(a.state.x == b.state.x);
  j["objects"][0]["sampling"]["seed"] = 8;
  SceneData<double, 3> c = build_scene<double, 3>(load(j));
  CHECK(a.state.x != c.state.x);
}

TEST_CASE("scene: initial linear and angular velocity about the centre of mass") {
  // 2D: a disk spinning at w about its centre, moving at v
  json j = scene2();
  j["objects"][0]["velocity"] = {1.0, -2.0};
  j["objects"][0]["angular_velocity"] = 3.0;
  SceneData<double, 2> sc = build_scene<double, 2>(load(j));
  const auto& s = sc.state;
  double P[2] = {0, 0}, L = 0, I = 0, M = 0;
  for (int p = 0; p < s.n; ++p) {
    const double rx = s.x[p] - 0.5, ry = s.x[size_t(s.n) + p] - 0.5;
    const double vx = s.v[p], vy = s.v[size_t(s.n) + p];
    CHECK(vx == doctest::Approx(1.0 - 3.0 * ry));
    CHECK(vy == doctest::Approx(-2.0 + 3.0 * rx));
    P[0] += s.mass[p] * vx, P[1] += s.mass[p] * vy;
    L += s.mass[p] * (rx * (vy + 2.0) - ry * (vx - 1.0));
    I += s.mass[p] * (rx * rx + ry * ry);
    M += s.mass[p];
  }
  CHECK(P[0] == doctest::Approx(M * 1.0));
  CHECK(P[1] == doctest::Approx(M * -2.0));
  CHECK(L == doctest::Approx(3.0 * I));
  // 3D: spin about y; the velocity is w x r
  json k = scene3();
  k["objects"][0]["angular_velocity"] = {0.0, 2.0, 0.0};
  SceneData<double, 3> c = build_scene<double, 3>(load(k));
  const int n = c.state.n;
  for (int p = 0; p < n; ++p) {
    const double rx = c.state.x[p] - 0.5, rz = c.state.x[size_t(2) * n + p] - 0.5;
    CHECK(c.state.v[p] == doctest::Approx(2.0 * rz));
    CHECK(c.state.v[size_t(n) + p] == doctest::Approx(0.0));
    CHECK(c.state.v[size_t(2) * n + p] == doctest::Approx(-2.0 * rx));
  }
}

TEST_CASE("scene: later objects replace earlier ones where they overlap") {
  json j = scene3();
  j["materials"].push_back({{"name", "rock"}, {"model", "fixed_corotated"}, {"E", 1e7}, {"density", 2500}});
  j["objects"].push_back(
      {{"name", "core"},
       {"material", "rock"},
       {"shape", {{"type", "box"}, {"center", {0.5, 0.5, 0.5}}, {"size", {0.1, 0.1, 0.1}}}}});
  SceneData<double, 3> sc = build_scene<double, 3>(load(j));
  int n0 = 0, n1 = 0;
  for (int p = 0; p < sc.state.n; ++p) {
    (sc.state.object[p] == 0 ? n0 : n1)++;
    CHECK(sc.state.material[p] == sc.state.object[p]);
  }
  CHECK(n1 == 64);
  CHECK(n0 == 512 - 64);
  CHECK(total_mass(sc.state, 1) == doctest::Approx(2500 * 0.001));
}

TEST_CASE("scene: automatic and fixed time steps hit frames exactly") {
  // fixed corotated, E 1e5, nu 0.2, density 1000: c = sqrt((lambda + 2 mu) / rho)
  const double mu = 1e5 / 2.4, lambda = 1e5 * 0.2 / (1.2 * 0.6), c = std::sqrt((lambda + 2 * mu) / 1000);
  json j = scene3();
  SceneDocument doc = load(j);
  CHECK(doc.cfl_dt == doctest::Approx(0.4 * 0.05 / c));
  CHECK(doc.steps_per_frame == int(std::ceil((1.0 / 24) / doc.cfl_dt)));
  CHECK(doc.dt * doc.steps_per_frame == doctest::Approx(1.0 / 24));
  CHECK(doc.dt <= doc.cfl_dt);
  // initial speeds shrink the step: |v| plus |w| times the object's diagonal
  j["objects"][0]["velocity"] = {0, -3, 4};
  j["time"] = {{"cfl", 0.5}, {"frame_dt", 0.01}, {"frames", 10}};
  doc = load(j);
  CHECK(doc.cfl_dt == doctest::Approx(0.5 * 0.05 / (c + 5)));
  CHECK(doc.frames == 10);
  CHECK(doc.dt * doc.steps_per_frame == doctest::Approx(0.01));
  // a fixed step is shrunk to divide the frame; above the CFL bound it is kept with a warning
  j["time"]["dt"] = 0.003;
  doc = load(j);
  CHECK(doc.steps_per_frame == 4);
  CHECK(doc.dt == doctest::Approx(0.0025));
  REQUIRE(doc.warnings.size() == 1);
  CHECK(doc.warnings[0].rfind("/time/dt: ", 0) == 0);
  CHECK(doc.warnings[0].find("CFL") != std::string::npos);
  j["time"]["dt"] = 1e-4;
  doc = load(j);
  CHECK(doc.warnings.empty());
  CHECK(doc.steps_per_frame == 100);
}

TEST_CASE("scene: domain size rounds up to whole cells with a warning") {
  json j = scene3();
  j["domain"]["max"] = {1.01, 1, 1};
  SceneDocument doc = load(j);
  CHECK(doc.json["domain"]["max"][0].get<double>() == doctest::Approx(1.05));
  REQUIRE(doc.warnings.size() == 1);
  CHECK(doc.warnings[0].rfind("/domain/max/0: ", 0) == 0);
  SceneData<float, 3> sc = build_scene<float, 3>(doc);
  CHECK(sc.model.grid.res[0] == 21 + 1 + 4);
  CHECK(sc.model.walls.hi[0] == 2 + 21);
}

TEST_CASE("scene: colliders are built in their rest pose with their motion") {
  json j = scene3();
  j["colliders"] = json::parse(R"([
    {"name": "floor", "type": "plane", "point": [0, 0.1, 0], "normal": [0, 2, 0],
     "surface": "slip", "friction": 0.5},
    {"type": "box", "center": [0.5, 0.2, 0.5], "size": [0.2, 0.1, 0.4], "rotate_deg": [0, 0, 90],
     "motion": {"type": "constant", "velocity": [1, 0, 0], "angular_velocity": [0, 0, 0.5]},
     "active": [0, 1]},
    {"type": "sphere", "center": [0.2, 0.8, 0.2], "radius": 0.05, "surface": "separate",
     "motion": {"type": "keyframes", "keys": [{"t": 0}, {"t": 2, "position": [0.4, 0.8, 0.2],
                                                             "rotation_deg": [0, 0, 90]}]}},
    {"type": "cylinder", "center": [0.8, 0.2, 0.5], "radius": 0.05, "height": 0.2, "axis": "z"}])");
  SceneDocument doc = load(j);
  SceneData<double, 3> sc = build_scene<double, 3>(doc);
  const auto& cs = sc.model.colliders;
  REQUIRE(cs.size() == 4);
  CHECK(cs[0].name == "floor");
  CHECK(cs[1].name == "collider_1");
  // plane: unit normal through the point
  CHECK(cs[0].shape.shape == ColliderShape::kPlane);
  CHECK(cs[0].shape.surface == Surface::kSlip);
  CHECK(cs[0].shape.friction == 0.5);
  CHECK(cs[0].shape.p[1] == doctest::Approx(1.0));
  CHECK(cs[0].shape.t[1] == doctest::Approx(0.1));
  Vec<double, 3> nrm;
  CHECK(collider_phi(cs[0].at(0), Vec<double, 3>{{0.3, 0.05, 0.3}}, nrm) == doctest::Approx(-0.05));
  // box rotated 90 degrees about z: its local x runs along world y
  CHECK(cs[1].shape.shape == ColliderShape::kBox);
  CHECK(cs[1].shape.surface == Surface::kSticky);
  CHECK(cs[1].shape.p[0] == doctest::Approx(0.1));
  CHECK(cs[1].shape.R(1, 0) == doctest::Approx(1.0));
  CHECK(collider_phi(cs[1].at(0), Vec<double, 3>{{0.5, 0.29, 0.5}}, nrm) < 0);
  CHECK(collider_phi(cs[1].at(0), Vec<double, 3>{{0.59, 0.2, 0.5}}, nrm) > 0);
  CHECK(cs[1].motion.kind == Motion::Kind::kConstant);
  CHECK(cs[1].at(0.5).t[0] == doctest::Approx(1.0));
  CHECK(cs[1].at(0.5).omega[2] == doctest::Approx(0.5));
  CHECK(cs[1].active_until == 1.0);
  CHECK(cs[1].at(2.0).t[0] > 1e10);  // outside its active window
  // keyframes: the first key defaults to the rest position; rotations become axis-angle
  CHECK(cs[2].motion.kind == Motion::Kind::kKeyframes);
  ColliderData<double, 3> mid = cs[2].at(1.0);
  CHECK(mid.t[0] == doctest::Approx(0.3));
  CHECK(mid.lin[0] == doctest::Approx(0.1));
  CHECK(mid.omega[2] == doctest::Approx(3.14159265358979 / 4));
  CHECK(cs[2].at(2.0).R(1, 0) == doctest::Approx(1.0));
  CHECK(cs[2].shape.surface == Surface::kSeparate);
  // cylinder along z: inside near its end caps along z, outside beyond them
  CHECK(collider_phi(cs[3].at(0), Vec<double, 3>{{0.8, 0.2, 0.59}}, nrm) < 0);
  CHECK(collider_phi(cs[3].at(0), Vec<double, 3>{{0.8, 0.2, 0.61}}, nrm) > 0);
  CHECK(collider_phi(cs[3].at(0), Vec<double, 3>{{0.8, 0.26, 0.5}}, nrm) > 0);
}

TEST_CASE("scene: 2D colliders and outputs") {
  json j = scene2();
  j["colliders"] = json::parse(R"([
    {"type": "box", "center": [0.5, 0.1], "size": [0.4, 0.1], "rotate_deg": 90,
     "motion": {"type": "keyframes",
                "keys": [{"t": 0}, {"t": 1, "position": [0.5, 0.2], "rotation_deg": 45}]}},
    {"type": "plane", "point": [0, 0.05], "normal": [0, 1],
     "motion": {"type": "constant", "angular_velocity": 1}}])");
  j["outputs"] = {{"every_n_frames", 2}, {"vdb", true}, {"vdb_voxel", 0.005}};
  SceneDocument doc = load(j);
  CHECK(doc.outputs.every_n_frames == 2);
  CHECK(doc.outputs.ply);
  CHECK(doc.outputs.vdb);
  CHECK(doc.outputs.vdb_voxel == 0.005);
  SceneData<float, 2> sc = build_scene<float, 2>(doc);
  REQUIRE(sc.model.colliders.size() == 2);
  CHECK(sc.model.colliders[0].shape.R(1, 0) == doctest::Approx(1.0f));
  CHECK(sc.model.colliders[0].at(0.5).omega[2] == doctest::Approx(3.14159265f / 4));
  CHECK(sc.model.colliders[1].motion.angular_velocity[2] == 1.0);
}

TEST_CASE("scene: every registered material model is accepted with its default parameters") {
  for (const std::string& model : MaterialRegistry::instance().names()) {
    CAPTURE(model);
    json j = scene3();
    j["materials"][0] = {{"name", "m"}, {"model", model}};
    j["objects"][0]["material"] = "m";
    SceneDocument doc = load(j);
    SceneData<float, 3> sc = build_scene<float, 3>(doc);
    const auto& specs = MaterialRegistry::instance().get(model).specs();
    for (size_t k = 0; k < specs.size(); ++k)
      CHECK(double(sc.model.materials[0]->values()[k]) == doctest::Approx(specs[k].default_value));
    CHECK(doc.dt > 0);
  }
}

TEST_CASE("scene: the default scene parses and builds") {
  SceneDocument doc = load_scene_text(default_scene_text(), ".", {}, "<default>");
  CHECK(doc.dim == 3);
  CHECK(doc.frames == 48);
  CHECK(doc.warnings.empty());
  SceneData<float, 3> sc = build_scene<float, 3>(doc);
  CHECK(sc.state.n > 8000);
  CHECK(sc.state.n < 20000);
  CHECK(sc.model.materials.size() == 2);
  CHECK(sc.model.colliders.size() == 2);
  CHECK(doc.steps_per_frame * doc.frames < 10000);
  // and in double precision, with an override
  SceneDocument d2 = load_scene_text(default_scene_text(), ".", {"time.frames=2"}, "<default>");
  CHECK(build_scene<double, 3>(d2).model.frames == 2);
}

TEST_CASE("scene: every bundled scene in scenes/ loads and builds") {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(DUCTILE_SOURCE_DIR) / "scenes"))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& f : files) {
    CAPTURE(f.string());
#ifndef DUCTILE_WITH_TORCH
    // builds without LibTorch (the sanitizer build) have no neural material: those scenes are skipped
    if (test::read_text(f.string()).find("\"neural\"") != std::string::npos) continue;
#endif
    try {
      SceneDocument doc = load_scene_file(f.string());
      const int n = doc.dim == 2 ? build_scene<float, 2>(doc).state.n : build_scene<float, 3>(doc).state.n;
      CHECK(n > 0);
    } catch (const Error& e) {
      // a build without OpenVDB refuses mesh and vdb shapes and outputs (tests/io/test_openvdb_novdb.cpp)
      if (!test::have_openvdb() && std::string(e.what()).find("built without OpenVDB: ") != std::string::npos)
        continue;
      FAIL_CHECK(std::string(e.what()));
    }
  }
}
