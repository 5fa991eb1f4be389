// Gaussian-splat objects of a scene: validation of the shape, the placed Gaussians and their particle
// volumes.
#pragma once

#include <array>
#include <vector>

#include "core/io/gaussian_splats.h"
#include "core/scene_detail.h"

namespace ductile::scene_detail {

// A 3DGS file read and placed: world = translate + scale * R * local; A = scale * R (applied to covariances).
struct PlacedGaussians {
  io::PointTable table;
  io::Mat3d A{};
  std::vector<std::array<double, 3>> centers;  // world positions of the Gaussians, in file order
};

// Checks the keys of shape {"type": "gaussians", "file", "scale", "rotate_deg", "translate"}, fills defaults,
// reads the file (errors name ptr/file) and returns the bounds of the placed centres.
void validate_gaussians_shape(json& shape, const std::string& ptr, Context& ctx, double lo[3], double hi[3]);
// Reads and places the Gaussians of a validated shape.
PlacedGaussians load_placed_gaussians(const json& shape, const std::string& ptr);
// Volume of each particle [m^3]: dx^3 divided by the number of particles in its grid cell.
std::vector<double> gaussian_particle_volumes(const std::vector<std::array<double, 3>>& pts,
                                              const double lo[3], double dx);

}  // namespace ductile::scene_detail
