// Whole rollouts against central finite differences in double precision: 2D and 3D, elastic and plastic
// materials together, moving colliders with friction, walls, external forces, several losses.
#include <doctest/doctest.h>

#include "gradient/gradient_problem.h"
#include "gradient/gradient_scenes.h"

using namespace ductile;
using namespace ductile::test;

namespace {

// The shared losses on a problem.
template <int D>
void add_losses(GradientProblem<D>& P) {
  add_standard_losses(P.scene.state, P.steps, P.losses);
}

// Every parameter group of the problem against central differences. Parameters that move a clamp (snow's
// critical compression and stretch, Coulomb friction coefficients) shift particles or nodes across the
// clamp's kink under any finite step, which limits central differences to about 1e-5 (measured: one-sided
// differences at 1e-7 bracket the analytic value); they are checked at kink_tol.
template <int D>
void check_rollout(GradientProblem<D>& P, double tol) {
  const double kink_tol = std::max(tol, 1e-5);
  const Gradients<double, D> g = P.gradient();
  auto& model = P.scene.model;
  auto& state = P.scene.state;
  // material parameters (density also scales the particles' mass)
  for (size_t m = 0; m < model.materials.size(); ++m) {
    const auto& specs = model.materials[m]->specs();
    for (size_t k = 0; k < specs.size(); ++k) {
      const std::string name = specs[k].name;
      if (name == "cohesion" || name == "volume_correction" || name == "hardening") continue;  // zero here
      double& value = model.materials[m]->values()[k];
      const double h = 2e-5 * std::fabs(value);
      const double fd = P.derivative(
          [&](double dh) {
            value += dh;
            if (name == "density")
              for (int p = 0; p < state.n; ++p)
                if (state.material[p] == int(m)) state.mass[p] = value * state.vol0[p];
          },
          h);
      const bool clamp = name == "critical_compression" || name == "critical_stretch";
      check_close(g.material[m][k], fd, clamp ? kink_tol : tol, model.material_names[m] + "." + name);
    }
  }
  // gravity, wall friction
  for (int d = 0; d < D; ++d)
    check_close(g.gravity[d], P.derivative([&](double h) { model.gravity[d] += h; }, 1e-3), tol, "gravity");
  check_close(g.wall_friction, P.derivative([&](double h) { model.walls.friction += h; }, 1e-4), kink_tol,
              "wall friction");
  // colliders: velocity, start position, friction. A moving collider's surface sweeps across grid nodes and
  // each node entering it is a small jump of the discrete loss, which the gradient (rightly) does not see:
  // the pose steps are kept far below the distance the surface moves per step, so no node changes sides, and
  // at such steps the loss's round-off limits the differences to about 1e-5 (pose_tol). The smooth case, a
  // floor sliding along itself, is checked at 1e-6 in "a floor sliding under a block" below.
  const double pose_tol = std::max(tol, 1e-4);
  for (size_t k = 0; k < model.colliders.size(); ++k) {
    auto& c = model.colliders[k];
    for (int d = 0; d < D; ++d) {
      if (c.motion.kind == Motion::Kind::kConstant)
        check_close(g.colliders[k].velocity[d],
                    P.derivative([&](double h) { c.motion.velocity[d] += h; }, 1e-8), pose_tol,
                    c.name + ".velocity");
      check_close(g.colliders[k].position[d], P.derivative([&](double h) { c.shape.t[d] += h; }, 1e-9),
                  pose_tol, c.name + ".position");
    }
    check_close(g.colliders[k].friction, P.derivative([&](double h) { c.shape.friction += h; }, 1e-4),
                kink_tol, c.name + ".friction");
  }
  // initial state along random directions
  auto along = [&](std::vector<double>& field, const std::vector<double>& grad, unsigned seed,
                   const char* what, double h) { P.check_along(field, grad, seed, what, h, tol); };
  along(state.x, g.x, 1, "initial x", 1e-6);
  along(state.v, g.v, 2, "initial v", 1e-4);
  along(state.C, g.C, 3, "initial C", 1e-2);
  along(state.F, g.F, 4, "initial F", 1e-5);
  if (!P.force.empty()) along(P.force, g.force, 5, "external force", 1e-3);
}

}  // namespace

TEST_CASE("gradient: 2D rollout of jelly and sand on a moving sphere matches finite differences") {
  GradientProblem<2> P(kJellySand2D, 60);
  compress_object(P.scene.state, 1);  // the sand, off Drucker-Prager's apex kink
  add_losses(P);
  // a small external force on every particle and step
  P.force.assign(size_t(P.steps) * 2 * P.scene.state.n, 0.0);
  for (size_t i = 0; i < P.force.size(); ++i) P.force[i] = 1e-4 * std::sin(0.37 * double(i));
  check_rollout(P, 1e-6);
}

TEST_CASE("gradient: 3D rollout of jelly and plasticine on a sliding box matches finite differences") {
  GradientProblem<3> P(kJellyClay3D, 20);
  add_losses(P);
  check_rollout(P, 1e-6);
}

