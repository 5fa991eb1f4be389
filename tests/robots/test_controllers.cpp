// Controllers: their vector-Jacobian products against central differences in the parameters and, for the
// closed-loop network, in the observed centre of mass and velocity; the registry's errors.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "core/control/controller.h"
#include "core/error.h"

namespace ductile {

namespace {

// Checks d (w . a) / d parameters and d (w . a) / d observation of `c` at `o` against central differences.
void check_vjp(Controller& c, const Observation& o, uint64_t seed) {
  const int K = c.actuators();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> w(static_cast<size_t>(K)), a(static_cast<size_t>(K));
  for (double& x : w) x = u(rng);
  auto value = [&](const Observation& ob) {
    c.act(ob, a.data());
    double s = 0;
    for (int k = 0; k < K; ++k) s += w[size_t(k)] * a[size_t(k)];
    return s;
  };
  std::vector<double> adj(size_t(c.size()), 0.0);
  Observation adj_obs;
  c.act_vjp(o, w.data(), adj.data(), adj_obs);
  std::vector<double> p = c.parameters();
  // h = 1e-5: truncation ~1e-10, round-off ~1e-11 of these O(1) functions
  const double h = 1e-5;
  for (size_t i = 0; i < p.size(); i += std::max<size_t>(1, p.size() / 40)) {
    const double keep = p[i];
    p[i] = keep + h, c.set_parameters(p);
    const double vp = value(o);
    p[i] = keep - h, c.set_parameters(p);
    const double vm = value(o);
    p[i] = keep, c.set_parameters(p);
    CHECK(adj[i] == doctest::Approx((vp - vm) / (2 * h)).epsilon(1e-7).scale(1e-2));
  }
  for (int d = 0; d < 3; ++d) {
    Observation op = o, om = o;
    op.com[size_t(d)] += h, om.com[size_t(d)] -= h;
    CHECK(adj_obs.com[size_t(d)] ==
          doctest::Approx((value(op) - value(om)) / (2 * h)).epsilon(1e-7).scale(1e-2));
    op = o, om = o;
    op.velocity[size_t(d)] += h, om.velocity[size_t(d)] -= h;
    CHECK(adj_obs.velocity[size_t(d)] ==
          doctest::Approx((value(op) - value(om)) / (2 * h)).epsilon(1e-7).scale(1e-2));
  }
}

Observation sample_observation() {
  Observation o;
  o.step = 37;
  o.time = 0.037;
  o.com = {0.31, 0.12, 0.4};
  o.velocity = {0.2, -0.1, 0.05};
  o.goal = {0.8, 0.1, 0.3};
  return o;
}

ControllerContext context(int dim) {
  ControllerContext ctx;
  ctx.actuators = 3;
  ctx.dim = dim;
  ctx.dt = 1e-3;
  ctx.steps = 100;
  ctx.origin.com = {0.3, 0.1, 0.4};
  ctx.seed = 7;
  return ctx;
}

}  // namespace

TEST_CASE("robots: open-loop and sinusoid controllers' gradients match central differences") {
  auto& reg = ControllerRegistry::instance();
  auto open = reg.make({{"type", "open_loop"}, {"interval", 10}}, context(2), "/controller");
  std::vector<double> p(size_t(open->size()));
  for (size_t i = 0; i < p.size(); ++i) p[i] = std::sin(double(i));
  open->set_parameters(p);
  CHECK(open->size() == 10 * 3);
  check_vjp(*open, sample_observation(), 1);
  auto sine = reg.make({{"type", "sinusoid"}, {"frequency", 3.0}, {"waves", 5}, {"init", 0.5}}, context(2),
                       "/controller");
  CHECK(sine->size() == 3 * 6);
  CHECK_FALSE(sine->closed_loop());
  check_vjp(*sine, sample_observation(), 2);
  // activations stay within [-1, 1]
  std::vector<double> a(3);
  sine->act(sample_observation(), a.data());
  for (double x : a) CHECK(std::fabs(x) <= 1.0);
}

TEST_CASE("robots: the network controller's gradients (weights and observation) match central differences") {
  auto& reg = ControllerRegistry::instance();
  if (!reg.has("network")) {
    MESSAGE("skipped: this build has no LibTorch");
    return;
  }
  for (const char* act : {"tanh", "sin", "relu"}) {
    for (int dim : {2, 3}) {
      nlohmann::json spec = {
          {"type", "network"},   {"hidden", {8, 6}},   {"activation", act},
          {"output", "tanh"},    {"frequency", 2.0},   {"waves", 4},
          {"length_scale", 0.1}, {"speed_scale", 0.5}, {"inputs", {"clock", "com", "velocity", "goal"}}};
      auto net = reg.make(spec, context(dim), "/controller");
      CHECK(net->closed_loop());
      Observation o = sample_observation();
      if (dim == 2) o.com[2] = o.velocity[2] = o.goal[2] = 0;
      check_vjp(*net, o, 3);
      // the same seed gives the same weights; parameters round-trip
      auto again = reg.make(spec, context(dim), "/controller");
      CHECK(again->parameters() == net->parameters());
    }
  }
}

TEST_CASE("robots: an unknown controller type is refused with the types this build knows") {
  try {
    ControllerRegistry::instance().make({{"type", "pid"}}, context(2), "/controller");
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK(m.find("/controller/type") != std::string::npos);
    CHECK(m.find("sinusoid") != std::string::npos);
  }
}

}  // namespace ductile
