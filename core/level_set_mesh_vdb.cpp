// Signed distance fields of OBJ meshes through OpenVDB (meshToSignedDistanceField): the translation unit with
// OpenVDB's mesh tools, whose headers cost about a minute to compile on two cores. The OBJ reading and the
// dense-array helpers are in core/level_set.cpp; without OpenVDB core/level_set_novdb.cpp stands in.
#include <openvdb/openvdb.h>
#include <openvdb/tools/MeshToVolume.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/level_set.h"
#include "core/level_set_detail.h"

namespace ductile {

namespace sdf_detail {

// OpenVDB registers its grid types once per process; openvdb::initialize is not meant to race.
void init_openvdb() {
  static std::once_flag once;
  std::call_once(once, [] { openvdb::initialize(); });
}

}  // namespace sdf_detail

using namespace sdf_detail;

// OBJ -> placed triangles -> OpenVDB level set with a filled interior -> dense array.

DenseSdf sdf_from_obj(const std::string& path, const Placement& place, double dx) {
  if (!(dx > 0) || !std::isfinite(dx)) fail(path, "voxel size dx must be > 0, got " + fmt(dx));
  if (!(place.scale > 0)) fail(path, "placement scale must be > 0, got " + fmt(place.scale));
  TriMesh mesh = read_obj(path);
  if (size_t open = count_open_edges(mesh))
    fail(path, "mesh is not closed: " + std::to_string(open) +
                   " edges belong to an odd number of triangles (a filled SDF needs a watertight surface)");

  // place the used vertices and take their bounding box
  std::vector<openvdb::Vec3s> points(mesh.points.size());
  std::vector<openvdb::Vec3I> tris;
  double lo[3] = {kInf, kInf, kInf}, hi[3] = {-kInf, -kInf, -kInf};
  for (size_t i = 0; i < mesh.points.size(); ++i) {
    double w[3];
    place_point(place, mesh.points[i].data(), w);
    points[i] = openvdb::Vec3s(float(w[0]), float(w[1]), float(w[2]));
  }
  for (const auto& t : mesh.tris) {
    tris.emplace_back(t[0], t[1], t[2]);
    for (int v : t)
      for (int d = 0; d < 3; ++d) {
        lo[d] = std::min(lo[d], double(points[v][d]));
        hi[d] = std::max(hi[d], double(points[v][d]));
      }
  }
  DenseSdf s = make_dense(path, lo, hi, dx);

  // No point inside the box is deeper than half its smallest extent: that bounds the interior band, which
  // fills the inside with distances; the exterior band covers the margin and the rest is swept below.
  init_openvdb();
  double min_extent = std::min({hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]});
  const float in_band = float(std::ceil(0.5 * min_extent / dx) + 2);
  const float ex_band = float(kSdfMarginVoxels + 2);
  auto xform = openvdb::math::Transform::createLinearTransform(dx);
  openvdb::FloatGrid::Ptr grid;
  try {
    grid = openvdb::tools::meshToSignedDistanceField<openvdb::FloatGrid>(*xform, points, tris, {}, ex_band,
                                                                         in_band);
  } catch (const openvdb::Exception& e) {
    fail(path, std::string("OpenVDB mesh conversion failed: ") + e.what());
  }

  // array node (i,j,k) is voxel (i,j,k) + lo: copy values, remember which lie in the computed band
  std::vector<char> known(s.phi.size());
  const openvdb::Coord base(int(std::lround(s.origin[0] / dx)), int(std::lround(s.origin[1] / dx)),
                            int(std::lround(s.origin[2] / dx)));
#pragma omp parallel for schedule(static)
  for (int i = 0; i < s.res[0]; ++i) {
    auto acc = grid->getConstAccessor();
    for (int j = 0; j < s.res[1]; ++j)
      for (int k = 0; k < s.res[2]; ++k) {
        const openvdb::Coord c = base + openvdb::Coord(i, j, k);
        const size_t idx = s.index(i, j, k);
        s.phi[idx] = acc.getValue(c);
        known[idx] = acc.isValueOn(c);
      }
  }
  sweep_unknown(s, known);
  check_inside(s, path, "the mesh");
  return s;
}

}  // namespace ductile
