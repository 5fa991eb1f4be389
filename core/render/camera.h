// Cameras for the software renderer: a pinhole (perspective) camera in 3D and an orthographic view of the
// x-y plane in 2D, from the scene's optional "camera" section or framed automatically around a box.
#pragma once

#include <nlohmann/json.hpp>

namespace ductile::render {

struct Camera {
  int dim = 3;
  // 3D: eye position, point looked at, up direction, vertical field of view
  double position[3] = {0, 0, 3}, target[3] = {0, 0, 0}, up[3] = {0, 1, 0};
  double fov_deg = 35;
  // 2D: centre of the view and its visible height [m]
  double center[2] = {0, 0};
  double height = 1;
};

// A camera set up for an image of w x h pixels: orthonormal basis, focal length in pixels (3D) or pixels per
// metre (2D).
struct View {
  int dim = 3, width = 0, height = 0;
  double eye[3] = {0, 0, 0}, right[3] = {1, 0, 0}, up[3] = {0, 1, 0}, fwd[3] = {0, 0, -1};
  double focal = 1;  // 3D: pixels at unit depth; 2D: pixels per metre
  double center[2] = {0, 0};

  // Pixel coordinates (x right, y down, pixel centres at +0.5) and depth along fwd of world point p; false
  // when the point lies behind the eye (3D).
  bool project(const double p[3], double& px, double& py, double& depth) const;
  // The ray through pixel coordinates (px, py): origin and unit direction (3D).
  void ray(double px, double py, double o[3], double d[3]) const;
  // World x-y of pixel coordinates (2D).
  void unproject_2d(double px, double py, double& x, double& y) const;
};

// The view of `cam` for a w x h image; throws Error when the camera is degenerate (eye on the target, up
// parallel to the viewing direction).
View make_view(const Camera& cam, int w, int h);

// A camera that sees the whole box [lo, hi] in a w x h image: in 3D from the front, raised 25 degrees and
// turned 30 degrees about `up`; in 2D centred on the box with a 4% margin.
Camera auto_camera(int dim, const double lo[3], const double hi[3], const double up[3], int w, int h);

// The camera of a validated scene's "camera" section (docs/SCENE_FORMAT.md).
Camera camera_from_json(const nlohmann::json& cam, int dim);

}  // namespace ductile::render
