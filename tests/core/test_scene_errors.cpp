// Scenes: every kind of invalid document fails with a message that names the exact JSON pointer.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/scene.h"

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

// The message of the Error that loading (and building) `text` throws.
std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {},
                     const std::string& base_dir = ".") {
  try {
    SceneDocument doc = load_scene_text(text, base_dir, overrides, "scene.json");
    if (doc.dim == 2)
      build_scene<float, 2>(doc);
    else
      build_scene<float, 3>(doc);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}
std::string error_of(const json& j, const std::vector<std::string>& overrides = {}) {
  return error_of(j.dump(), overrides);
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

TEST_CASE("scene errors: format, top-level keys and syntax") {
  json j = scene3();
  j.erase("format");
  CHECK(error_of(j) == "/: missing required key 'format' (this build reads format 1)");
  j["format"] = 2;
  CHECK(error_of(j) == "/format: unsupported scene format 2 (this build reads format 1)");
  j["format"] = "1";
  CHECK(error_of(j) == "/format: expected the integer 1, got \"1\"");
  j["format"] = 2;
  j["actuators"] = json::array();
  CHECK(error_of(j) == "/format: unsupported scene format 2 (this build reads format 1)");
  j = scene3();
  j["gravty"] = {0, -9.8, 0};
  // the message lists every top-level section (their order is the validation's)
  const std::string keys = error_of(j);
  CHECK(keys.rfind("/gravty: unknown key (allowed here: format, name, description, dimension, domain, time, "
                   "gravity, materials, objects, colliders, outputs, loss, gradient, ",
                   0) == 0);
  for (const char* k : {"actuators", "controller", "objective", "optimize", "camera"})
    CHECK(keys.find(std::string(", ") + k) != std::string::npos);
  j = scene3();
  j["dimension"] = 4;
  CHECK(error_of(j) == "/dimension: expected an integer in [2, 3], got 4");
  // a number beyond a double's range: file:line:column and the number (found by the fuzzer: it escaped as
  // nlohmann's out_of_range)
  CHECK(error_of(std::string("{\n  \"format\": 1,\n  \"time\": {\"dt\": 0.007e8125}\n}")) ==
        "scene.json:3:18: number out of range: 0.007e8125 is beyond a double's range");
  CHECK(error_of(scene3(), {"time.dt=1e999"}) ==
        "--set time.dt=1e999: value: '1e999' is a number beyond a double's range");
  // syntax errors give file:line:column
  const std::string bad = "{\n  \"format\": 1,\n  \"domain\": {\"dx\": 0.1,}\n}\n";
  const std::string msg = error_of(bad);
  CHECK(starts_with(msg, "scene.json:3:24: syntax error: while parsing object key - unexpected"));
  CHECK(error_of(std::string("{\"format\": 1} trailing")).find("scene.json:1:") == 0);
  // a key given twice
  CHECK(error_of(std::string(R"({"format": 1, "materials": [{"name": "a"}, {"E": 1, "E": 2}]})")) ==
        "/materials/1/E: duplicate key (the text gives it twice)");
  CHECK(error_of(std::string(R"({"a": [[1, 2], {"b": 1}, {"c": {"d": 1, "d": 2}}]})")) ==
        "/a/2/c/d: duplicate key (the text gives it twice)");
  // comments are allowed
  CHECK(error_of("// a comment\n" + scene3().dump()) == "(no error)");
}

TEST_CASE("scene errors: unknown keys and wrong types name the pointer") {
  json j = scene3();
  j["objects"][0]["shape"]["radius"] = 0.1;
  CHECK(error_of(j) == "/objects/0/shape/radius: unknown key (allowed here: type, center, size)");
  j = scene3();
  j["time"] = {{"frames", "ten"}};
  CHECK(error_of(j) == "/time/frames: expected an integer >= 1, got \"ten\"");
  j["time"] = {{"frames", 2.5}};
  CHECK(error_of(j) == "/time/frames: expected an integer >= 1, got 2.5");
  j["time"] = {{"dt", "fast"}};
  CHECK(error_of(j) == "/time/dt: expected a number > 0 or \"auto\", got \"fast\"");
  j["time"] = {{"cfl", 1.5}};
  CHECK(error_of(j) == "/time/cfl: expected a number <= 1, got 1.5");
  j["time"] = {{"step", 1}};
  CHECK(error_of(j) ==
        "/time/step: unknown key (allowed here: dt, cfl, frame_dt, frames, allow_cfl_violation)");
  j = scene3();
  j["domain"]["dx"] = 0;
  CHECK(error_of(j) == "/domain/dx: expected a number > 0, got 0");
  j = scene3();
  j["domain"]["min"] = {0, 0};
  CHECK(error_of(j) == "/domain/min: expected an array of 3 numbers, got [0,0]");
  j = scene3();
  j["domain"]["max"][2] = 0;
  CHECK(error_of(j) == "/domain/max/2: expected a number > 0 (the domain's min), got 0");
  j = scene3();
  j["domain"]["boundary"] = {{"surface", "sticki"}};
  CHECK(error_of(j) ==
        "/domain/boundary/surface: expected one of \"sticky\", \"slip\", \"separate\", got \"sticki\"");
  j = scene3();
  j["domain"].erase("dx");
  CHECK(error_of(j) == "/domain: missing required key 'dx'");
  j = scene3();
  j["objects"][0]["velocity"] = {0, "up", 0};
  CHECK(error_of(j) == "/objects/0/velocity/1: expected a number, got \"up\"");
  j = scene3();
  j["outputs"] = {{"ply", "yes"}};
  CHECK(error_of(j) == "/outputs/ply: expected true or false, got \"yes\"");
  j = scene3();
  j["objects"] = json::array();
  CHECK(error_of(j) == "/objects: expected a non-empty array, got []");
}

TEST_CASE("scene errors: materials are checked against their model's parameter table") {
  json j = scene3();
  j["materials"].push_back({{"name", "soft"}, {"model", "fixed_corotated"}, {"nu", 0.5}});
  CHECK(error_of(j) == "/materials/1/nu: expected a number < 0.5 (Poisson's ratio), got 0.5");
  j["materials"][1]["nu"] = 0.3;
  j["materials"][1]["E"] = -1;
  CHECK(error_of(j) == "/materials/1/E: expected a number > 0 (Young's modulus), got -1");
  j = scene3();
  j["materials"][0]["model"] = "jello";
  const std::string msg = error_of(j);
  CHECK(starts_with(msg, "/materials/0/model: unknown material model 'jello' (known: fixed_corotated"));
  j = scene3();
  j["materials"][0]["Young"] = 1e5;
  CHECK(error_of(j) ==
        "/materials/0/Young: unknown parameter of model 'fixed_corotated' (its parameters: density, E, nu)");
  j = scene3();
  j["materials"].push_back(j["materials"][0]);
  CHECK(error_of(j) == "/materials/1/name: duplicate material name 'jelly' (also /materials/0)");
  j = scene3();
  j["materials"][0].erase("name");
  CHECK(error_of(j) == "/materials/0: missing required key 'name'");
}

TEST_CASE("scene errors: objects") {
  json j = scene3();
  j["objects"][0]["material"] = "jely";
  CHECK(error_of(j) == "/objects/0/material: unknown material 'jely' (declared: jelly)");
  j = scene3();
  j["objects"][0].erase("material");
  CHECK(error_of(j) == "/objects/0: missing required key 'material'");
  j = scene3();
  j["objects"][0]["shape"]["center"] = {0.95, 0.5, 0.5};
  CHECK(error_of(j) ==
        "/objects/0/shape: lies outside the domain: its x extent [0.85, 1.05] is not inside [0, 1]");
  j = scene3();
  j["objects"][0]["shape"] = {{"type", "sphere"}, {"center", {0.5, 0.5, 0.5}}, {"radius", 0.6}};
  CHECK(starts_with(error_of(j), "/objects/0/shape: lies outside the domain: its x extent"));
  j = scene3();
  j["objects"][0]["shape"] = {{"type", "torus"}};
  CHECK(error_of(j) ==
        "/objects/0/shape/type: expected one of \"box\", \"sphere\", \"cylinder\", \"ellipsoid\", "
        "\"mesh\", \"vdb\", \"gaussians\", got \"torus\"");
  j = scene3();
  j["objects"][0]["sampling"] = {{"ppc", 0}};
  CHECK(error_of(j) == "/objects/0/sampling/ppc: expected an integer in [1, 1000], got 0");
  j["objects"][0]["sampling"] = {{"method", "poisson"}};
  CHECK(error_of(j) ==
        "/objects/0/sampling/method: expected one of \"regular\", \"jittered\", got \"poisson\"");
  j = scene3();
  j["objects"][0]["angular_velocity"] = 2;
  CHECK(error_of(j) == "/objects/0/angular_velocity: expected an array of 3 numbers, got 2");
  j = scene3();
  j["objects"].push_back(j["objects"][0]);
  CHECK(error_of(j) == "/objects/1/name: duplicate object name 'cube' (also /objects/0)");
  // a shape smaller than the particle spacing
  j = scene3();
  j["objects"][0]["shape"] = {{"type", "sphere"}, {"center", {0.5, 0.5, 0.5}}, {"radius", 0.001}};
  CHECK(starts_with(error_of(j), "/objects/0/shape: no particles"));
  // 2D: mesh, vdb and cylinder shapes need 3D; angular velocity is a number
  json k = json::parse(R"({"format": 1, "dimension": 2, "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.05},
    "materials": [{"name": "jelly", "model": "fixed_corotated"}],
    "objects": [{"material": "jelly", "shape": {"type": "mesh", "file": "x.obj"}}]})");
  CHECK(error_of(k) ==
        "/objects/0/shape/type: 'mesh' shapes need a 3D scene (2D objects take box, sphere or "
        "ellipsoid)");
  k["objects"][0]["shape"] = {{"type", "sphere"}, {"center", {0.5, 0.5}}, {"radius", 0.1}};
  k["objects"][0]["angular_velocity"] = {0, 0, 1};
  CHECK(error_of(k) == "/objects/0/angular_velocity: expected a number (about z in 2D), got [0,0,1]");
}

