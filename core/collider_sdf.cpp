// SDF colliders: a dense signed distance field (from a mesh or a VDB level set) copied into a collider.
#include <algorithm>
#include <sstream>

#include "core/collider.h"
#include "core/error.h"
#include "core/level_set.h"

namespace ductile {

namespace {

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

template <class T, int D>
void fill_collider_sdf(Collider<T, D>& c, const DenseSdf& sdf, double slice_z) {
  const std::string where = "collider '" + c.name + "'";
  size_t nodes = 1;
  for (int d = 0; d < 3; ++d) {
    if (sdf.res[d] < 2)
      fail(where, "the SDF needs at least 2 nodes per axis, got " + std::to_string(sdf.res[d]));
    nodes *= size_t(sdf.res[d]);
  }
  if (!(sdf.dx > 0) || sdf.phi.size() != nodes)
    fail(where, "the SDF is inconsistent (dx " + num(sdf.dx) + ", " + std::to_string(sdf.phi.size()) +
                    " values for " + std::to_string(nodes) + " nodes)");
  if constexpr (D == 3) {
    c.sdf.assign(sdf.phi.begin(), sdf.phi.end());
  } else {
    // the x-y lattice of the field at height slice_z
    if (slice_z < sdf.bbox_min(2) || slice_z > sdf.bbox_max(2))
      fail(where, "the slice z = " + num(slice_z) + " misses the SDF (z from " + num(sdf.bbox_min(2)) +
                      " to " + num(sdf.bbox_max(2)) + ")");
    c.sdf.resize(size_t(sdf.res[0]) * sdf.res[1]);
    for (int i = 0; i < sdf.res[0]; ++i)
      for (int j = 0; j < sdf.res[1]; ++j) {
        const double p[3] = {sdf.origin[0] + i * sdf.dx, sdf.origin[1] + j * sdf.dx, slice_z};
        c.sdf[size_t(i) * sdf.res[1] + j] = T(sdf.sample(p));
      }
    if (!(*std::min_element(c.sdf.begin(), c.sdf.end()) < T(0)))
      fail(where, "the slice z = " + num(slice_z) + " does not cut the shape (no point of it is inside)");
  }
  c.shape.shape = ColliderShape::kSdf;
  c.shape.sdf_dx = T(sdf.dx);
  for (int d = 0; d < D; ++d) {
    c.shape.sdf_res[d] = sdf.res[d];
    c.shape.sdf_origin[d] = T(sdf.origin[d]);
  }
  c.shape.sdf = c.sdf.data();
}

template void fill_collider_sdf(Collider<float, 2>&, const DenseSdf&, double);
template void fill_collider_sdf(Collider<float, 3>&, const DenseSdf&, double);
template void fill_collider_sdf(Collider<double, 2>&, const DenseSdf&, double);
template void fill_collider_sdf(Collider<double, 3>&, const DenseSdf&, double);

}  // namespace ductile
