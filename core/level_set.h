// Closed surfaces as signed distance fields: OBJ meshes and VDB level sets through OpenVDB, sampled onto a
// dense array that kernels and particle sampling read without OpenVDB. OpenVDB headers stay in level_set.cpp.
#pragma once

#include <string>
#include <vector>

namespace ductile {

// A dense signed distance field (negative inside), node (i,j,k) at origin + (i,j,k) * dx, k fastest.
struct DenseSdf {
  double origin[3] = {0, 0, 0};
  double dx = 0;
  int res[3] = {0, 0, 0};
  std::vector<float> phi;
  // Trilinear value at p; points outside the array get a positive distance to its box.
  double sample(const double p[3]) const;
  double bbox_min(int d) const { return origin[d]; }
  double bbox_max(int d) const { return origin[d] + (res[d] - 1) * dx; }
};

// Placement applied to a loaded shape: scale, then rotation (Euler XYZ, degrees), then translation.
struct Placement {
  double scale = 1;
  double rotate_deg[3] = {0, 0, 0};
  double translate[3] = {0, 0, 0};
};

// Loads a triangle/quad OBJ file (tinyobjloader), places it, and converts it to a filled signed distance
// field with voxel size dx via OpenVDB (meshToLevelSet, interior filled). Throws Error "file:line: ..." or
// "file: ..." for unreadable, empty or non-closed input.
DenseSdf sdf_from_obj(const std::string& path, const Placement& place, double dx);
// Reads a float level-set grid (named `grid`, or the first float grid when empty) from a .vdb file.
DenseSdf sdf_from_vdb(const std::string& path, const std::string& grid, const Placement& place, double dx);
// Writes a level set to a .vdb file (used for tests and assets).
void write_sdf_vdb(const DenseSdf& sdf, const std::string& path, const std::string& grid_name);

}  // namespace ductile
