// Objects made of 3D Gaussian splats (shape type "gaussians"): each Gaussian's centre becomes one particle,
// PhysGaussian-style (Xie et al., CVPR 2024), with the particle volume taken as its grid cell's volume shared
// among the Gaussians in that cell (PhysGaussian's get_particle_volume).
#include "core/scene_gaussians.h"

#include <cmath>
#include <unordered_map>

#include "core/error.h"

namespace ductile::scene_detail {

void validate_gaussians_shape(json& s, const std::string& ptr, Context& ctx, double lo[3], double hi[3]) {
  check_keys(s, ptr, {"type", "file", "scale", "rotate_deg", "translate"});
  get_file(s, ptr, "file", ctx.doc->base_dir);
  get_number(s, ptr, "scale", positive(), 1.0);
  get_vec(s, ptr, "rotate_deg", 3, Range{}, std::vector<double>{0, 0, 0});
  get_vec(s, ptr, "translate", 3, Range{}, std::vector<double>{0, 0, 0});
  const PlacedGaussians g = load_placed_gaussians(s, ptr);
  for (int d = 0; d < 3; ++d) lo[d] = kInf, hi[d] = -kInf;
  for (const auto& c : g.centers)
    for (int d = 0; d < 3; ++d) lo[d] = std::min(lo[d], c[size_t(d)]), hi[d] = std::max(hi[d], c[size_t(d)]);
}

PlacedGaussians load_placed_gaussians(const json& shape, const std::string& ptr) {
  PlacedGaussians g;
  try {
    g.table = io::read_gaussians(shape.at("file").get<std::string>());
  } catch (const std::exception& e) {
    fail_at(child(ptr, "file"), e.what());
  }
  const Placement place = placement_of(shape);
  double R[3][3];
  placement_rotation(place, R);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) g.A[size_t(i)][size_t(j)] = place.scale * R[i][j];
  const int cx = g.table.column("x"), cy = g.table.column("y"), cz = g.table.column("z");
  g.centers.resize(g.table.count);
  for (size_t r = 0; r < g.table.count; ++r) {
    const double local[3] = {g.table.at(r, cx), g.table.at(r, cy), g.table.at(r, cz)};
    place_point(place, local, g.centers[r].data());
  }
  return g;
}

std::vector<double> gaussian_particle_volumes(const std::vector<std::array<double, 3>>& pts,
                                              const double lo[3], double dx) {
  // cells keyed by their integer coordinates relative to the domain's min corner
  auto key = [&](const std::array<double, 3>& p) {
    int64_t k = 0;
    for (int d = 0; d < 3; ++d) k = k * 2097152 + int64_t(std::floor((p[size_t(d)] - lo[d]) / dx)) + 1048576;
    return k;
  };
  std::unordered_map<int64_t, int> count;
  for (const auto& p : pts) ++count[key(p)];
  std::vector<double> vol(pts.size());
  for (size_t i = 0; i < pts.size(); ++i) vol[i] = dx * dx * dx / count[key(pts[i])];
  return vol;
}

}  // namespace ductile::scene_detail
