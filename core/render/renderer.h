// A CPU software renderer for particle frames: particles as shaded spheres (discs in 2D) in a z-buffer, the
// ground and the kinematic colliders ray-cast from their signed distances, Lambert + Blinn-Phong lighting.
#pragma once

#include <cstdint>
#include <vector>

#include "core/collider.h"
#include "core/io/png.h"
#include "core/render/camera.h"

namespace ductile::render {

// Particles to draw: positions (3 per particle; z = 0 in 2D), radii [m] and linear RGB colours in [0, 1].
struct Spheres {
  std::vector<float> x, radius, rgb;
  size_t size() const { return radius.size(); }
};

// What surrounds the particles: the domain box, the colliders at the frame's time, and which way is up.
struct Surroundings {
  int dim = 3;
  double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
  double up[3] = {0, 1, 0};
  std::vector<ColliderData<float, 3>> colliders3;  // 3D: evaluated at the frame's time (Collider::at)
  std::vector<ColliderData<float, 2>> colliders2;  // 2D
  bool ground = true;  // 3D: a checkered floor on the domain's lowest face along up (unless a plane is there)
};

struct RenderOptions {
  int width = 960, height = 540;
  int supersample = 2;  // rendered at supersample^2 samples per pixel, box-filtered
};

// Renders one image. Colliders and the ground are drawn first (their depth enters the z-buffer), then the
// spheres. OpenMP splits the image into bands of rows, so no two threads write the same pixel.
io::Rgb8Image render_image(const Surroundings& world, const Camera& cam, const Spheres& parts,
                           const RenderOptions& opt);

}  // namespace ductile::render
