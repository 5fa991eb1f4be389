// Scenes: a JSON document (docs/SCENE_FORMAT.md) validated and turned into a Model and an initial State.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/io/gaussian_splats.h"
#include "core/level_set.h"
#include "core/model.h"
#include "core/state.h"

namespace ductile {

// What the scene asks to be written (section "outputs").
struct OutputSettings {
  int every_n_frames = 1;
  bool ply = true;       // DIR/particles/frame_NNNNN.ply
  bool state = false;    // the PLY frames also carry F, C and plastic (for teacher forcing)
  bool vdb = false;      // DIR/volumes/frame_NNNNN.vdb with grids density, velocity
  double vdb_voxel = 0;  // [m]; 0 means the grid spacing
  // DIR/meshes/frame_NNNNN.obj: particle surfaces (3D)
  bool mesh = false;
  double mesh_voxel = 0;   // [m]; 0 means half of mesh_radius
  double mesh_radius = 0;  // [m]; 0 means each object's particle spacing
};

// A scene document after overrides, defaults and validation; paths inside are absolute.
struct SceneDocument {
  nlohmann::json json;   // the validated document with every default filled in
  std::string path;      // the file it came from ("<default>" for the embedded scene)
  std::string base_dir;  // where relative paths resolve
  int dim = 3;
  OutputSettings outputs;
  // The time step resolved from section "time": dt = frame_dt / steps_per_frame, no larger than the asked
  // (or CFL) step, so that frames fall on steps exactly.
  double dt = 0;        // [s]
  double cfl_dt = 0;    // cfl * dx / (largest wave speed + largest initial speed) [s]
  double frame_dt = 0;  // [s]
  int steps_per_frame = 1;
  int frames = 1;
  std::vector<std::string> warnings;  // non-fatal remarks (e.g. dt above the CFL bound); apps print them
  // Signed distance fields of mesh and vdb shapes, loaded during validation, keyed by the JSON pointer of
  // the shape ("/objects/2/shape", "/colliders/0"). build_scene loads any that are missing.
  std::map<std::string, std::shared_ptr<const DenseSdf>> sdfs;
};

// Reads, applies `--set path=value` overrides (path: a JSON pointer or dotted path, value: JSON or a bare
// string), validates and fills defaults. Throws Error naming the JSON pointer and what was expected.
SceneDocument load_scene_file(const std::string& path, const std::vector<std::string>& overrides = {});
SceneDocument load_scene_text(const std::string& text, const std::string& base_dir,
                              const std::vector<std::string>& overrides = {},
                              const std::string& name = "<text>");
// The embedded default scene run by `ductile simulate` without arguments.
const std::string& default_scene_text();

// The canonical JSON pointer of a scene path: "/materials/0/E", "materials.0.E" and "materials.jelly.E"
// (array items selected by their "name") all give "/materials/0/E". With `create`, missing object keys
// along the way are allowed (they are not created). Throws Error when the path does not exist.
std::string resolve_scene_path(const nlohmann::json& doc, const std::string& path, bool create = false);
// Applies one override "path=value" to a raw (not yet validated) document: the value is parsed as JSON,
// or taken as a string when it is not valid JSON. Missing object keys are created; array items must exist.
void apply_scene_override(nlohmann::json& doc, const std::string& assignment);

// An object made of 3D Gaussian splats: its Gaussians as read, the placement's linear part A, and the
// particles first_particle + k (k < rows.size()) that carry Gaussian rows[k] (Gaussians covered by later
// objects are left out).
struct SplatObject {
  int object = 0;
  std::string file;
  std::shared_ptr<const io::PointTable> gaussians;
  io::Mat3d A{};
  int first_particle = 0;
  std::vector<int> rows;
};

// The model (grid, materials, colliders, ...) and the initial particles of a validated scene.
template <class T, int D>
struct SceneData {
  Model<T, D> model;
  State<T, D> state;
  std::vector<std::string> object_names;  // State::object indexes this
  std::vector<std::string> warnings;      // non-fatal remarks found while sampling
  std::vector<SplatObject> splats;        // objects of shape "gaussians"
};

template <class T, int D>
SceneData<T, D> build_scene(const SceneDocument& doc);

}  // namespace ductile
