// The parts of the signed distance fields that need no OpenVDB: placements, OBJ reading (tinyobjloader) and
// checks, dense arrays, fast sweeping and sampling. OpenVDB's halves: core/level_set_mesh_vdb.cpp (OBJ
// meshes) and core/level_set_vdb.cpp (VDB level sets); core/level_set_novdb.cpp stands in for both without
// OpenVDB.
#include "core/level_set.h"

#include <tiny_obj_loader.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <regex>
#include <sstream>
#include <unordered_map>

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/level_set_detail.h"
#include "core/resources.h"

namespace ductile {

namespace sdf_detail {

constexpr double kPi = 3.14159265358979323846;
// Largest array the loaders make (4 bytes a node, plus 8 during the sweep).
constexpr int64_t kMaxNodes = int64_t(1) << 26;
// Bytes a node of the box costs at most while a field is made: 4 (value) + 1 (known) + 8 (sweep distance) in
// the dense array, about 9 in OpenVDB's value, index and mask grids where the band covers it.
constexpr double kSdfBytesPerNode = 22;

std::string fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// ---------------------------------------------------------------------------------------------------------
// OBJ input: our own line checks first (tinyobjloader reads bad numbers as 0 without a word), then the parse.

// A number that fills the whole token.
bool parse_number(const std::string& tok, double& out) {
  if (tok.empty()) return false;
  char* end = nullptr;
  out = std::strtod(tok.c_str(), &end);
  return end == tok.c_str() + tok.size() && std::isfinite(out);
}

bool parse_int(const std::string& tok, long& out) {
  if (tok.empty()) return false;
  char* end = nullptr;
  out = std::strtol(tok.c_str(), &end, 10);
  return end == tok.c_str() + tok.size();
}

// Checks vertex, texture, normal and face statements; unknown statements are ignored as OBJ readers do.
void check_obj_lines(const std::string& path, const std::string& text) {
  std::istringstream in(text);
  std::string line;
  long line_no = 0, nv = 0;
  std::vector<std::pair<long, long>> forward_refs;  // (line, positive index) checked once all v are read
  auto where = [&](long l) { return path + ":" + std::to_string(l); };
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream ls(line);
    std::string key;
    if (!(ls >> key) || key[0] == '#') continue;
    std::vector<std::string> toks;
    for (std::string t; ls >> t;) toks.push_back(t);
    if (key == "v" || key == "vn" || key == "vt") {
      size_t need = key == "vt" ? 1 : 3;
      double x;
      bool ok = toks.size() >= need;
      for (const auto& t : toks) ok = ok && parse_number(t, x);
      if (!ok)
        fail(where(line_no),
             "'" + key + "' needs " + std::to_string(need) + " finite numbers, got \"" + line + "\"");
      if (key == "v") ++nv;
    } else if (key == "f") {
      if (toks.size() < 3) fail(where(line_no), "a face needs at least 3 vertices, got \"" + line + "\"");
      for (const auto& t : toks) {
        // v, v/vt, v//vn or v/vt/vn: each present part an integer
        std::vector<std::string> parts;
        std::string part;
        std::istringstream ps(t);
        while (std::getline(ps, part, '/')) parts.push_back(part);
        if (!t.empty() && t.back() == '/') parts.push_back("");
        long idx = 0, other = 0;
        bool ok = !parts.empty() && parts.size() <= 3 && parse_int(parts[0], idx) && idx != 0;
        for (size_t i = 1; ok && i < parts.size(); ++i) ok = parts[i].empty() || parse_int(parts[i], other);
        if (!ok)
          fail(where(line_no), "bad face vertex \"" + t + "\" (expected v, v/vt, v//vn or v/vt/vn, 1-based)");
        if (idx < 0 && -idx > nv)
          fail(where(line_no), "face vertex " + std::to_string(idx) + " refers before the first vertex (" +
                                   std::to_string(nv) + " so far)");
        if (idx > 0) forward_refs.emplace_back(line_no, idx);
      }
    }
  }
  for (const auto& [l, idx] : forward_refs)
    if (idx > nv)
      fail(where(l), "face vertex " + std::to_string(idx) + " is out of range (the file has " +
                         std::to_string(nv) + " vertices)");
}

// "PATH:LINE: message" when tinyobjloader names a line, else "PATH: message".
[[noreturn]] void fail_tinyobj(const std::string& path, std::string msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  std::smatch m;
  static const std::regex line_re("line:?\\s*([0-9]+)");
  if (std::regex_search(msg, m, line_re)) fail(path + ":" + m[1].str(), msg);
  fail(path, msg.empty() ? "tinyobjloader could not parse the file" : msg);
}

TriMesh read_obj(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f || std::filesystem::is_directory(path)) fail(path, "cannot open");
  std::stringstream buf;
  buf << f.rdbuf();
  const std::string text = buf.str();
  check_obj_lines(path, text);

