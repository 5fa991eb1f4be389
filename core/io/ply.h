// PLY point files: binary little-endian with float properties (one vertex element), readable by Houdini,
// Blender add-ons, MeshLab, Open3D and plyfile. The reader also accepts ASCII PLY and any scalar type.
#pragma once

#include <string>
#include <vector>

#include "core/io/point_table.h"

namespace ductile::io {

// The bytes of a binary little-endian PLY file with one `vertex` element of float properties.
std::string ply_bytes(const PointTable& t, const std::vector<std::string>& comments = {});
// Writes ply_bytes() to `path` atomically.
void write_ply(const std::string& path, const PointTable& t, const std::vector<std::string>& comments = {});

// Reads the `vertex` element of a PLY file (binary little-endian or ASCII; scalar properties of any type,
// converted to float). Errors read "file: line N: ..." for the header and name the element for the body;
// no allocation exceeds what the file's size can hold.
PointTable read_ply(const std::string& path);
// The same from bytes in memory; `name` stands for the file in messages.
PointTable parse_ply(const std::string& bytes, const std::string& name);

}  // namespace ductile::io
