#include "core/parameters.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"

namespace ductile {

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> r;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, '/'))
    if (!part.empty()) r.push_back(part);
  return r;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

int index_of(const std::vector<std::string>& names, const std::string& n) {
  auto it = std::find(names.begin(), names.end(), n);
  return it == names.end() ? -1 : int(it - names.begin());
}

// The centre of an object's particles (the point its angular velocity turns about, as the scene samples it).
template <class T, int D>
std::vector<double> object_centre(const State<T, D>& s, int o) {
  std::vector<double> c(3, 0.0);
  int count = 0;
  for (int p = 0; p < s.n; ++p)
    if (s.object[p] == o) {
      for (int d = 0; d < D; ++d) c[d] += double(s.x[size_t(d) * s.n + p]);
      ++count;
    }
  for (int d = 0; d < D; ++d) c[d] /= std::max(count, 1);
  return c;
}

// Entry k of the rigid velocity field of angular velocity e_k at offset r (component d): (e_k x r)_d; in 2D
// the one entry turns about z.
template <int D>
double spin(int k, const double* r, int d) {
  if (D == 2) return d == 0 ? -r[1] : r[0];
  const int a = (k + 1) % 3, b = (k + 2) % 3;  // (e_k x r)_a = -r_b, (e_k x r)_b = r_a
  return d == a ? -r[b] : (d == b ? r[a] : 0.0);
}

}  // namespace