namespace {

// A jelly block pressed onto a slip floor with friction at y = 0.217 whose motion (JSON) is given.
std::string block_on_floor(const std::string& motion) {
  return R"({
    "format": 1, "dimension": 2,
    "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.03125},
    "time": {"dt": 1e-3, "frame_dt": 0.01, "frames": 4},
    "gravity": [0, -9.81],
    "materials": [{"name": "jelly", "model": "fixed_corotated", "density": 1000, "E": 4e3, "nu": 0.3}],
    "objects": [{"name": "jelly", "material": "jelly", "velocity": [0.2, -1.0],
                 "shape": {"type": "box", "center": [0.45, 0.3], "size": [0.2, 0.1]}}],
    "colliders": [{"name": "floor", "type": "plane", "point": [0, 0.217], "normal": [0, 1], "surface": "slip",
                   "friction": 0.5, "motion": )" +
         motion + "}]}";
}

}  // namespace

// A block pressed onto a floor that slides along itself (no grid node enters or leaves it): the gradients of
// the floor's tangential velocity and position, its friction and the walls' are smooth, checked at 1e-6.
TEST_CASE("gradient: a floor sliding under a block matches finite differences") {
  GradientProblem<2> P(block_on_floor(R"({"type": "constant", "velocity": [0.7, 0]})"), 40);
  add_losses(P);
  const Gradients<double, 2> g = P.gradient();
  auto& c = P.scene.model.colliders[0];
  check_close(g.colliders[0].velocity[0], P.derivative([&](double h) { c.motion.velocity[0] += h; }, 1e-4),
              1e-6, "floor.velocity.x");
  check_close(g.colliders[0].position[0], P.derivative([&](double h) { c.shape.t[0] += h; }, 1e-4), 1e-6,
              "floor.position.x");
  check_close(g.colliders[0].friction, P.derivative([&](double h) { c.shape.friction += h; }, 1e-4), 1e-6,
              "floor.friction");
  CHECK(std::fabs(g.colliders[0].velocity[0]) > 1e-6);  // the floor's motion does reach the loss
}

// Viscous water, snow and Herschel-Bulkley honey dropped together onto a slip floor with friction.
TEST_CASE("gradient: 2D rollout of water, snow and honey matches finite differences") {
  const char* scene = R"({
    "format": 1, "dimension": 2,
    "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.03125, "boundary": {"surface": "slip", "friction": 0.1}},
    "time": {"dt": 5e-4, "frame_dt": 0.005, "frames": 8},
    "gravity": [0, -9.81],
    "materials": [{"name": "water", "model": "fluid", "density": 1000, "bulk_modulus": 2e3, "gamma": 7, "viscosity": 2},
                  {"name": "snow", "model": "snow", "density": 400, "E": 1.4e4, "nu": 0.2},
                  {"name": "honey", "model": "herschel_bulkley", "density": 1400, "E": 2e4, "nu": 0.3,
                   "yield_stress": 50, "consistency": 20}],
    "objects": [{"name": "water", "material": "water", "velocity": [0.3, -3],
                 "shape": {"type": "box", "center": [0.3, 0.2], "size": [0.12, 0.1]}},
                {"name": "snow", "material": "snow", "velocity": [0, -2],
                 "shape": {"type": "sphere", "center": [0.55, 0.2], "radius": 0.06}},
                {"name": "honey", "material": "honey", "velocity": [-0.4, -1.5],
                 "shape": {"type": "box", "center": [0.78, 0.2], "size": [0.1, 0.1]}}],
    "colliders": [{"name": "floor", "type": "plane", "point": [0, 0.127], "normal": [0.05, 1], "surface": "slip",
                   "friction": 0.3}]
  })";
  GradientProblem<2> P(scene, 40);
  add_losses(P);
  check_rollout(P, 1e-6);
}

// The same block on a floor whose keyframes slide it along itself: the gradients of the key positions (the
// chain from each step's pose through the interpolation, Collider::adj_at), checked at 1e-6 with steps of
// 1e-6 m (steps of 1e-4 m already move some node across Coulomb friction's switch between sliding and
// sticking).
TEST_CASE("gradient: a keyframed floor's key positions match finite differences") {
  GradientProblem<2> P(block_on_floor(R"({"type": "keyframes", "keys": [{"t": 0, "position": [0, 0.217]},
      {"t": 0.015, "position": [0.012, 0.217]}, {"t": 0.03, "position": [0.02, 0.217]}]})"),
                       40);
  add_losses(P);
  const Gradients<double, 2> g = P.gradient();
  auto& keys = P.scene.model.colliders[0].motion.keys;
  REQUIRE(g.colliders[0].key_position.size() == keys.size());
  double largest = 0;
  for (size_t j = 0; j < keys.size(); ++j) {
    const double fd = P.derivative([&](double h) { keys[j].position[0] += h; }, 1e-6);
    check_close(g.colliders[0].key_position[j][0], fd, 1e-6, "key " + std::to_string(j) + " position x");
    largest = std::max(largest, std::fabs(fd));
  }
  CHECK(largest > 1e-6);  // the keys' motion does reach the loss
}

TEST_CASE("gradient: the tape reports each loss's value, and they sum to the loss") {
  GradientProblem<2> P(kJellySand2D, 12);
  add_losses(P);
  Tape<double, 2> tape(P.scene.model, Device::kCpu);
  const double loss = tape.forward(P.scene.state, P.steps, P.loss_ptrs());
  const auto& terms = tape.loss_terms();
  REQUIRE(terms.size() == 3);
  CHECK(terms[0] + terms[1] + terms[2] == doctest::Approx(loss).epsilon(1e-14));
  CHECK(terms[0] > 0);  // positions against shifted targets
}
