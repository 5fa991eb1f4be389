// Particles -> narrow-band level set (Zhu & Bridson 2005 union of spheres, as OpenVDB's ParticlesToLevelSet
// rasterizes it) -> polygons by OpenVDB's adaptive dual marching cubes (volumeToMesh, adaptivity 0).
#include "core/io/vdb_mesh.h"

#include <openvdb/openvdb.h>
#include <openvdb/tools/ParticlesToLevelSet.h>
#include <openvdb/tools/VolumeToMesh.h>

#include <cmath>
#include <cstdio>
#include <mutex>

#include "core/error.h"

namespace ductile::io {

namespace {

// The particle list interface ParticlesToLevelSet reads.
struct PointList {
  using PosType = openvdb::Vec3R;
  const std::vector<float>* xyz;
  size_t size() const { return xyz->size() / 3; }
  void getPos(size_t n, openvdb::Vec3R& p) const {
    p = openvdb::Vec3R((*xyz)[3 * n], (*xyz)[3 * n + 1], (*xyz)[3 * n + 2]);
  }
};

}  // namespace

SurfaceMesh particle_surface(const std::vector<float>& xyz, double radius, double voxel) {
  if (!(voxel > 0) || !std::isfinite(voxel) || !(radius > 0) || !std::isfinite(radius))
    fail("mesh", "voxel and radius must be positive, got voxel " + std::to_string(voxel) + " and radius " +
                     std::to_string(radius));
  if (radius < 1.5 * voxel)
    fail("mesh", "the particle radius " + std::to_string(radius) + " m is below 1.5 voxels (" +
                     std::to_string(1.5 * voxel) + " m): raise mesh_radius or lower mesh_voxel");
  SurfaceMesh m;
  if (xyz.size() < 3) return m;
  static std::once_flag once;
  std::call_once(once, [] { openvdb::initialize(); });
  const float half_width = 3.0f;
  auto grid = openvdb::createLevelSet<openvdb::FloatGrid>(voxel, half_width);
  openvdb::tools::ParticlesToLevelSet<openvdb::FloatGrid> raster(*grid);
  PointList pl{&xyz};
  raster.rasterizeSpheres(pl, openvdb::Real(radius));
  raster.finalize(true);
  std::vector<openvdb::Vec3s> points;
  std::vector<openvdb::Vec3I> tris;
  std::vector<openvdb::Vec4I> quads;
  openvdb::tools::volumeToMesh(*grid, points, tris, quads, 0.0, 0.0);
  m.vertices.reserve(points.size() * 3);
  for (const auto& p : points) m.vertices.insert(m.vertices.end(), {p[0], p[1], p[2]});
  // OpenVDB's polygons wind clockwise seen from outside; OBJ expects counter-clockwise
  for (const auto& q : quads) {
    m.faces.insert(m.faces.end(), {int(q[3]), int(q[2]), int(q[1]), int(q[0])});
    m.face_size.push_back(4);
  }
  for (const auto& t : tris) {
    m.faces.insert(m.faces.end(), {int(t[2]), int(t[1]), int(t[0])});
    m.face_size.push_back(3);
  }
  return m;
}

}  // namespace ductile::io
