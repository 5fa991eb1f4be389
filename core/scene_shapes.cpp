// Shapes of a validated scene: rotations, placements, signed distance fields and solids for sampling.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/scene_detail.h"

namespace ductile::scene_detail {

namespace {

std::vector<double> vec_of(const json& v, int n, double def) {
  std::vector<double> r(size_t(n), def);
  if (v.is_array())
    for (int i = 0; i < n && i < int(v.size()); ++i) r[size_t(i)] = v[size_t(i)].get<double>();
  return r;
}

}  // namespace

void rotation_of(const std::vector<double>& deg3, int dim, double R[3][3]) {
  Placement p;
  if (dim == 2)
    p.rotate_deg[2] = deg3[2];
  else
    for (int i = 0; i < 3; ++i) p.rotate_deg[i] = deg3[size_t(i)];
  placement_rotation(p, R);
}

void axis_angle_of(const double R[3][3], double w[3]) {
  const double c = std::clamp((R[0][0] + R[1][1] + R[2][2] - 1) / 2, -1.0, 1.0);
  const double angle = std::acos(c);
  const double s[3] = {R[2][1] - R[1][2], R[0][2] - R[2][0], R[1][0] - R[0][1]};
  if (angle < 1e-12) {
    w[0] = w[1] = w[2] = 0;
  } else if (angle < 3.141592653589793 - 1e-3) {
    const double f = angle / (2 * std::sin(angle));
    for (int i = 0; i < 3; ++i) w[i] = f * s[i];
  } else {
    // near pi: the axis from the diagonal of (R + I) / 2 = k k^T, signs from its largest column
    int m = 0;
    for (int i = 1; i < 3; ++i)
      if (R[i][i] > R[m][m]) m = i;
    double k[3];
    const double km = std::sqrt(std::max(0.0, (R[m][m] + 1) / 2));
    for (int i = 0; i < 3; ++i) k[i] = i == m ? km : (R[i][m] + R[m][i]) / (4 * km);
    // choose the sign that agrees with the (small) skew part
    double sk = k[0] * s[0] + k[1] * s[1] + k[2] * s[2];
    const double sign = sk < 0 ? -1 : 1;
    for (int i = 0; i < 3; ++i) w[i] = sign * angle * k[i];
  }
}

Placement placement_of(const json& shape, bool at_origin) {
  Placement p;
  p.scale = shape.value("scale", 1.0);
  std::vector<double> r = vec_of(shape.value("rotate_deg", json()), 3, 0);
  std::vector<double> t = vec_of(shape.value("translate", json()), 3, 0);
  for (int i = 0; i < 3; ++i) {
    p.rotate_deg[i] = r[size_t(i)];
    p.translate[i] = at_origin ? 0 : t[size_t(i)];
  }
  return p;
}

std::shared_ptr<const DenseSdf> load_shape_sdf(const json& shape, const std::string& ptr, bool at_origin) {
  const std::string type = shape.value("type", std::string("mesh"));
  const std::string file = shape.at("file").get<std::string>();
  const double sdf_dx = shape.at("sdf_dx").get<double>();
  auto sdf = std::make_shared<DenseSdf>();
  try {
    if (type == "vdb")
      *sdf = sdf_from_vdb(file, shape.value("grid", std::string()), placement_of(shape, at_origin), sdf_dx);
    else
      *sdf = sdf_from_obj(file, placement_of(shape, at_origin), sdf_dx);
  } catch (const std::exception& e) {
    fail_at(child(ptr, "file"), e.what());
  }
  return sdf;
}

std::shared_ptr<const DenseSdf> shape_sdf(const SceneDocument& doc, const json& shape, const std::string& ptr,
                                          bool at_origin) {
  auto it = doc.sdfs.find(ptr);
  if (it != doc.sdfs.end() && it->second) return it->second;
  return load_shape_sdf(shape, ptr, at_origin);
}

SolidShape object_solid(const json& shape, int dim, const DenseSdf* sdf) {
  SolidShape s;
  s.dim = dim;
  const std::string type = shape.at("type").get<std::string>();
  if (type == "mesh" || type == "vdb") {
    s.kind = SolidShape::Kind::kSdf;
    s.sdf = sdf;
    return s;
  }
  std::vector<double> c = vec_of(shape.at("center"), dim, 0);
  for (int d = 0; d < dim; ++d) s.center[d] = c[size_t(d)];
  if (type == "box") {
    s.kind = SolidShape::Kind::kBox;
    std::vector<double> size = vec_of(shape.at("size"), dim, 0);
    for (int d = 0; d < dim; ++d) s.half[d] = size[size_t(d)] / 2;
  } else if (type == "sphere") {
    s.kind = SolidShape::Kind::kSphere;
    for (int d = 0; d < 3; ++d) s.half[d] = shape.at("radius").get<double>();
  } else if (type == "ellipsoid") {
    s.kind = SolidShape::Kind::kEllipsoid;
    std::vector<double> r = vec_of(shape.at("radii"), dim, 0);
    for (int d = 0; d < dim; ++d) s.half[d] = r[size_t(d)];
  } else if (type == "cylinder") {
    s.kind = SolidShape::Kind::kCylinder;
    s.half[0] = shape.at("radius").get<double>();
    s.half[1] = shape.at("height").get<double>() / 2;
    const std::string axis = shape.value("axis", std::string("y"));
    s.axis = axis == "x" ? 0 : (axis == "z" ? 2 : 1);
  } else {
    fail("", "unknown shape type '" + type + "'");
  }
  return s;
}

}  // namespace ductile::scene_detail
