// Stub for a build without OpenVDB (-DDUCTILE_WITH_OPENVDB=OFF): particle surface meshes fail with one clear
// message. The OBJ text, write and read (core/io/obj_mesh.cpp) need no OpenVDB and stay.
#include <string>
#include <vector>

#include "core/io/vdb_mesh.h"
#include "core/io/vdb_volume.h"

namespace ductile::io {

SurfaceMesh particle_surface(const std::vector<float>& xyz, double radius, double voxel) {
  require_openvdb("the surface mesh of " + std::to_string(xyz.size() / 3) + " particles (radius " +
                  std::to_string(radius) + " m, voxel " + std::to_string(voxel) + " m)");
  return {};
}

}  // namespace ductile::io
