// The built-in losses evaluated directly on host states: values against hand computations on tiny cases,
// gradients against central differences on random states in 2D and 3D, and bad inputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/loss.h"

using namespace ductile;

namespace {

// A state of n particles at random positions and velocities with random masses (fixed seed).
template <int D>
State<double, D> random_state(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  State<double, D> s;
  s.resize(n);
  for (double& x : s.x) x = u(rng);
  for (double& v : s.v) v = 2 * u(rng) - 1;
  for (double& m : s.mass) m = 0.5 + u(rng);
  return s;
}

// A state from positions, velocities and masses given point after point.
State<double, 2> tiny_state(const std::vector<double>& x, const std::vector<double>& v,
                            const std::vector<double>& mass) {
  State<double, 2> s;
  s.resize(int(mass.size()));
  for (int p = 0; p < s.n; ++p)
    for (int d = 0; d < 2; ++d) {
      s.x[size_t(d) * s.n + p] = x[size_t(p) * 2 + d];
      s.v[size_t(d) * s.n + p] = v[size_t(p) * 2 + d];
    }
  s.mass = mass;
  return s;
}

// The loss's value with fresh adjoint arrays.
template <int D>
double value(const Loss<double, D>& loss, const State<double, D>& s, std::vector<double>* ax = nullptr,
             std::vector<double>* av = nullptr) {
  std::vector<double> adj_x(s.x.size(), 0.0), adj_v(s.v.size(), 0.0);
  const double l = loss.evaluate(loss.steps().front(), s, adj_x, adj_v);
  if (ax) *ax = adj_x;
  if (av) *av = adj_v;
  return l;
}

// adj_x, adj_v and the mass gradient against central differences in every component. The losses are
// quadratic (or linear) in x and v between changes of nearest neighbours, so those differences are exact but
// for round-off, about 1e-16 * |loss| / h; the centre of mass is rational in the masses, so their step is
// smaller (truncation error ~h^2). Each gradient is added onto what its array held.
template <int D>
void check_gradient(const Loss<double, D>& loss, State<double, D> s) {
  std::vector<double> adj_x(s.x.size(), 0.25), adj_v(s.v.size(), -0.5), adj_m(s.mass.size(), 2.0);
  const double l = loss.evaluate(loss.steps().front(), s, adj_x, adj_v);
  loss.mass_gradient(loss.steps().front(), s, adj_m);
  CHECK(std::isfinite(l));
  CHECK(value(loss, s) == l);
  auto check_field = [&](std::vector<double>& field, const std::vector<double>& adj, double offset,
                         const std::string& what, double h = 1e-4) {
    for (size_t i = 0; i < field.size(); ++i) {
      const double x0 = field[i];
      field[i] = x0 + h;
      const double lp = value(loss, s);
      field[i] = x0 - h;
      const double lm = value(loss, s);
      field[i] = x0;
      const double fd = (lp - lm) / (2 * h), analytic = adj[i] - offset;
      INFO(loss.name() << ", d/d" << what << "[" << i << "]: analytic " << analytic << ", fd " << fd);
      CHECK(std::fabs(analytic - fd) <= 1e-7 * std::max({std::fabs(analytic), std::fabs(fd), 1e-5}));
    }
  };
  check_field(s.x, adj_x, 0.25, "x");
  check_field(s.v, adj_v, -0.5, "v");
  check_field(s.mass, adj_m, 2.0, "mass", 1e-5);
}

// D coordinates per point for m random points.
std::vector<double> random_points(size_t m, int D, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(-0.2, 1.2);
  std::vector<double> y(m * D);
  for (double& c : y) c = u(rng);
  return y;
}

template <int D>
void check_all_gradients() {
  const State<double, D> s = random_state<D>(11, 7 + D);
  const std::vector<int32_t> subset = {4, 1, 9, 6, 0};
  // positions: all particles and a subset, with a weight
  check_gradient(*make_position_loss<double, D>(3, {}, random_points(11, D, 1), 1.0), s);
  check_gradient(*make_position_loss<double, D>(3, subset, random_points(5, D, 2), 2.5), s);
  // Chamfer against clouds larger and smaller than the selection
  check_gradient(*make_chamfer_loss<double, D>(3, {}, random_points(17, D, 3), 1.0), s);
  check_gradient(*make_chamfer_loss<double, D>(3, subset, random_points(3, D, 4), 0.7), s);
  // centre of mass: position and velocity, each with a target and along a direction
  for (bool velocity : {false, true})
    for (bool target : {true, false}) {
      CenterOfMassSpec spec;
      spec.velocity = velocity;
      spec.has_target = target;
      for (int d = 0; d < 3; ++d) spec.target[d] = 0.3 + 0.1 * d, spec.direction[d] = 1.0 - 0.7 * d;
      check_gradient(*make_center_of_mass_loss<double, D>(3, {}, spec, 1.5), s);
      check_gradient(*make_center_of_mass_loss<double, D>(3, subset, spec, 1.0), s);
    }
}

}  // namespace

TEST_CASE("losses: positions, hand-computed on two particles") {
  // x = (0, 0), (1, 2); target (1, 0), (1, 1); weight 3: (3 / 2) (1 + 1) = 3, gradient 3 (x - y)
  const State<double, 2> s = tiny_state({0, 0, 1, 2}, {5, 5, 5, 5}, {1, 1});
  auto loss = make_position_loss<double, 2>(4, {}, {1, 0, 1, 1}, 3.0);
  CHECK(loss->steps() == std::vector<int64_t>{4});
  CHECK(loss->name().find("4") != std::string::npos);
  std::vector<double> ax, av;
  CHECK(value(*loss, s, &ax, &av) == doctest::Approx(3.0));
  CHECK(ax == std::vector<double>{-3, 0, 0, 3});  // x components of both particles, then y
  CHECK(av == std::vector<double>{0, 0, 0, 0});
  // particle 1 alone against (0, 0): |(1, 2)|^2 = 5
  auto one = make_position_loss<double, 2>(4, {1}, {0, 0});
  CHECK(value(*one, s, &ax) == doctest::Approx(5.0));
  CHECK(ax == std::vector<double>{0, 2, 0, 4});
}

