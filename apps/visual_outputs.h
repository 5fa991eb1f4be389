// The per-frame outputs of `ductile simulate` made for looking at a run: preview images (PNG, and an MP4 at
// the end) with --preview, deformed Gaussian splats (3DGS PLY) for objects of shape "gaussians", and OBJ
// surface meshes with outputs.mesh. Kept apart from simulate.cpp so that it only calls prepare/write/finish.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/scene.h"
#include "core/state.h"

namespace ductile::render {
class FrameRenderer;
}

namespace ductile::app {

template <int D>
class VisualOutputs {
 public:
  VisualOutputs(const SceneDocument& doc, const SceneData<float, D>& data, const std::filesystem::path& out,
                bool preview);
  ~VisualOutputs();
  // Removes frame files of an earlier run (render/, splats/, meshes/); returns how many.
  int prepare();
  // Writes what the run asks for of frame `frame`.
  void write(int frame, const State<float, D>& st);
  // Encodes the preview video (a missing ffmpeg is a note, not a failure) and says where things went.
  void finish(std::vector<std::string>& notes);

 private:
  const SceneDocument& doc_;
  std::filesystem::path out_;
  std::vector<SplatObject> splats_;
  std::vector<std::string> object_names_;
  std::vector<int> object_ppc_;
  int initial_n_ = 0;
  bool mesh_ = false, preview_ = false;
  std::unique_ptr<render::FrameRenderer> renderer_;
  int frames_ = 0;
  double render_s_ = 0, splat_s_ = 0, mesh_s_ = 0;
};

}  // namespace ductile::app
