// Helpers shared by the level-set loaders (core/level_set.cpp: what needs no OpenVDB;
// core/level_set_mesh_vdb.cpp: OBJ meshes; core/level_set_vdb.cpp: VDB level sets). Internal to those files.
#pragma once

#include <array>
#include <limits>
#include <string>
#include <vector>

#include "core/level_set.h"

namespace ductile::sdf_detail {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

// OpenVDB registers its grid types once per process; openvdb::initialize is not meant to race.
void init_openvdb();
// A triangle mesh as read from an OBJ file (0-based vertex indices).
struct TriMesh {
  std::vector<std::array<double, 3>> points;
  std::vector<std::array<int, 3>> tris;
};

// A number as the messages print it.
std::string fmt(double v);
// Reads an OBJ file (our line checks, then tinyobjloader); errors name the file and line.
TriMesh read_obj(const std::string& path);
// Edges used by an odd number of triangles, vertices welded by position: 0 for a closed surface.
size_t count_open_edges(const TriMesh& mesh);
// The array spanning [lo, hi] plus the margin, on the lattice of multiples of dx (size checked).
DenseSdf make_dense(const std::string& path, const double lo[3], const double hi[3], double dx);
// Distances at nodes that are not `known` (beyond the narrow band) by fast sweeping.
void sweep_unknown(DenseSdf& s, const std::vector<char>& known);
// A filled shape is negative somewhere and positive on the whole boundary of its array.
void check_inside(const DenseSdf& s, const std::string& path, const std::string& what);

}  // namespace ductile::sdf_detail
