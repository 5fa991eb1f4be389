// Surface meshes of particle sets for Blender and Houdini: the particles are rasterized as spheres into an
// OpenVDB narrow-band level set (tools::ParticlesToLevelSet) and its zero surface is extracted as polygons
// (tools::volumeToMesh), written as Wavefront OBJ. OpenVDB headers stay in vdb_mesh.cpp.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace ductile::io {

struct SurfaceMesh {
  std::vector<float> vertices;  // x y z per vertex
  std::vector<int> faces;       // vertex indices (0-based), face_size[k] of them per face
  std::vector<int> face_size;   // 3 or 4
};

// The surface of the union of spheres of `radius` [m] around points (x y z each) on a level set of voxel size
// `voxel` [m]. Throws Error when radius < 1.5 voxels (OpenVDB would drop every sphere) or the sizes are not
// positive and finite. An empty point set gives an empty mesh.
SurfaceMesh particle_surface(const std::vector<float>& xyz, double radius, double voxel);

// The OBJ text of named meshes, one "o name" group each ("v x y z", "f a b c [d]", 1-based indices running
// on across groups), and its atomic write to `path`.
using NamedMeshes = std::vector<std::pair<std::string, SurfaceMesh>>;
std::string obj_text(const NamedMeshes& groups, const std::string& comment = "");
void write_obj(const std::string& path, const NamedMeshes& groups, const std::string& comment = "");

// Reads the vertices and faces of an OBJ file (v and f lines; f entries may be a, a/b, a/b/c, a//c, negative
// = relative); other lines are skipped. Errors name the file and line.
SurfaceMesh read_obj(const std::string& path);

}  // namespace ductile::io