TEST_CASE("scene errors: missing mesh files name the absolute path") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "ductile_scene_errors";
  fs::create_directories(dir);
  json j = scene3();
  j["objects"].push_back(
      {{"material", "jelly"}, {"shape", {{"type", "mesh"}, {"file", "../assets/nope.obj"}}}});
  const std::string expected = (dir.parent_path() / "assets" / "nope.obj").string();
  CHECK(error_of(j.dump(), {}, dir.string()) == "/objects/1/shape/file: cannot open " + expected);
  j["objects"][1]["shape"] = {{"type", "vdb"}, {"file", "missing.vdb"}, {"grid", "surface"}};
  CHECK(error_of(j.dump(), {}, dir.string()) ==
        "/objects/1/shape/file: cannot open " + (dir / "missing.vdb").string());
  j = scene3();
  j["colliders"] = {{{"type", "mesh"}, {"file", "tool.obj"}}};
  CHECK(error_of(j.dump(), {}, dir.string()) ==
        "/colliders/0/file: cannot open " + (dir / "tool.obj").string());
  // a scene file that is not there
  try {
    load_scene_file((dir / "none.json").string());
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == (dir / "none.json").string() + ": cannot open scene file");
  }
}

TEST_CASE("scene errors: colliders") {
  json j = scene3();
  j["colliders"] = {{{"type", "plane"}, {"point", {0, 0, 0}}, {"normal", {0, 0, 0}}}};
  CHECK(error_of(j) == "/colliders/0/normal: expected a non-zero vector, got [0,0,0]");
  j["colliders"] = {{{"type", "plane"}, {"point", {0, 0, 0}}, {"normal", {0, 1, 0}}, {"center", {0, 0, 0}}}};
  CHECK(error_of(j) ==
        "/colliders/0/center: unknown key (allowed here: name, type, surface, friction, motion, active, "
        "point, normal)");
  j["colliders"] = {{{"type", "sphere"}, {"center", {0, 0, 0}}, {"radius", 1}, {"friction", -0.1}}};
  CHECK(error_of(j) == "/colliders/0/friction: expected a number >= 0, got -0.1");
  j["colliders"][0].erase("friction");
  j["colliders"][0]["active"] = {1, 0.5};
  CHECK(error_of(j) == "/colliders/0/active/1: expected a number >= 1 (the start), got 0.5");
  j["colliders"][0].erase("active");
  j["colliders"][0]["motion"] = json::parse(R"({"type": "keyframes", "keys": [{"t": 1}, {"t": 1}]})");
  CHECK(error_of(j) == "/colliders/0/motion/keys/1/t: expected a number > 1 (after the previous key), got 1");
  j["colliders"][0]["motion"] = json::parse(R"({"type": "keyframes", "keys": [{"t": 0, "pos": [0, 0, 0]}]})");
  CHECK(error_of(j) ==
        "/colliders/0/motion/keys/0/pos: unknown key (allowed here: t, position, rotation_deg)");
  j["colliders"][0]["motion"] = json::parse(R"({"type": "constant", "velocity": [1, 0]})");
  CHECK(error_of(j) == "/colliders/0/motion/velocity: expected an array of 3 numbers, got [1,0]");
  j["colliders"][0]["motion"] = json::parse(R"({"type": "spin"})");
  CHECK(error_of(j) ==
        "/colliders/0/motion/type: expected one of \"static\", \"constant\", \"keyframes\", got \"spin\"");
  j["colliders"][0]["motion"] = {{"type", "static"}};
  j["colliders"].push_back(j["colliders"][0]);
  j["colliders"][0]["name"] = "ball";
  j["colliders"][1]["name"] = "ball";
  CHECK(error_of(j) == "/colliders/1/name: duplicate collider name 'ball' (also /colliders/0)");
}

TEST_CASE("scene errors: overrides that do not resolve") {
  const json j = scene3();
  CHECK(error_of(j, {"materials.3.E=1"}) ==
        "--set materials.3.E=1: /materials: index 3 out of range (1 items)");
  CHECK(error_of(j, {"materials.sand.E=1"}) ==
        "--set materials.sand.E=1: /materials: no item named 'sand' (names: \"jelly\")");
  CHECK(error_of(j, {"/domain/dx/x=1"}) == "--set /domain/dx/x=1: /domain/dx: cannot select 'x' inside 0.05");
  CHECK(error_of(j, {"domain.dx"}) == "--set domain.dx: expected path=value");
  CHECK(error_of(j, {"materials.0.Young=1e5"}) ==
        "/materials/0/Young: unknown parameter of model 'fixed_corotated' (its parameters: density, E, nu)");
  CHECK(error_of(j, {"time.frames=ten"}) == "/time/frames: expected an integer >= 1, got \"ten\"");
}
