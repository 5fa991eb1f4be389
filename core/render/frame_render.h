// Rendering the frames of a run: what stays fixed across frames (camera, colliders, particle radii, colour
// range) is set up once from the run's scene document; each PLY frame then becomes one image.
#pragma once

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/io/point_table.h"
#include "core/render/frame_stress.h"
#include "core/render/renderer.h"
#include "core/scene.h"

namespace ductile::render {

enum class ColorBy { kMaterial, kObject, kSpeed, kStress, kJ };
// "material", "object", "speed", "stress" (von Mises, from a 'stress' column or the frame's F:
// outputs.state), "J"; throws Error listing the choices otherwise.
ColorBy color_by_name(const std::string& name);

struct FrameRenderSettings {
  RenderOptions image;
  ColorBy color = ColorBy::kMaterial;
  std::optional<Camera> camera;  // overrides the scene's camera (and the automatic one)
  // colour range of speed [m/s], stress [Pa] or J; NaN: from the frames (scan_range) or a default
  double range_lo = std::numeric_limits<double>::quiet_NaN(),
         range_hi = std::numeric_limits<double>::quiet_NaN();
  double radius_scale = 1;  // particle radius = radius_scale * 0.6 * lattice spacing of its object
};

class FrameRenderer {
 public:
  // Loads colliders and the camera (scene's "camera", else automatic around the domain).
  FrameRenderer(const SceneDocument& doc, const FrameRenderSettings& s);
  ~FrameRenderer();
  // With the automatic camera: frames the particles of these tables (their bounding box reaching down to the
  // domain's floor, widened by 15% and kept inside the domain) instead of the whole domain.
  void frame_content(const std::vector<const io::PointTable*>& frames);
  // Widens the colour range to hold the frame's values (speed, stress or J); nothing for categories.
  void scan_range(const io::PointTable& frame, const std::string& name = "frame");
  // The image of one frame at `time` [s] (colliders posed at that time). Throws Error naming `name` when
  // the table lacks a needed column.
  io::Rgb8Image render(const io::PointTable& frame, double time, const std::string& name) const;
  const Camera& camera() const { return camera_; }
  // The colour range in use (after scanning and defaults).
  void range(double& lo, double& hi) const;

 private:
  struct Colliders;
  // The coloured quantity per row (speed, J, stress); throws naming `name` when the table cannot give it.
  std::vector<double> values(const io::PointTable& t, const std::string& name) const;
  int dim_ = 3;
  FrameRenderSettings s_;
  Camera camera_;
  bool auto_camera_ = false;
  Surroundings world_;
  std::vector<float> object_radius_;  // per object [m]
  std::unique_ptr<Colliders> colliders_;
  std::unique_ptr<StressEvaluator> stress_;  // stress from F when the frames have no stress column
  double lo_ = std::numeric_limits<double>::infinity(), hi_ = -std::numeric_limits<double>::infinity();
};

}  // namespace ductile::render
