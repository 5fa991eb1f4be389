// Whole rollouts with rotating colliders against central finite differences in double precision, through the
// parameter names `ductile grad --wrt` takes (find_parameter): a collider's angular velocity
// (colliders/<c>/angular_velocity), its keyframes' rotations (colliders/<c>/keyframes/<i>/rotation) and its
// rest orientation (colliders/<c>/rotation), in 2D and 3D.
//   - A sticky wheel (a sphere) spinning under a jelly block: the wheel's surface velocity omega x (x - c) is
//     all that its rotation changes (a sphere's shape does not turn), so the loss is smooth in omega and in
//     the key rotations (whose differences are the angular velocity between keys).
//   - A slip paddle (a box) turning into a falling jelly block: its rotation turns the normal and sweeps the
//     surface across nodes. Each node entering or leaving it is a jump of the discrete loss that the gradient
//     does not see (docs/GRADIENTS.md), so the steps keep the surface's shift far below a node spacing: 1e-6
//     rad and 1e-6 m (the surface moves by under 2e-7 m), 1e-5 rad/s (the paddle turns by 4e-7 rad over the
//     run). Smaller steps are no better: the rollout's round-off makes the loss noisy at about 1e-13 of it,
//     so central differences at 1e-8 already err by 1e-5 (measured: 1e-6 to 1e-5 rad, and 1e-6 m, agree with
//     the gradient to 1e-8; 1e-5 m moves a node across the surface). Every entry is held to 1e-6.
#include <doctest/doctest.h>

#include <string>

#include "gradient/gradient_problem.h"

using namespace ductile;
using namespace ductile::test;

namespace {

// Positions against shifted start positions after `steps` and the centre of mass velocity along (1, 0.5, 0)
// half way.
template <int D>
void add_losses(GradientProblem<D>& P) {
  const auto& s = P.scene.state;
  std::vector<double> target(static_cast<size_t>(D) * s.n);
  for (int p = 0; p < s.n; ++p)
    for (int d = 0; d < D; ++d)
      target[size_t(p) * D + d] = s.x[size_t(d) * s.n + p] + (d == 0 ? 0.02 : -0.01);
  P.losses.push_back(make_position_loss<double, D>(P.steps, {}, target, 10.0));
  CenterOfMassSpec vel;
  vel.velocity = true;
  vel.has_target = false;
  vel.direction[0] = 1, vel.direction[1] = 0.5;
  P.losses.push_back(make_center_of_mass_loss<double, D>(P.steps / 2, {}, vel));
}

// Every entry of parameter `name` against the derivative with step h; returns the largest |gradient|.
template <int D>
double check_parameter(GradientProblem<D>& P, const Gradients<double, D>& g, const std::string& name,
                       double h, double tol = 1e-6) {
  const Parameter<double, D> p = find_parameter(P.scene, name, "test");
  double largest = 0;
  for (int i = 0; i < p.size; ++i) {
    const double fd = P.derivative([&](double dh) { p.add(P.scene, i, dh); }, h);
    check_close(p.gradient(g, P.scene, i), fd, tol, name + "[" + std::to_string(i) + "]");
    largest = std::max(largest, std::fabs(fd));
  }
  return largest;
}

// A jelly block falling onto a collider (JSON) in 2D.
std::string block_on(const std::string& collider) {
  return R"({
    "format": 1, "dimension": 2,
    "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.03125},
    "time": {"dt": 1e-3, "frame_dt": 0.01, "frames": 5},
    "gravity": [0, -9.81],
    "materials": [{"name": "jelly", "model": "fixed_corotated", "density": 1000, "E": 5e3, "nu": 0.3}],
    "objects": [{"name": "jelly", "material": "jelly", "velocity": [0.1, -1.5],
                 "shape": {"type": "box", "center": [0.47, 0.34], "size": [0.16, 0.1]}}],
    "colliders": [)" +
         collider + "]}";
}

// The same in 3D: a jelly cube.
std::string cube_on(const std::string& collider) {
  return R"({
    "format": 1, "dimension": 3,
    "domain": {"min": [0, 0, 0], "max": [1, 1, 1], "dx": 0.0625},
    "time": {"dt": 2e-3, "frame_dt": 0.01, "frames": 2},
    "gravity": [0, -9.81, 0],
    "materials": [{"name": "jelly", "model": "neo_hookean", "density": 1000, "E": 3e3, "nu": 0.3}],
    "objects": [{"name": "jelly", "material": "jelly", "velocity": [0.2, -1.5, 0.1],
                 "shape": {"type": "box", "center": [0.47, 0.4, 0.5], "size": [0.2, 0.15, 0.2]}}],
    "colliders": [)" +
         collider + "]}";
}

}  // namespace

