// The scene section "colliders": validation, and kinematic colliders in their rest pose for the model.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/scene_detail.h"

namespace ductile::scene_detail {

namespace {

constexpr double kDeg = 3.14159265358979323846 / 180;

double norm_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return std::sqrt(s);
}

// Motion: static, constant velocities, or keyframed poses; returns the largest linear speed it reaches.
double validate_motion(json& c, const std::string& cptr, const std::vector<double>& rest, int D) {
  const std::string ptr = child(cptr, "motion");
  json& m = get_section(c, cptr, "motion", false);
  const std::string type =
      get_choice(m, ptr, "type", {"static", "constant", "keyframes"}, std::string("static"));
  if (type == "static") {
    check_keys(m, ptr, {"type"});
    return 0;
  }
  if (type == "constant") {
    check_keys(m, ptr, {"type", "velocity", "angular_velocity"});
    std::vector<double> v = get_vec(m, ptr, "velocity", D, Range{}, std::vector<double>(size_t(D), 0.0));
    get_angular(m, ptr, "angular_velocity", D, 0.0);
    return norm_of(v);
  }
  check_keys(m, ptr, {"type", "keys"});
  json& keys = get_list(m, ptr, "keys", true, 1);
  double speed = 0, prev_t = 0;
  std::vector<double> prev_p;
  for (size_t k = 0; k < keys.size(); ++k) {
    const std::string kptr = child(child(ptr, "keys"), k);
    json& key = keys[k];
    check_keys(key, kptr, {"t", "position", "rotation_deg"});
    Range r;
    if (k > 0) r = Range{prev_t, kInf, true, false, "after the previous key"};
    const double t = get_number(key, kptr, "t", r);
    std::vector<double> p = get_vec(key, kptr, "position", D, Range{}, rest);
    get_angular(key, kptr, "rotation_deg", D, 0.0);
    if (k > 0) {
      std::vector<double> dp(p.size());
      for (size_t d = 0; d < p.size(); ++d) dp[d] = p[d] - prev_p[d];
      speed = std::max(speed, norm_of(dp) / (t - prev_t));
    }
    prev_t = t;
    prev_p = p;
  }
  return speed;
}

}  // namespace

// colliders: kinematic shapes with a surface condition, a motion and an optional active window.
void validate_colliders(json& root, Context& ctx) {
  json& list = get_list(root, "", "colliders", false);
  const int D = ctx.dim;
  std::vector<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string ptr = child("/colliders", i);
    json& c = list[i];
    expect_object(c, ptr);
    const std::string type = get_choice(c, ptr, "type", {"plane", "box", "sphere", "cylinder", "mesh"});
    if (D == 2 && (type == "cylinder" || type == "mesh"))
      fail_at(child(ptr, "type"),
              "'" + type + "' colliders need a 3D scene (2D colliders take plane, box or sphere)");
    std::vector<std::string> keys = {"name", "type", "surface", "friction", "motion", "active"};
    const std::vector<std::string> extra =
        type == "plane"      ? std::vector<std::string>{"point", "normal"}
        : type == "box"      ? std::vector<std::string>{"center", "size", "rotate_deg"}
        : type == "sphere"   ? std::vector<std::string>{"center", "radius"}
        : type == "cylinder" ? std::vector<std::string>{"center", "radius", "height", "axis", "rotate_deg"}
                             : std::vector<std::string>{"file", "scale", "rotate_deg", "translate", "sdf_dx"};
    keys.insert(keys.end(), extra.begin(), extra.end());
    check_keys(c, ptr, keys);
    const std::string name = get_string(c, ptr, "name", "collider_" + std::to_string(i));
    for (size_t k = 0; k < names.size(); ++k)
      if (names[k] == name)
        fail_at(child(ptr, "name"),
                "duplicate collider name '" + name + "' (also " + child("/colliders", k) + ")");
    names.push_back(name);
    get_choice(c, ptr, "surface", {"sticky", "slip", "separate"}, std::string("sticky"));
    get_number(c, ptr, "friction", non_negative(), 0.0);
    // shape; `rest` is the reference point keyframe positions move (centre, plane point, mesh origin)
    std::vector<double> rest;
    if (type == "plane") {
      rest = get_vec(c, ptr, "point", D, Range{});
      if (norm_of(get_vec(c, ptr, "normal", D, Range{})) == 0)
        fail_at(child(ptr, "normal"), "expected a non-zero vector, got " + show(c["normal"]));
    } else if (type == "mesh") {
      get_file(c, ptr, "file", ctx.doc->base_dir);
      get_number(c, ptr, "scale", positive(), 1.0);
      get_vec(c, ptr, "rotate_deg", 3, Range{}, std::vector<double>{0, 0, 0});
      rest = get_vec(c, ptr, "translate", 3, Range{}, std::vector<double>{0, 0, 0});
      get_number(c, ptr, "sdf_dx", positive(), ctx.dx);
      ctx.doc->sdfs[ptr] = load_shape_sdf(c, ptr, true);
    } else {
      rest = get_vec(c, ptr, "center", D, Range{});
      if (type == "box")
        get_vec(c, ptr, "size", D, positive());
      else
        get_number(c, ptr, "radius", positive());
      if (type == "cylinder") {
        get_number(c, ptr, "height", positive());
        get_choice(c, ptr, "axis", {"x", "y", "z"}, std::string("y"));
      }
      if (type != "sphere") get_angular(c, ptr, "rotate_deg", D, 0.0);
    }
    ctx.speed = std::max(ctx.speed, validate_motion(c, ptr, rest, D));
    if (c.contains("active")) {
      std::vector<double> a = get_vec(c, ptr, "active", 2, Range{});
      if (a[1] < a[0])
        fail_at(child(child(ptr, "active"), 1),
                "expected a number >= " + show_number(a[0]) + " (the start), got " + show_number(a[1]));
    }
  }
}

