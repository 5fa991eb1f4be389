// Scenes: a JSON document (docs/SCENE_FORMAT.md) validated and turned into a Model and an initial State.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "core/model.h"
#include "core/state.h"

namespace ductile {

// What the scene asks to be written (section "outputs").
struct OutputSettings {
  int every_n_frames = 1;
  bool ply = true;                      // DIR/particles/frame_NNNNN.ply
  bool vdb = false;                     // DIR/volumes/frame_NNNNN.vdb with grids density, velocity
  double vdb_voxel = 0;                 // [m]; 0 means the grid spacing
};

// A scene document after overrides, defaults and validation; paths inside are absolute.
struct SceneDocument {
  nlohmann::json json;   // the validated document with every default filled in
  std::string path;      // the file it came from ("<default>" for the embedded scene)
  std::string base_dir;  // where relative paths resolve
  int dim = 3;
  OutputSettings outputs;
};

// Reads, applies `--set path=value` overrides (path: a JSON pointer or dotted path, value: JSON or a bare
// string), validates and fills defaults. Throws Error naming the JSON pointer and what was expected.
SceneDocument load_scene_file(const std::string& path, const std::vector<std::string>& overrides = {});
SceneDocument load_scene_text(const std::string& text, const std::string& base_dir,
                              const std::vector<std::string>& overrides = {}, const std::string& name = "<text>");
// The embedded default scene run by `ductile simulate` without arguments.
const std::string& default_scene_text();

// The model (grid, materials, colliders, ...) and the initial particles of a validated scene.
template <class T, int D>
struct SceneData {
  Model<T, D> model;
  State<T, D> state;
  std::vector<std::string> object_names;  // State::object indexes this
};

template <class T, int D>
SceneData<T, D> build_scene(const SceneDocument& doc);

}  // namespace ductile