  tinyobj::attrib_t attrib;
  std::vector<tinyobj::shape_t> shapes;
  std::vector<tinyobj::material_t> materials;
  std::string warn, err;
  std::istringstream in(text);
  // no material reader: materials do not matter for a distance field
  if (!tinyobj::LoadObj(&attrib, &shapes, &materials, &warn, &err, &in, nullptr, true))
    fail_tinyobj(path, err);
  if (!err.empty()) fail_tinyobj(path, err);
  if (warn.find("out of bounds") != std::string::npos) fail_tinyobj(path, warn);

  TriMesh mesh;
  for (size_t i = 0; i + 2 < attrib.vertices.size(); i += 3)
    mesh.points.push_back({attrib.vertices[i], attrib.vertices[i + 1], attrib.vertices[i + 2]});
  for (const auto& s : shapes) {
    size_t off = 0;
    for (unsigned char fv : s.mesh.num_face_vertices) {
      // triangulated by tinyobjloader; a fan covers anything it left as a polygon
      for (unsigned k = 1; k + 1 < fv; ++k)
        mesh.tris.push_back({s.mesh.indices[off].vertex_index, s.mesh.indices[off + k].vertex_index,
                             s.mesh.indices[off + k + 1].vertex_index});
      off += fv;
    }
  }
  if (mesh.tris.empty()) fail(path, "no triangles");
  return mesh;
}

// A closed surface uses every edge an even number of times (twice on a manifold); vertices are welded by
// position first, since exporters split them at texture seams.
size_t count_open_edges(const TriMesh& mesh) {
  std::map<std::array<double, 3>, int> weld;
  std::vector<int> id(mesh.points.size());
  for (size_t i = 0; i < mesh.points.size(); ++i)
    id[i] = weld.emplace(mesh.points[i], int(weld.size())).first->second;
  std::unordered_map<uint64_t, int> uses;
  for (const auto& t : mesh.tris) {
    int a = id[t[0]], b = id[t[1]], c = id[t[2]];
    if (a == b || b == c || a == c) continue;  // degenerate: no area, no boundary
    for (auto [p, q] : std::array<std::pair<int, int>, 3>{{{a, b}, {b, c}, {c, a}}}) {
      uint64_t key = (uint64_t(std::min(p, q)) << 32) | uint64_t(std::max(p, q));
      ++uses[key];
    }
  }
  size_t open = 0;
  for (const auto& [key, n] : uses) open += n % 2;
  return open;
}

// ---------------------------------------------------------------------------------------------------------
// Dense arrays.