template <class T, int D>
Collider<T, D> build_collider(const SceneDocument& doc, size_t index) {
  const json& c = doc.json.at("colliders").at(index);
  const std::string ptr = child("/colliders", index);
  const std::string type = c.at("type").get<std::string>();
  auto vec3 = [&](const json& v) {
    double r[3] = {0, 0, 0};
    if (v.is_number())
      r[2] = v.get<double>();  // 2D angles: about z
    else
      for (size_t d = 0; d < v.size() && d < 3; ++d) r[d] = v[d].get<double>();
    return std::vector<double>{r[0], r[1], r[2]};
  };
  Collider<T, D> col;
  col.name = c.at("name").get<std::string>();
  ColliderData<T, D>& s = col.shape;
  const std::string surface = c.at("surface").get<std::string>();
  s.surface =
      surface == "sticky" ? Surface::kSticky : (surface == "slip" ? Surface::kSlip : Surface::kSeparate);
  s.friction = T(c.at("friction").get<double>());
  for (int i = 0; i < 4; ++i) s.p[i] = T(0);
  for (int i = 0; i < 3; ++i) s.omega[i] = T(0);
  s.lin = Vec<T, D>::zero();
  // rest pose: rotation R (local -> world) and the reference point t
  double R[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  std::vector<double> t(3, 0.0);
  if (type == "plane") {
    t = vec3(c.at("point"));
    std::vector<double> n = vec3(c.at("normal"));
    const double len = norm_of(n);
    s.shape = ColliderShape::kPlane;
    for (int d = 0; d < D; ++d) s.p[d] = T(n[size_t(d)] / len);
  } else if (type == "mesh") {
    t = vec3(c.at("translate"));
    fill_collider_sdf(col, *shape_sdf(doc, c, ptr, true));
  } else {
    t = vec3(c.at("center"));
    if (type != "sphere") {
      // the rest orientation as an axis-angle vector too (the parameter colliders/<c>/rotation)
      const std::vector<double> deg = vec3(c.at("rotate_deg"));
      rotation_of(deg, D, R);
      axis_angle_of(R, col.rotation);
      if (D == 2) col.rotation[0] = col.rotation[1] = 0, col.rotation[2] = deg[2] * kDeg;
    }
    if (type == "box") {
      s.shape = ColliderShape::kBox;
      std::vector<double> size = vec3(c.at("size"));
      for (int d = 0; d < D; ++d) s.p[d] = T(size[size_t(d)] / 2);
    } else if (type == "sphere") {
      s.shape = ColliderShape::kSphere;
      s.p[0] = T(c.at("radius").get<double>());
    } else {
      s.shape = ColliderShape::kCylinder;
      s.p[0] = T(c.at("radius").get<double>());
      s.p[1] = T(c.at("height").get<double>() / 2);
      // the kernel's cylinder axis is local y: turn it onto x (-90 deg about z) or z (+90 deg about x)
      const std::string axis = c.at("axis").get<std::string>();
      double A[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
      if (axis == "x") A[0][0] = 0, A[0][1] = 1, A[1][0] = -1, A[1][1] = 0;
      if (axis == "z") A[1][1] = 0, A[1][2] = -1, A[2][1] = 1, A[2][2] = 0;
      std::copy(&A[0][0], &A[0][0] + 9, &col.frame[0][0]);
      double RA[3][3];
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) RA[i][j] = R[i][0] * A[0][j] + R[i][1] * A[1][j] + R[i][2] * A[2][j];
      std::copy(&RA[0][0], &RA[0][0] + 9, &R[0][0]);
    }
  }
  for (int i = 0; i < D; ++i) {
    s.t[i] = T(t[size_t(i)]);
    for (int j = 0; j < D; ++j) s.R(i, j) = T(R[i][j]);
  }
  // motion
  const json& m = c.at("motion");
  const std::string mtype = m.at("type").get<std::string>();
  if (mtype == "constant") {
    col.motion.kind = Motion::Kind::kConstant;
    std::vector<double> v = vec3(m.at("velocity")), w = vec3(m.at("angular_velocity"));
    for (int i = 0; i < 3; ++i)
      col.motion.velocity[i] = v[size_t(i)], col.motion.angular_velocity[i] = w[size_t(i)];
  } else if (mtype == "keyframes") {
    col.motion.kind = Motion::Kind::kKeyframes;
    for (const json& k : m.at("keys")) {
      Keyframe key;
      key.t = k.at("t").get<double>();
      std::vector<double> p = vec3(k.at("position")), deg = vec3(k.at("rotation_deg"));
      double KR[3][3], w[3];
      rotation_of(deg, D, KR);
      axis_angle_of(KR, w);
      for (int i = 0; i < 3; ++i) key.position[i] = p[size_t(i)], key.rotation[i] = w[i];
      if (D == 2) key.rotation[0] = key.rotation[1] = 0, key.rotation[2] = deg[2] * kDeg;
      col.motion.keys.push_back(key);
    }
  }
  if (c.contains("active")) {
    col.active_from = c["active"][0].get<double>();
    col.active_until = c["active"][1].get<double>();
  }
  return col;
}

template Collider<float, 2> build_collider<float, 2>(const SceneDocument&, size_t);
template Collider<float, 3> build_collider<float, 3>(const SceneDocument&, size_t);
template Collider<double, 2> build_collider<double, 2>(const SceneDocument&, size_t);
template Collider<double, 3> build_collider<double, 3>(const SceneDocument&, size_t);

}  // namespace ductile::scene_detail
