// Collider::adj_at (core/collider.cpp), the adjoint of a collider's pose and velocities at time t (R, t, lin,
// omega) with respect to its motion parameters, against central finite differences of Collider::at in double
// precision, 2D and 3D:
//   - constant motion: velocity, angular velocity (2D: about z), start position, rest orientation;
//   - keyframes: each key's position and rotation (axis-angle), before the first key, at keys, between keys
//     (three intervals) and after the last, with zero and tiny key rotations (the Rodrigues derivative's
//     series); at a fixed t the interval is fixed, so at(t) is smooth in the keys' values even at key times;
//   - the rest orientation with a cylinder's fixed axis turn (`frame`), and a static collider;
//   - nothing outside the active window.
// Every group is held to 1e-6 relative.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/collider.h"
#include "core/scene.h"
#include "kernels/adjoint_fd.h"

using namespace ductile;
using namespace ductile::kadj;

namespace {

// at(t) as one vector: R (D x D), t, lin, omega (3).
template <int D>
std::vector<double> outputs(const Collider<double, D>& c, double t) {
  const ColliderData<double, D> cd = c.at(t);
  std::vector<double> y;
  for (int d = 0; d < D; ++d)
    for (int e = 0; e < D; ++e) y.push_back(cd.R(d, e));
  for (int d = 0; d < D; ++d) y.push_back(cd.t[d]);
  for (int d = 0; d < D; ++d) y.push_back(cd.lin[d]);
  for (int i = 0; i < 3; ++i) y.push_back(cd.omega[i]);
  return y;
}

// The cotangent of outputs() as a ColliderAdjoint.
template <int D>
ColliderAdjoint adjoint_of(const std::vector<double>& cot) {
  ColliderAdjoint a;
  size_t k = 0;
  for (int d = 0; d < D; ++d)
    for (int e = 0; e < D; ++e) a.R[d][e] = cot[k++];
  for (int d = 0; d < D; ++d) a.t[d] = cot[k++];
  for (int d = 0; d < D; ++d) a.lin[d] = cot[k++];
  for (int i = 0; i < 3; ++i) a.omega[i] = cot[k++];
  return a;
}

// The angular entries of a 3-vector that a D-dimensional collider uses (2D: entry 2).
template <int D>
void add_angular(Inputs& in, std::vector<double>& adj, double* w, const double* g) {
  for (int i = D == 2 ? 2 : 0; i < 3; ++i) in.push_back(&w[i]), adj.push_back(g[i]);
}
template <int D>
void add_linear(Inputs& in, std::vector<double>& adj, double* x, const double* g) {
  for (int d = 0; d < D; ++d) in.push_back(&x[d]), adj.push_back(g[d]);
}

template <int D>
std::string tag(const std::string& what) {
  return std::to_string(D) + "D " + what + ": ";
}

// The collider's rest orientation from its `rotation` entries (perturbed in place by the checks).
template <int D>
std::vector<double> outputs_posed(Collider<double, D>& c, double t) {
  const double w[3] = {c.rotation[0], c.rotation[1], c.rotation[2]};
  c.set_rotation(w);
  return outputs(c, t);
}

// A box collider at a random pose with a random rest orientation (3D: about a random axis).
template <int D>
Collider<double, D> random_collider(Rng& rng) {
  Collider<double, D> c;
  c.shape.shape = ColliderShape::kBox;
  for (int d = 0; d < D; ++d) c.shape.t[d] = uniform(rng, -0.5, 0.5), c.shape.p[d] = 0.1;
  const std::vector<double> w = randn(rng, 3, 0.8);
  c.set_rotation(w.data());
  return c;
}

template <int D>
void check_constant(Rng& rng) {
  Collider<double, D> c = random_collider<D>(rng);
  c.motion.kind = Motion::Kind::kConstant;
  for (int i = 0; i < 3; ++i)
    c.motion.velocity[i] = randn(rng, 1)[0], c.motion.angular_velocity[i] = 2 * randn(rng, 1)[0];
  for (double t : {0.0, 0.37, 1.3}) {
    const std::vector<double> cot = randn(rng, D * D + 2 * D + 3);
    outputs_posed(c, t);  // shape.R from `rotation` again (a check restores `rotation` only)
    ColliderGradient g;
    c.adj_at(t, adjoint_of<D>(cot), g);
    const Forward fwd = [&] { return outputs_posed(c, t); };
    const std::string at = tag<D>("constant t = " + std::to_string(t).substr(0, 4));
    Inputs in;
    std::vector<double> adj;
    add_linear<D>(in, adj, c.motion.velocity, g.velocity);
    check_group(at + "velocity", in, adj, 1, cot, fwd, rng);
    in.clear(), adj.clear();
    add_angular<D>(in, adj, c.motion.angular_velocity, g.angular_velocity);
    check_group(at + "angular velocity", in, adj, 1, cot, fwd, rng);
    in.clear(), adj.clear();
    add_linear<D>(in, adj, c.shape.t.v, g.position);
    check_group(at + "position", in, adj, 1, cot, fwd, rng);
    in.clear(), adj.clear();
    add_angular<D>(in, adj, c.rotation, g.rotation);
    check_group(at + "rest rotation", in, adj, 1, cot, fwd, rng);
    // the unused entries stay zero
    if (D == 2)
      for (int i = 0; i < 2; ++i) CHECK((g.angular_velocity[i] == 0.0 && g.rotation[i] == 0.0));
    CHECK(g.key_position.empty());
    CHECK(g.key_rotation.empty());
  }
}

template <int D>
void check_keyframes(Rng& rng) {
  Collider<double, D> c = random_collider<D>(rng);
  c.motion.kind = Motion::Kind::kKeyframes;
  const double times[4] = {0.1, 0.3, 0.6, 0.75};
  for (int j = 0; j < 4; ++j) {
    Keyframe k;
    k.t = times[j];
    for (int i = 0; i < 3; ++i) k.position[i] = randn(rng, 1, 0.3)[0], k.rotation[i] = randn(rng, 1, 1.2)[0];
    c.motion.keys.push_back(k);
  }
  // key 1 with no rotation and key 2 with a tiny one: the derivative's series near w = 0
  for (int i = 0; i < 3; ++i) c.motion.keys[1].rotation[i] = 0, c.motion.keys[2].rotation[i] *= 1e-5;
  for (double t : {0.02, 0.1, 0.17, 0.3, 0.42, 0.6, 0.7, 0.9}) {
    const std::vector<double> cot = randn(rng, D * D + 2 * D + 3);
    outputs_posed(c, t);  // shape.R from `rotation` again (a check restores `rotation` only)
    ColliderGradient g;
    c.adj_at(t, adjoint_of<D>(cot), g);
    REQUIRE(g.key_position.size() == 4);
    REQUIRE(g.key_rotation.size() == 4);
    const Forward fwd = [&] { return outputs_posed(c, t); };
    const std::string at = tag<D>("keyframes t = " + std::to_string(t).substr(0, 4));
    Inputs pin, rin;
    std::vector<double> padj, radj;
    for (int j = 0; j < 4; ++j) {
      add_linear<D>(pin, padj, c.motion.keys[j].position, g.key_position[j].data());
      add_angular<D>(rin, radj, c.motion.keys[j].rotation, g.key_rotation[j].data());
    }
    check_group(at + "key positions", pin, padj, 0.3, cot, fwd, rng);
    check_group(at + "key rotations", rin, radj, 0.3, cot, fwd, rng);
    Inputs win;
    std::vector<double> wadj;
    add_angular<D>(win, wadj, c.rotation, g.rotation);
    check_group(at + "rest rotation", win, wadj, 1, cot, fwd, rng);
  }
}

// A 3D cylinder lying along x (its frame turns the kernel's y axis onto x), rotated further, static.
void check_cylinder_frame(Rng& rng) {
  Collider<double, 3> c;
  c.shape.shape = ColliderShape::kCylinder;
  c.shape.p[0] = 0.1, c.shape.p[1] = 0.2;
  const double A[3][3] = {{0, 1, 0}, {-1, 0, 0}, {0, 0, 1}};
  std::copy(&A[0][0], &A[0][0] + 9, &c.frame[0][0]);
  const double w[3] = {0.3, -0.9, 0.4};
  c.set_rotation(w);
  const std::vector<double> cot = randn(rng, 9 + 6 + 3);
  ColliderGradient g;
  c.adj_at(0.5, adjoint_of<3>(cot), g);
  const Forward fwd = [&] { return outputs_posed(c, 0.5); };
  Inputs in;
  std::vector<double> adj;
  add_angular<3>(in, adj, c.rotation, g.rotation);
  check_group("3D static cylinder: rest rotation", in, adj, 1, cot, fwd, rng);
  in.clear(), adj.clear();
  add_linear<3>(in, adj, c.shape.t.v, g.position);
  check_group("3D static cylinder: position", in, adj, 1, cot, fwd, rng);
}

}  // namespace