// The array spanning [lo, hi] plus the margin, on the lattice of multiples of dx (so that VDB voxels and
// array nodes coincide when the VDB transform is a plain voxel size).
DenseSdf make_dense(const std::string& path, const double lo[3], const double hi[3], double dx) {
  DenseSdf s;
  s.dx = dx;
  int64_t nodes = 1;
  for (int d = 0; d < 3; ++d) {
    double a = std::floor(lo[d] / dx + 1e-4) - kSdfMarginVoxels;
    double b = std::ceil(hi[d] / dx - 1e-4) + kSdfMarginVoxels;
    if (!(b - a < double(kMaxNodes)))
      fail(path, "dx = " + fmt(dx) + " is too small for a shape of extent " + fmt(hi[d] - lo[d]));
    s.origin[d] = a * dx;
    s.res[d] = int(b - a) + 1;
    nodes *= s.res[d];
  }
  if (nodes > kMaxNodes)
    fail(path, "dx = " + fmt(dx) + " needs a " + std::to_string(s.res[0]) + " x " + std::to_string(s.res[1]) +
                   " x " + std::to_string(s.res[2]) + " array (more than " + std::to_string(kMaxNodes) +
                   " nodes); use a larger dx");
  // the dense field, its known flags and the sweep's distances, plus OpenVDB's band grids, which fill the
  // whole box for a solid shape: an upper estimate, checked before OpenVDB or the array allocates
  check_memory("the signed distance field of " + path, double(nodes) * kSdfBytesPerNode,
               std::to_string(s.res[0]) + " x " + std::to_string(s.res[1]) + " x " +
                   std::to_string(s.res[2]) + " nodes at dx = " + fmt(dx),
               "use a larger sdf_dx or a smaller scale; --max-memory raises the limit");
  s.phi.assign(size_t(nodes), 0.f);
  return s;
}

// Distances at nodes that are not `known` (beyond the narrow band) by fast sweeping (Zhao 2005, "A fast
// sweeping method for Eikonal equations", eq. 2.4: the Godunov upwind update), keeping each node's sign.
void sweep_unknown(DenseSdf& s, const std::vector<char>& known) {
  const int n0 = s.res[0], n1 = s.res[1], n2 = s.res[2];
  const double h = s.dx;
  std::vector<double> d(s.phi.size());
  bool any = false;
  for (size_t i = 0; i < d.size(); ++i) {
    d[i] = known[i] ? std::fabs(double(s.phi[i])) : kInf;
    any = any || !known[i];
  }
  if (!any) return;
  auto val = [&](int i, int j, int k) {
    if (i < 0 || j < 0 || k < 0 || i >= n0 || j >= n1 || k >= n2) return kInf;
    return d[s.index(i, j, k)];
  };
  for (int round = 0; round < 2; ++round)
    for (int dir = 0; dir < 8; ++dir) {
      const int si = dir & 1 ? -1 : 1, sj = dir & 2 ? -1 : 1, sk = dir & 4 ? -1 : 1;
      for (int ii = 0; ii < n0; ++ii)
        for (int jj = 0; jj < n1; ++jj)
          for (int kk = 0; kk < n2; ++kk) {
            const int i = si > 0 ? ii : n0 - 1 - ii, j = sj > 0 ? jj : n1 - 1 - jj,
                      k = sk > 0 ? kk : n2 - 1 - kk;
            const size_t idx = s.index(i, j, k);
            if (known[idx]) continue;
            double a[3] = {std::min(val(i - 1, j, k), val(i + 1, j, k)),
                           std::min(val(i, j - 1, k), val(i, j + 1, k)),
                           std::min(val(i, j, k - 1), val(i, j, k + 1))};
            std::sort(a, a + 3);
            if (a[0] == kInf) continue;
            double x = a[0] + h;
            if (x > a[1]) {
              x = 0.5 * (a[0] + a[1] + std::sqrt(2 * h * h - (a[0] - a[1]) * (a[0] - a[1])));
              if (x > a[2]) {
                const double sum = a[0] + a[1] + a[2];
                const double sq = a[0] * a[0] + a[1] * a[1] + a[2] * a[2];
                x = (sum + std::sqrt(std::max(0.0, sum * sum - 3 * (sq - h * h)))) / 3;
              }
            }
            if (x < d[idx]) d[idx] = x;
          }
    }
  for (size_t i = 0; i < d.size(); ++i)
    if (!known[i] && d[i] < kInf) s.phi[i] = float(s.phi[i] < 0 ? -d[i] : d[i]);
}

