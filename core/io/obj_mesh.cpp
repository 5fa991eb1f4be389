// OBJ text of surface meshes, its atomic write and a plain reader (declared in core/io/vdb_mesh.h); apart
// from vdb_mesh.cpp because none of it needs OpenVDB, so a build without OpenVDB keeps it.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/vdb_mesh.h"

namespace ductile::io {

std::string obj_text(const NamedMeshes& groups, const std::string& comment) {
  std::string s;
  if (!comment.empty()) s += "# " + comment + "\n";
  char b[96];
  size_t base = 1;  // OBJ indices are 1-based and global
  for (const auto& [name, m] : groups) {
    s += "o " + name + "\n";
    for (size_t i = 0; i + 2 < m.vertices.size(); i += 3) {
      std::snprintf(b, sizeof b, "v %.7g %.7g %.7g\n", m.vertices[i], m.vertices[i + 1], m.vertices[i + 2]);
      s += b;
    }
    size_t k = 0;
    for (int n : m.face_size) {
      s += 'f';
      for (int j = 0; j < n; ++j) s += ' ' + std::to_string(size_t(m.faces[k + size_t(j)]) + base);
      s += '\n';
      k += size_t(n);
    }
    base += m.vertices.size() / 3;
  }
  return s;
}

void write_obj(const std::string& path, const NamedMeshes& groups, const std::string& comment) {
  write_file_atomic(path, obj_text(groups, comment));
}

SurfaceMesh read_obj(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, "cannot open");
  SurfaceMesh m;
  std::string line;
  int ln = 0;
  while (std::getline(in, line)) {
    ++ln;
    std::istringstream ss(line);
    std::string tag;
    ss >> tag;
    const std::string where = path + ":" + std::to_string(ln);
    if (tag == "v") {
      float x, y, z;
      if (!(ss >> x >> y >> z)) fail(where, "a vertex needs three numbers");
      m.vertices.insert(m.vertices.end(), {x, y, z});
    } else if (tag == "f") {
      std::string item;
      int count = 0;
      const long nv = long(m.vertices.size() / 3);
      while (ss >> item) {
        char* end = nullptr;
        long idx = std::strtol(item.c_str(), &end, 10);
        if (end == item.c_str() || (*end != '\0' && *end != '/'))
          fail(where, "bad face index '" + item + "'");
        if (idx < 0) idx = nv + idx + 1;
        if (idx < 1 || idx > nv)
          fail(where, "face index " + item + " out of range (" + std::to_string(nv) + " vertices so far)");
        m.faces.push_back(int(idx - 1));
        ++count;
      }
      if (count < 3) fail(where, "a face needs at least three vertices");
      m.face_size.push_back(count);
    }
  }
  return m;
}

}  // namespace ductile::io