template <class T, int D>
Parameter<T, D> find_parameter(const SceneData<T, D>& data, const std::string& name,
                               const std::string& where) {
  using S = SceneData<T, D>;
  using G = Gradients<T, D>;
  const std::vector<std::string> p = split(name);
  Parameter<T, D> r;
  r.name = name;
  auto bad = [&](const std::string& why) -> Parameter<T, D> { fail(where, "'" + name + "': " + why); };
  if (p.empty()) return bad("empty parameter name");
  const auto& model = data.model;
  // materials/<material>/<parameter>
  if (p[0] == "materials") {
    if (p.size() != 3) return bad("expected materials/<material>/<parameter>");
    const int m = index_of(model.material_names, p[1]);
    if (m < 0) return bad("no material '" + p[1] + "' (materials: " + join(model.material_names) + ")");
    // a neural material's weights: every learnable entry, after the named parameters in the gradient
    if (p[2] == "weights" && model.materials[m]->learnable_size() > 0) {
      const int base = int(model.materials[m]->specs().size());
      r.size = model.materials[m]->learnable_size();
      r.value = [m](const S& s, int i) { return double(s.model.materials[m]->learnable()[size_t(i)]); };
      r.add = [m](S& s, int i, double dv) {
        std::vector<T> w = s.model.materials[m]->learnable();
        w[size_t(i)] += T(dv);
        s.model.materials[m]->set_learnable(w);
      };
      r.gradient = [m, base](const G& g, const S&, int i) { return g.material[m][size_t(base + i)]; };
      return r;
    }
    const auto& specs = model.materials[m]->specs();
    int k = -1;
    std::vector<std::string> known;
    for (size_t j = 0; j < specs.size(); ++j) {
      known.push_back(specs[j].name);
      if (p[2] == specs[j].name) k = int(j);
    }
    if (k < 0) return bad("material '" + p[1] + "' has no parameter '" + p[2] + "' (" + join(known) + ")");
    const bool density = p[2] == "density";
    r.value = [m, k](const S& s, int) { return double(s.model.materials[m]->values()[k]); };
    r.add = [m, k, density](S& s, int, double dv) {
      T& v = s.model.materials[m]->values()[k];
      v += T(dv);
      // the particles' mass follows the density
      if (density)
        for (int q = 0; q < s.state.n; ++q)
          if (s.state.material[q] == m) s.state.mass[q] = v * s.state.vol0[q];
    };
    r.gradient = [m, k](const G& g, const S&, int) { return g.material[m][k]; };
    return r;
  }
  if (name == "gravity") {
    r.size = D;
    r.value = [](const S& s, int i) { return double(s.model.gravity[i]); };
    r.add = [](S& s, int i, double dv) { s.model.gravity[i] += T(dv); };
    r.gradient = [](const G& g, const S&, int i) { return g.gravity[i]; };
    return r;
  }
  if (name == "domain/boundary/friction") {
    r.value = [](const S& s, int) { return double(s.model.walls.friction); };
    r.add = [](S& s, int, double dv) { s.model.walls.friction += T(dv); };
    r.gradient = [](const G& g, const S&, int) { return g.wall_friction; };
    return r;
  }
  // colliders/<collider>/{velocity, angular_velocity, position, rotation, friction,
  // keyframes/<i>/position, keyframes/<i>/rotation}; angular entries: 1 in 2D (about z, entry 2), 3 in 3D
  if (p[0] == "colliders") {
    std::vector<std::string> names;
    for (const auto& c : model.colliders) names.push_back(c.name);
    const std::string expected =
        "expected colliders/<collider>/velocity, angular_velocity, position, rotation, friction, "
        "keyframes/<i>/position or keyframes/<i>/rotation";
    if (p.size() < 3) return bad(expected);
    const int k = index_of(names, p[1]);
    if (k < 0) return bad("no collider '" + p[1] + "' (colliders: " + join(names) + ")");
    const Motion& mo = model.colliders[k].motion;
    const std::string what = p.size() == 3 ? p[2] : "";
    constexpr int angular = D == 2 ? 1 : 3, a0 = 3 - angular;  // angular entries i are components a0 + i
    if (what == "friction") {
      r.value = [k](const S& s, int) { return double(s.model.colliders[k].shape.friction); };
      r.add = [k](S& s, int, double dv) { s.model.colliders[k].shape.friction += T(dv); };
      r.gradient = [k](const G& g, const S&, int) { return g.colliders[k].friction; };
      return r;
    }
    if (what == "velocity" || what == "angular_velocity") {
      if (mo.kind != Motion::Kind::kConstant)
        return bad("only a collider with constant motion has a " + what + " parameter" +
                   (mo.kind == Motion::Kind::kKeyframes ? " (a keyframed one has keyframes/<i>/position and "
                                                          "keyframes/<i>/rotation)"
                                                        : ""));
      if (what == "velocity") {
        r.size = D;
        r.value = [k](const S& s, int i) { return s.model.colliders[k].motion.velocity[i]; };
        r.add = [k](S& s, int i, double dv) { s.model.colliders[k].motion.velocity[i] += dv; };
        r.gradient = [k](const G& g, const S&, int i) { return g.colliders[k].velocity[i]; };
        return r;
      }
      r.size = angular;
      r.value = [k](const S& s, int i) { return s.model.colliders[k].motion.angular_velocity[a0 + i]; };
      r.add = [k](S& s, int i, double dv) { s.model.colliders[k].motion.angular_velocity[a0 + i] += dv; };
      r.gradient = [k](const G& g, const S&, int i) { return g.colliders[k].angular_velocity[a0 + i]; };
      return r;
    }
    if (what == "position") {
      if (mo.kind == Motion::Kind::kKeyframes)
        return bad("a keyframed collider's position is per key: colliders/" + p[1] +
                   "/keyframes/<i>/position");
      r.size = D;
      r.value = [k](const S& s, int i) { return double(s.model.colliders[k].shape.t[i]); };
      r.add = [k](S& s, int i, double dv) { s.model.colliders[k].shape.t[i] += T(dv); };
      r.gradient = [k](const G& g, const S&, int i) { return g.colliders[k].position[i]; };
      return r;
    }
    if (what == "rotation") {
      // the rest orientation (axis-angle, radians), about the collider's reference point
      if (model.colliders[k].shape.shape == ColliderShape::kSphere)
        return bad("a sphere has no orientation (its angular velocity is colliders/" + p[1] +
                   "/angular_velocity or keyframes/<i>/rotation)");
      r.size = angular;
      r.value = [k](const S& s, int i) { return s.model.colliders[k].rotation[a0 + i]; };
      r.add = [k](S& s, int i, double dv) {
        auto& c = s.model.colliders[k];
        double w[3] = {c.rotation[0], c.rotation[1], c.rotation[2]};
        w[a0 + i] += dv;
        c.set_rotation(w);
      };
      r.gradient = [k](const G& g, const S&, int i) { return g.colliders[k].rotation[a0 + i]; };
      return r;
    }
    if (p.size() == 5 && p[2] == "keyframes" && (p[4] == "position" || p[4] == "rotation")) {
      if (mo.kind != Motion::Kind::kKeyframes) return bad("the collider's motion has no keyframes");
      const int j = std::atoi(p[3].c_str());
      if (p[3] != std::to_string(j) || j < 0 || j >= int(mo.keys.size()))
        return bad("no keyframe " + p[3] + " (the collider has " + std::to_string(mo.keys.size()) + ")");
      if (p[4] == "position") {
        r.size = D;
        r.value = [k, j](const S& s, int i) { return s.model.colliders[k].motion.keys[j].position[i]; };
        r.add = [k, j](S& s, int i, double dv) { s.model.colliders[k].motion.keys[j].position[i] += dv; };
        r.gradient = [k, j](const G& g, const S&, int i) {
          const auto& kp = g.colliders[k].key_position;
          return size_t(j) < kp.size() ? kp[j][i] : 0.0;
        };
        return r;
      }
      // the key's rotation on top of the rest orientation (axis-angle, radians)
      r.size = angular;
      r.value = [k, j](const S& s, int i) { return s.model.colliders[k].motion.keys[j].rotation[a0 + i]; };
      r.add = [k, j](S& s, int i, double dv) { s.model.colliders[k].motion.keys[j].rotation[a0 + i] += dv; };
      r.gradient = [k, j](const G& g, const S&, int i) {
        const auto& kr = g.colliders[k].key_rotation;
        return size_t(j) < kr.size() ? kr[j][a0 + i] : 0.0;
      };
      return r;
    }
    return bad(expected);
  }
  // objects/<object>/{velocity, angular_velocity}: the initial rigid motion of its particles
  if (p[0] == "objects") {
    if (p.size() != 3) return bad("expected objects/<object>/velocity or angular_velocity");
    const int o = index_of(data.object_names, p[1]);
    if (o < 0) return bad("no object '" + p[1] + "' (objects: " + join(data.object_names) + ")");
    if (p[2] == "velocity") {
      r.size = D;
      r.add = [o](S& s, int i, double dv) {
        for (int q = 0; q < s.state.n; ++q)
          if (s.state.object[q] == o) s.state.v[size_t(i) * s.state.n + q] += T(dv);
      };
      r.gradient = [o](const G& g, const S& s, int i) {
        double sum = 0;
        for (int q = 0; q < s.state.n; ++q)
          if (s.state.object[q] == o) sum += g.v[size_t(i) * s.state.n + q];
        return sum;
      };
      return r;
    }
    if (p[2] == "angular_velocity") {
      r.size = D == 2 ? 1 : 3;
      r.add = [o](S& s, int i, double dv) {
        const auto c = object_centre(s.state, o);
        for (int q = 0; q < s.state.n; ++q) {
          if (s.state.object[q] != o) continue;
          double rq[3] = {0, 0, 0};
          for (int d = 0; d < D; ++d) rq[d] = double(s.state.x[size_t(d) * s.state.n + q]) - c[d];
          for (int d = 0; d < D; ++d) s.state.v[size_t(d) * s.state.n + q] += T(dv * spin<D>(i, rq, d));
        }
      };
      r.gradient = [o](const G& g, const S& s, int i) {
        const auto c = object_centre(s.state, o);
        double sum = 0;
        for (int q = 0; q < s.state.n; ++q) {
          if (s.state.object[q] != o) continue;
          double rq[3] = {0, 0, 0};
          for (int d = 0; d < D; ++d) rq[d] = double(s.state.x[size_t(d) * s.state.n + q]) - c[d];
          for (int d = 0; d < D; ++d) sum += g.v[size_t(d) * s.state.n + q] * spin<D>(i, rq, d);
        }
        return sum;
      };
      return r;
    }
    return bad("expected objects/" + p[1] + "/velocity or angular_velocity");
  }
  // particles/{x, v, C, F}: every particle's initial value
  if (p[0] == "particles" && p.size() == 2) {
    const std::string f = p[1];
    if (f != "x" && f != "v" && f != "C" && f != "F") return bad("expected particles/x, v, C or F");
    const int width = f == "x" || f == "v" ? D : D * D;
    r.size = width * data.state.n;
    auto field = [f](auto& st) -> auto& {
      return f == "x" ? st.x : f == "v" ? st.v : f == "C" ? st.C : st.F;
    };
    r.value = [field](const S& s, int i) { return double(field(s.state)[i]); };
    r.add = [field](S& s, int i, double dv) { field(s.state)[i] += T(dv); };
    r.gradient = [f](const G& g, const S&, int i) {
      return f == "x" ? g.x[i] : f == "v" ? g.v[i] : f == "C" ? g.C[i] : g.F[i];
    };
    return r;
  }
  return bad(
      "unknown parameter; expected materials/<m>/<p>, gravity, domain/boundary/friction, "
      "colliders/<c>/..., objects/<o>/velocity or angular_velocity, or particles/x, v, C, F");
}