TEST_CASE("rotation gradients: 2D spinning wheel's angular velocity matches finite differences") {
  GradientProblem<2> P(block_on(R"({"name": "wheel", "type": "sphere", "center": [0.5, 0.18], "radius": 0.1,
      "surface": "sticky", "motion": {"type": "constant", "velocity": [0.1, 0], "angular_velocity": 4}})"),
                       50);
  add_losses(P);
  const Gradients<double, 2> g = P.gradient();
  CHECK(check_parameter(P, g, "colliders/wheel/angular_velocity", 1e-4) > 1e-4);
  check_parameter(P, g, "colliders/wheel/velocity", 1e-4);
}

// Keys at 0, 15 and 30 ms, the run 50 ms: the wheel turns between the keys and rests after the last.
TEST_CASE("rotation gradients: 2D keyframed wheel's key rotations match finite differences") {
  GradientProblem<2> P(block_on(R"({"name": "wheel", "type": "sphere", "center": [0.5, 0.18], "radius": 0.1,
      "surface": "sticky", "motion": {"type": "keyframes", "keys": [
        {"t": 0, "position": [0.5, 0.18]}, {"t": 0.015, "position": [0.5, 0.18], "rotation_deg": 20},
        {"t": 0.03, "position": [0.5, 0.18], "rotation_deg": -10}]}})"),
                       50);
  add_losses(P);
  const Gradients<double, 2> g = P.gradient();
  for (int j = 0; j < 3; ++j)
    CHECK(check_parameter(P, g, "colliders/wheel/keyframes/" + std::to_string(j) + "/rotation", 1e-4) > 1e-4);
}

TEST_CASE("rotation gradients: 2D turning paddle's rotation and angular velocity match finite differences") {
  GradientProblem<2> P(
      block_on(R"({"name": "paddle", "type": "box", "center": [0.5, 0.22], "size": [0.34, 0.05],
      "rotate_deg": 12, "surface": "slip",
      "motion": {"type": "constant", "velocity": [0, 0.2], "angular_velocity": 1.5}})"),
      40);
  add_losses(P);
  const Gradients<double, 2> g = P.gradient();
  CHECK(check_parameter(P, g, "colliders/paddle/rotation", 1e-6) > 1e-4);
  CHECK(check_parameter(P, g, "colliders/paddle/angular_velocity", 1e-5) > 1e-4);
  check_parameter(P, g, "colliders/paddle/position", 1e-6);
}

TEST_CASE("rotation gradients: 2D keyframed paddle's key rotations match finite differences") {
  GradientProblem<2> P(
      block_on(R"({"name": "paddle", "type": "box", "center": [0.5, 0.22], "size": [0.34, 0.05],
      "rotate_deg": 5, "surface": "slip", "motion": {"type": "keyframes", "keys": [
        {"t": 0.005, "position": [0.5, 0.22], "rotation_deg": 3},
        {"t": 0.025, "position": [0.5, 0.23], "rotation_deg": 10}]}})"),
      40);
  add_losses(P);
  const Gradients<double, 2> g = P.gradient();
  double largest = 0;
  for (int j = 0; j < 2; ++j)
    largest = std::max(
        largest,
        check_parameter(P, g, "colliders/paddle/keyframes/" + std::to_string(j) + "/rotation", 1e-6));
  CHECK(largest > 1e-4);
  check_parameter(P, g, "colliders/paddle/rotation", 1e-6);
}