// A filled shape is negative somewhere and positive on the whole boundary of its array.
void check_inside(const DenseSdf& s, const std::string& path, const std::string& what) {
  float lo = *std::min_element(s.phi.begin(), s.phi.end());
  if (!(lo < 0))
    fail(path, what + " has no inside (no negative distance at spacing " + fmt(s.dx) +
                   "): the surface is open or thinner than the voxel size");
  for (int i = 0; i < s.res[0]; ++i)
    for (int j = 0; j < s.res[1]; ++j)
      for (int k = 0; k < s.res[2]; ++k) {
        bool face = i == 0 || j == 0 || k == 0 || i == s.res[0] - 1 || j == s.res[1] - 1 || k == s.res[2] - 1;
        if (face && s.at(i, j, k) < 0)
          fail(path, what + " is inside-out or open: the inside reaches the boundary of its bounding box");
      }
}

}  // namespace sdf_detail

using namespace sdf_detail;

// ---------------------------------------------------------------------------------------------------------
// Placement: world = translate + scale * Rz Ry Rx * local.

void placement_rotation(const Placement& place, double R[3][3]) {
  const double a = place.rotate_deg[0] * kPi / 180, b = place.rotate_deg[1] * kPi / 180,
               c = place.rotate_deg[2] * kPi / 180;
  const double ca = std::cos(a), sa = std::sin(a), cb = std::cos(b), sb = std::sin(b), cc = std::cos(c),
               sc = std::sin(c);
  const double Rx[3][3] = {{1, 0, 0}, {0, ca, -sa}, {0, sa, ca}};
  const double Ry[3][3] = {{cb, 0, sb}, {0, 1, 0}, {-sb, 0, cb}};
  const double Rz[3][3] = {{cc, -sc, 0}, {sc, cc, 0}, {0, 0, 1}};
  double Ryx[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      Ryx[i][j] = 0;
      for (int k = 0; k < 3; ++k) Ryx[i][j] += Ry[i][k] * Rx[k][j];
    }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      R[i][j] = 0;
      for (int k = 0; k < 3; ++k) R[i][j] += Rz[i][k] * Ryx[k][j];
    }
}

void place_point(const Placement& place, const double local[3], double world[3]) {
  double R[3][3];
  placement_rotation(place, R);
  for (int i = 0; i < 3; ++i)
    world[i] =
        place.translate[i] + place.scale * (R[i][0] * local[0] + R[i][1] * local[1] + R[i][2] * local[2]);
}

void unplace_point(const Placement& place, const double world[3], double local[3]) {
  double R[3][3];
  placement_rotation(place, R);
  double r[3];
  for (int i = 0; i < 3; ++i) r[i] = world[i] - place.translate[i];
  for (int i = 0; i < 3; ++i) local[i] = (R[0][i] * r[0] + R[1][i] * r[1] + R[2][i] * r[2]) / place.scale;
}

// ---------------------------------------------------------------------------------------------------------
// Trilinear sample with the distance to the box added outside it.

double DenseSdf::sample(const double p[3]) const {
  if (phi.empty() || !(dx > 0)) return kInf;
  int b[3];
  double f[3], outside = 0;
  for (int d = 0; d < 3; ++d) {
    const double u = (p[d] - origin[d]) / dx, hi = res[d] - 1;
    const double uc = u < 0 ? 0 : (u > hi ? hi : u);
    outside += (u - uc) * (u - uc);
    b[d] = std::max(0, std::min(int(std::floor(uc)), res[d] - 2));
    f[d] = res[d] > 1 ? uc - b[d] : 0;
  }
  double v = 0;
  for (int c = 0; c < 8; ++c) {
    int o[3] = {(c >> 2) & 1, (c >> 1) & 1, c & 1};
    double w = 1;
    for (int d = 0; d < 3; ++d) w *= o[d] ? f[d] : 1 - f[d];
    if (w == 0) continue;
    v += w * at(b[0] + o[0], b[1] + o[1], b[2] + o[2]);
  }
  return v + std::sqrt(outside) * dx;
}

}  // namespace ductile