template <class T, int D>
std::vector<std::string> parameter_names(const SceneData<T, D>& data) {
  std::vector<std::string> r;
  const auto& model = data.model;
  for (size_t m = 0; m < model.materials.size(); ++m) {
    for (const auto& s : model.materials[m]->specs())
      r.push_back("materials/" + model.material_names[m] + "/" + s.name);
    if (model.materials[m]->learnable_size() > 0)
      r.push_back("materials/" + model.material_names[m] + "/weights");
  }
  r.push_back("gravity");
  r.push_back("domain/boundary/friction");
  for (const auto& c : model.colliders) {
    const std::string b = "colliders/" + c.name + "/";
    if (c.motion.kind == Motion::Kind::kConstant) {
      r.push_back(b + "velocity");
      r.push_back(b + "angular_velocity");
    }
    if (c.motion.kind == Motion::Kind::kKeyframes)
      for (size_t j = 0; j < c.motion.keys.size(); ++j) {
        r.push_back(b + "keyframes/" + std::to_string(j) + "/position");
        r.push_back(b + "keyframes/" + std::to_string(j) + "/rotation");
      }
    else
      r.push_back(b + "position");
    if (c.shape.shape != ColliderShape::kSphere) r.push_back(b + "rotation");
    r.push_back(b + "friction");
  }
  for (const auto& o : data.object_names) {
    r.push_back("objects/" + o + "/velocity");
    r.push_back("objects/" + o + "/angular_velocity");
  }
  return r;
}

#define DUCTILE_INSTANTIATE_PARAMETERS(T, D)                                                               \
  template Parameter<T, D> find_parameter(const SceneData<T, D>&, const std::string&, const std::string&); \
  template std::vector<std::string> parameter_names(const SceneData<T, D>&);
DUCTILE_INSTANTIATE_PARAMETERS(float, 2)
DUCTILE_INSTANTIATE_PARAMETERS(float, 3)
DUCTILE_INSTANTIATE_PARAMETERS(double, 2)
DUCTILE_INSTANTIATE_PARAMETERS(double, 3)

}  // namespace ductile