TEST_CASE("collider motion adjoint: constant motion against finite differences of at(t)") {
  Rng rng(11);
  check_constant<2>(rng);
  check_constant<3>(rng);
}

TEST_CASE("collider motion adjoint: keyframes before, between, at and after keys") {
  Rng rng(12);
  check_keyframes<2>(rng);
  check_keyframes<3>(rng);
}

TEST_CASE("collider motion adjoint: a rest orientation on top of a cylinder's axis frame") {
  Rng rng(13);
  check_cylinder_frame(rng);
}

TEST_CASE("collider motion adjoint: nothing outside the active window") {
  Rng rng(14);
  Collider<double, 3> c = random_collider<3>(rng);
  c.motion.kind = Motion::Kind::kConstant;
  c.motion.angular_velocity[1] = 2;
  c.active_from = 0.2, c.active_until = 0.4;
  ColliderGradient g;
  c.adj_at(0.5, adjoint_of<3>(randn(rng, 18)), g);
  for (int i = 0; i < 3; ++i)
    CHECK((g.velocity[i] == 0.0 && g.angular_velocity[i] == 0.0 && g.position[i] == 0.0 &&
           g.rotation[i] == 0.0));
}

// R = rot(rotation) frame for the rotations the scene builds from rotate_deg (Euler angles in 3D, about z in
// 2D, a cylinder's axis turn), so that colliders/<c>/rotation moves the collider the scene describes.
template <int D>
void check_scene_rotation(const std::string& colliders) {
  const std::string dim = std::to_string(D);
  const std::string lo = D == 2 ? "[0, 0]" : "[0, 0, 0]", hi = D == 2 ? "[1, 1]" : "[1, 1, 1]";
  const std::string mid = D == 2 ? "[0.5, 0.5]" : "[0.5, 0.5, 0.5]",
                    size = D == 2 ? "[0.2, 0.2]" : "[0.2, 0.2, 0.2]";
  const std::string scene = R"({"format": 1, "dimension": )" + dim + R"(, "domain": {"min": )" + lo +
                            R"(, "max": )" + hi + R"(, "dx": 0.1},
    "time": {"dt": 1e-3, "frame_dt": 0.01, "frames": 1},
    "materials": [{"name": "jelly", "model": "fixed_corotated", "density": 1000, "E": 4e3, "nu": 0.3}],
    "objects": [{"name": "jelly", "material": "jelly", "shape": {"type": "box", "center": )" +
                            mid + R"(, "size": )" + size + R"(}}],
    "colliders": )" + colliders +
                            "}";
  SceneData<double, D> data = build_scene<double, D>(load_scene_text(scene, "."));
  REQUIRE(!data.model.colliders.empty());
  for (auto& c : data.model.colliders) {
    CAPTURE(c.name);
    const Mat<double, D> R = c.shape.R;
    const double w[3] = {c.rotation[0], c.rotation[1], c.rotation[2]};
    c.set_rotation(w);
    for (int d = 0; d < D; ++d)
      for (int e = 0; e < D; ++e) CHECK(std::fabs(c.shape.R(d, e) - R(d, e)) < 1e-12);
  }
}

TEST_CASE("collider motion adjoint: set_rotation reproduces the scene's rest rotation") {
  check_scene_rotation<3>(R"([
      {"name": "box", "type": "box", "center": [0.2, 0.2, 0.2], "size": [0.1, 0.2, 0.1],
       "rotate_deg": [30, -70, 120]},
      {"name": "bar", "type": "cylinder", "center": [0.8, 0.2, 0.2], "radius": 0.05, "height": 0.3,
       "axis": "z", "rotate_deg": [10, 20, 170]},
      {"name": "post", "type": "cylinder", "center": [0.8, 0.8, 0.2], "radius": 0.05, "height": 0.3,
       "axis": "x"}])");
  check_scene_rotation<2>(R"([
      {"name": "paddle", "type": "box", "center": [0.2, 0.2], "size": [0.1, 0.2], "rotate_deg": 250},
      {"name": "flat", "type": "box", "center": [0.8, 0.2], "size": [0.1, 0.2]}])");
}
