// A build without OpenVDB (-DDUCTILE_WITH_OPENVDB=OFF; compiled only there, tests/CMakeLists.txt): every
// entry point that needs OpenVDB fails with one clear error naming what was asked, and the command line exits
// non-zero before writing anything.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/run_cli.h"
#include "core/io/vdb_mesh.h"
#include "core/io/vdb_volume.h"
#include "core/level_set.h"
#include "core/scene.h"
#include "io/temp_dir.h"
#include "test_util.h"

using namespace ductile;
using ductile::test::error_of;
using json = nlohmann::json;

namespace {

const std::string kRebuild = "; rebuild with -DDUCTILE_WITH_OPENVDB=ON";

// A 3D box of jelly, 2 frames; `extra` is merged into the document.
json scene3(const json& extra = json::object()) {
  json j = json::parse(R"({
    "format": 1, "dimension": 3,
    "domain": {"min": [0, 0, 0], "max": [1, 1, 1], "dx": 0.1},
    "time": {"dt": 1e-3, "frame_dt": 0.004, "frames": 2},
    "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 1e3, "nu": 0.3, "density": 1000}],
    "objects": [{"name": "block", "material": "jelly",
                 "shape": {"type": "box", "center": [0.5, 0.5, 0.5], "size": [0.2, 0.2, 0.2]}}]})");
  j.merge_patch(extra);
  return j;
}

std::string scene_error(const json& j, const std::string& dir) {
  return error_of([&] {
    SceneDocument doc = load_scene_text(j.dump(), dir, {}, "scene.json");
    build_scene<float, 3>(doc);
  });
}

}  // namespace

TEST_CASE("without OpenVDB: the level-set loaders and writers name the file and the option") {
  CHECK(io::openvdb_version().empty());
  CHECK(error_of([] { sdf_from_obj("cube.obj", Placement{}, 0.1); }) ==
        "built without OpenVDB: the signed distance field of the OBJ mesh cube.obj" + kRebuild);
  CHECK(error_of([] { sdf_from_vdb("ball.vdb", "surface", Placement{}, 0.1); }) ==
        "built without OpenVDB: the level set of the VDB file ball.vdb" + kRebuild);
  CHECK(error_of([] { write_sdf_vdb(DenseSdf{}, "out.vdb", "surface"); }) ==
        "built without OpenVDB: the VDB file out.vdb" + kRebuild);
}

TEST_CASE("without OpenVDB: VDB volumes and particle surface meshes fail, the OBJ text still works") {
  test::TempDir dir;
  State<float, 3> s;
  CHECK(error_of([&] { io::write_vdb_volume(dir.file("v.vdb"), s, 0.1); }) ==
        "built without OpenVDB: the VDB volume " + dir.file("v.vdb") + kRebuild);
  CHECK_FALSE(std::filesystem::exists(dir.file("v.vdb")));
  CHECK(error_of([] { io::read_vdb_info("in.vdb"); }) ==
        "built without OpenVDB: the VDB file in.vdb" + kRebuild);
  CHECK(error_of([] { io::VdbCleanCopy copy("in.vdb"); }) ==
        "built without OpenVDB: the VDB file in.vdb" + kRebuild);
  const std::string mesh = error_of([] { io::particle_surface({0, 0, 0}, 0.2, 0.1); });
  CHECK(mesh.rfind("built without OpenVDB: the surface mesh of 1 particles", 0) == 0);
  CHECK(mesh.find(kRebuild) != std::string::npos);
  // the OBJ writer and reader need no OpenVDB
  io::SurfaceMesh tri;
  tri.vertices = {0, 0, 0, 1, 0, 0, 0, 1, 0};
  tri.faces = {0, 1, 2};
  tri.face_size = {3};
  io::write_obj(dir.file("tri.obj"), {{"tri", tri}});
  CHECK(io::read_obj(dir.file("tri.obj")).faces == tri.faces);
}

TEST_CASE("without OpenVDB: scenes with mesh or vdb shapes, or VDB and mesh outputs, fail at their pointer") {
  test::TempDir dir;
  test::write_text(dir.file("cube.obj"), "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
  const std::string obj = dir.file("cube.obj");
  CHECK(
      scene_error(scene3({{"objects",
                           {{{"material", "jelly"}, {"shape", {{"type", "mesh"}, {"file", "cube.obj"}}}}}}}),
                  dir.path().string()) ==
      "/objects/0/shape/file: built without OpenVDB: the signed distance field of the OBJ mesh " + obj +
          kRebuild);
  CHECK(scene_error(scene3({{"outputs", {{"vdb", true}}}}), dir.path().string()) ==
        "built without OpenVDB: VDB volume output (/outputs/vdb)" + kRebuild);
  CHECK(scene_error(scene3({{"outputs", {{"mesh", true}}}}), dir.path().string()) ==
        "built without OpenVDB: surface mesh output (/outputs/mesh)" + kRebuild);
  // a 2D scene ignores both outputs (as with OpenVDB) and loads
  json two = json::parse(R"({"format": 1, "dimension": 2, "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.1},
    "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 1e3, "nu": 0.3, "density": 1000}],
    "objects": [{"material": "jelly", "shape": {"type": "box", "center": [0.5, 0.5], "size": [0.2, 0.2]}}],
    "outputs": {"vdb": true, "mesh": true}})");
  CHECK(error_of([&] { load_scene_text(two.dump(), dir.path().string(), {}, "scene.json"); }) == "");
}

TEST_CASE("without OpenVDB: `ductile simulate` of a scene with VDB output exits non-zero writing nothing") {
  test::TempDir dir;
  test::write_text(dir.file("scene.json"), scene3({{"outputs", {{"vdb", true}}}}).dump());
  const test::Result r =
      test::run_ductile(dir, "simulate scene.json --out run --backend cpu --threads 1 --quiet");
  CHECK(r.code != 0);
  CHECK(r.err.find("built without OpenVDB: VDB volume output (/outputs/vdb)" + kRebuild) !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("run")));
  const test::Result v = test::run_ductile(dir, "version");
  CHECK(v.code == 0);
  CHECK(v.out.find("openvdb: not built (-DDUCTILE_WITH_OPENVDB=OFF)") != std::string::npos);
}
