// Closed surfaces as signed distance fields: OBJ meshes and VDB level sets through OpenVDB, sampled onto a
// dense array that kernels and particle sampling read without OpenVDB. OpenVDB headers stay in level_set.cpp
// and level_set_vdb.cpp.
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
  // Trilinear value at p; points outside the array get the value at the nearest point of the array's box
  // plus the distance to that box (as kernels/collider.h sample_sdf does), so far points are never inside.
  double sample(const double p[3]) const;
  double bbox_min(int d) const { return origin[d]; }
  double bbox_max(int d) const { return origin[d] + (res[d] - 1) * dx; }
  size_t index(int i, int j, int k) const { return (size_t(i) * res[1] + j) * res[2] + k; }
  float at(int i, int j, int k) const { return phi[index(i, j, k)]; }
};

// Placement applied to a loaded shape: scale, then rotation (Euler XYZ, degrees), then translation.
// Euler XYZ means rotations about the fixed world axes x, then y, then z: R = Rz(c) Ry(b) Rx(a).
struct Placement {
  double scale = 1;
  double rotate_deg[3] = {0, 0, 0};
  double translate[3] = {0, 0, 0};
};

// The rotation matrix of a placement (row-major, local -> world).
void placement_rotation(const Placement& place, double R[3][3]);
// world = translate + scale * R * local, and its inverse.
void place_point(const Placement& place, const double local[3], double world[3]);
void unplace_point(const Placement& place, const double world[3], double local[3]);

// Loads a triangle/quad OBJ file (tinyobjloader), places it, and converts it to a filled signed distance
// field with voxel size dx via OpenVDB (meshToLevelSet, interior filled). Throws Error "file:line: ..." or
// "file: ..." for unreadable, empty or non-closed input. The array covers the placed mesh's bounding box
// plus kSdfMarginVoxels nodes on each side; distances are exact near the surface and extended to the whole
// array by fast sweeping.
DenseSdf sdf_from_obj(const std::string& path, const Placement& place, double dx);
// Reads a float level-set grid (named `grid`, or the first float grid when empty) from a .vdb file and
// resamples it, placed, at spacing dx (dx <= 0: the grid's voxel size times the placement's scale).
DenseSdf sdf_from_vdb(const std::string& path, const std::string& grid, const Placement& place, double dx);
// Writes a level set to a .vdb file (used for tests and assets): a FloatGrid of class GRID_LEVEL_SET whose
// voxel (i,j,k) sits at the array node (i,j,k). half_width_voxels <= 0 stores every node (background above
// every distance); > 0 stores the usual narrow band |phi| < half_width * dx, with background half_width * dx
// and the inside flood-filled to -background, as Houdini and Blender write level sets.
void write_sdf_vdb(const DenseSdf& sdf, const std::string& path, const std::string& grid_name,
                   double half_width_voxels = 0);

// Nodes of padding around a shape's bounding box in the arrays above.
constexpr int kSdfMarginVoxels = 4;

}  // namespace ductile