TEST_CASE("rotation gradients: 3D spinning ball's angular velocity matches finite differences") {
  GradientProblem<3> P(
      cube_on(R"({"name": "ball", "type": "sphere", "center": [0.5, 0.2, 0.5], "radius": 0.13,
      "surface": "sticky", "motion": {"type": "constant", "angular_velocity": [2, -3, 4]}})"),
      20);
  add_losses(P);
  const Gradients<double, 3> g = P.gradient();
  CHECK(check_parameter(P, g, "colliders/ball/angular_velocity", 1e-4) > 1e-4);
}

TEST_CASE("rotation gradients: 3D keyframed paddle's rotations match finite differences") {
  GradientProblem<3> P(cube_on(R"({"name": "paddle", "type": "box", "center": [0.5, 0.22, 0.5],
      "size": [0.4, 0.06, 0.35], "rotate_deg": [4, -8, 10], "surface": "slip", "motion": {"type": "keyframes",
      "keys": [{"t": 0, "position": [0.5, 0.22, 0.5]},
               {"t": 0.02, "position": [0.5, 0.24, 0.5], "rotation_deg": [6, 10, -5]},
               {"t": 0.05, "position": [0.5, 0.24, 0.5], "rotation_deg": [-3, 5, 8]}]}})"),
                       20);
  add_losses(P);
  const Gradients<double, 3> g = P.gradient();
  double largest = 0;
  for (int j = 0; j < 3; ++j)
    largest = std::max(
        largest,
        check_parameter(P, g, "colliders/paddle/keyframes/" + std::to_string(j) + "/rotation", 1e-6));
  CHECK(largest > 1e-4);
  CHECK(check_parameter(P, g, "colliders/paddle/rotation", 1e-6) > 1e-4);
}

TEST_CASE("rotation gradients: the parameter names list the rotational parameters") {
  GradientProblem<3> P(cube_on(R"({"name": "ball", "type": "sphere", "center": [0.5, 0.2, 0.5], "radius": 0.1,
      "motion": {"type": "constant", "angular_velocity": [0, 1, 0]}},
      {"name": "paddle", "type": "box", "center": [0.2, 0.2, 0.5], "size": [0.1, 0.1, 0.1],
       "motion": {"type": "keyframes", "keys": [{"t": 0, "position": [0.2, 0.2, 0.5]}]}})"),
                       1);
  const std::vector<std::string> names = parameter_names(P.scene);
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  CHECK(has("colliders/ball/angular_velocity"));
  CHECK(!has("colliders/ball/rotation"));  // a sphere has no orientation
  CHECK(has("colliders/paddle/keyframes/0/rotation"));
  CHECK(has("colliders/paddle/rotation"));
  CHECK(find_parameter(P.scene, "colliders/ball/angular_velocity", "test").size == 3);
  GradientProblem<2> Q(
      block_on(R"({"name": "paddle", "type": "box", "center": [0.5, 0.2], "size": [0.3, 0.05],
      "rotate_deg": 30, "motion": {"type": "constant", "angular_velocity": 1}})"),
      1);
  const Parameter<double, 2> w = find_parameter(Q.scene, "colliders/paddle/rotation", "test");
  REQUIRE(w.size == 1);
  CHECK(w.value(Q.scene, 0) == doctest::Approx(30 * 3.14159265358979323846 / 180).epsilon(1e-14));
  CHECK(find_parameter(Q.scene, "colliders/paddle/angular_velocity", "test").value(Q.scene, 0) == 1.0);
}