TEST_CASE("losses: Chamfer, hand-computed with two particles and three targets") {
  // X = (0, 0), (2, 0); Y = (0, 1), (3, 0), (2, 2). X to Y: 1 + 1 over 2; Y to X: 1 + 1 + 4 over 3.
  const State<double, 2> s = tiny_state({0, 0, 2, 0}, {0, 0, 0, 0}, {1, 1});
  auto loss = make_chamfer_loss<double, 2>(2, {}, {0, 1, 3, 0, 2, 2});
  std::vector<double> ax;
  CHECK(value(*loss, s, &ax) == doctest::Approx(1.0 + 2.0));
  // d/dx0 = (0 - (0, 1)) from both halves: (0, -1) + (1 / 3) 2 (0, -1); d/dx1 = (2, 0) - (3, 0) from the
  // first half, and from the second (2 / 3) ((2, 0) - (3, 0)) + (2 / 3) ((2, 0) - (2, 2))
  CHECK(ax[0] == doctest::Approx(0.0));
  CHECK(ax[2] == doctest::Approx(-1.0 - 2.0 / 3.0));
  CHECK(ax[1] == doctest::Approx(-1.0 - 2.0 / 3.0));
  CHECK(ax[3] == doctest::Approx(-4.0 / 3.0));
}

TEST_CASE("losses: centre of mass, hand-computed on two particles") {
  // masses 1 and 3 at (0, 0) and (4, 0): c = (3, 0); velocities (1, 0) and (0, 2): c_v = (0.25, 1.5)
  const State<double, 2> s = tiny_state({0, 0, 4, 0}, {1, 0, 0, 2}, {1, 3});
  CenterOfMassSpec pos;
  pos.target[0] = 1, pos.target[1] = 1;
  std::vector<double> ax, av;
  // |(2, -1)|^2 = 5; gradient 2 (c - target) m_p / M
  CHECK(value(*make_center_of_mass_loss<double, 2>(0, {}, pos), s, &ax, &av) == doctest::Approx(5.0));
  CHECK(ax[0] == doctest::Approx(4 * 0.25));
  CHECK(ax[1] == doctest::Approx(4 * 0.75));
  CHECK(ax[2] == doctest::Approx(-2 * 0.25));
  CHECK(ax[3] == doctest::Approx(-2 * 0.75));
  CHECK(av == std::vector<double>(4, 0.0));
  // direction (2, 1) . c_v = 2, weight 2; gradient 2 direction m_p / M on the velocities
  CenterOfMassSpec vel;
  vel.velocity = true;
  vel.has_target = false;
  vel.direction[0] = 2, vel.direction[1] = 1;
  CHECK(value(*make_center_of_mass_loss<double, 2>(0, {}, vel, 2.0), s, &ax, &av) == doctest::Approx(4.0));
  CHECK(ax == std::vector<double>(4, 0.0));
  CHECK(av[0] == doctest::Approx(4 * 0.25));
  CHECK(av[1] == doctest::Approx(4 * 0.75));
  CHECK(av[2] == doctest::Approx(2 * 0.25));
  CHECK(av[3] == doctest::Approx(2 * 0.75));
  // particle 0 alone: c = (0, 0)
  CHECK(value(*make_center_of_mass_loss<double, 2>(0, {0}, pos), s) == doctest::Approx(2.0));
}

TEST_CASE("losses: 2D gradients match central differences") {
  check_all_gradients<2>();
}

TEST_CASE("losses: 3D gradients match central differences") {
  check_all_gradients<3>();
}

TEST_CASE("losses: bad inputs throw Error") {
  const State<double, 2> s = random_state<2>(6, 3);
  std::vector<double> ax(12, 0.0), av(12, 0.0);
  // positions: 5 target points for 6 particles, 2 for a subset of 3, half a point
  auto five = make_position_loss<double, 2>(1, {}, random_points(5, 2, 1));
  CHECK_THROWS_WITH_AS(five->evaluate(1, s, ax, av), doctest::Contains("5 target points for 6 particles"),
                       Error);
  auto two = make_position_loss<double, 2>(1, {0, 2, 4}, random_points(2, 2, 1));
  CHECK_THROWS_WITH_AS(two->evaluate(1, s, ax, av), doctest::Contains("positions at step 1"), Error);
  auto odd = make_position_loss<double, 2>(1, {}, std::vector<double>(13, 0.0));
  CHECK_THROWS_AS(odd->evaluate(1, s, ax, av), Error);
  // Chamfer: an empty target cloud, or one that is not whole points
  CHECK_THROWS_AS((make_chamfer_loss<double, 2>(1, {}, {})), Error);
  CHECK_THROWS_AS((make_chamfer_loss<double, 2>(1, {}, {0.1, 0.2, 0.3})), Error);
  // centre of mass of massless particles
  State<double, 2> massless = s;
  massless.mass.assign(6, 0.0);
  CenterOfMassSpec spec;
  auto com = make_center_of_mass_loss<double, 2>(1, {}, spec);
  CHECK_THROWS_WITH_AS(com->evaluate(1, massless, ax, av), doctest::Contains("no mass"), Error);
}
