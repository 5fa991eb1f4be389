// Stubs for a build without OpenVDB (-DDUCTILE_WITH_OPENVDB=OFF): mesh and VDB shapes fail with one clear
// message naming the file. Placements, dense arrays and sampling (core/level_set.cpp) need no OpenVDB and
// stay.
#include <string>

#include "core/io/vdb_volume.h"
#include "core/level_set.h"

namespace ductile {

DenseSdf sdf_from_obj(const std::string& path, const Placement&, double) {
  io::require_openvdb("the signed distance field of the OBJ mesh " + path);
  return {};
}

DenseSdf sdf_from_vdb(const std::string& path, const std::string&, const Placement&, double) {
  io::require_openvdb("the level set of the VDB file " + path);
  return {};
}

void write_sdf_vdb(const DenseSdf&, const std::string& path, const std::string&, double) {
  io::require_openvdb("the VDB file " + path);
}

}  // namespace ductile
