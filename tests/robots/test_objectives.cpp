// Robot objectives: their gradients with respect to the centre-of-mass trace and activations match central
// differences; the values mean what the docs say.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>

#include "core/control/objective.h"

namespace ductile {

namespace {

EpisodeTrace random_trace(int64_t T, int K, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  EpisodeTrace tr;
  tr.actuators = K;
  for (int64_t t = 0; t <= T; ++t) {
    tr.com.push_back({u(rng), u(rng), u(rng)});
    tr.velocity.push_back({u(rng), u(rng), u(rng)});
  }
  for (int64_t i = 0; i < T * K; ++i) tr.activation.push_back(u(rng));
  return tr;
}

void check_gradient(const ObjectiveSpec& spec, bool goal) {
  EpisodeTrace tr = random_trace(12, 2, 5);
  const std::array<double, 3> g{0.3, -0.2, 0.1};
  const ObjectiveValue v = evaluate_objective(spec, tr, goal, g);
  const double h = 1e-6;
  auto loss = [&]() { return evaluate_objective(spec, tr, goal, g).loss; };
  for (size_t t = 0; t < tr.com.size(); ++t)
    for (int d = 0; d < 3; ++d) {
      for (auto* field : {&tr.com, &tr.velocity}) {
        const double keep = (*field)[t][size_t(d)];
        (*field)[t][size_t(d)] = keep + h;
        const double lp = loss();
        (*field)[t][size_t(d)] = keep - h;
        const double lm = loss();
        (*field)[t][size_t(d)] = keep;
        const double adj = field == &tr.com ? v.adj_com[t][size_t(d)] : v.adj_velocity[t][size_t(d)];
        CHECK(adj == doctest::Approx((lp - lm) / (2 * h)).epsilon(1e-6).scale(1e-6));
      }
    }
  for (size_t i = 0; i < tr.activation.size(); ++i) {
    const double keep = tr.activation[i];
    tr.activation[i] = keep + h;
    const double lp = loss();
    tr.activation[i] = keep - h;
    const double lm = loss();
    tr.activation[i] = keep;
    CHECK(v.adj_activation[i] == doctest::Approx((lp - lm) / (2 * h)).epsilon(1e-6).scale(1e-6));
  }
}

}  // namespace

TEST_CASE("robots: objective gradients match central differences") {
  for (const char* type : {"travel", "velocity", "reach", "jump"}) {
    INFO("type := " << std::string(type));
    ObjectiveSpec s;
    s.type = type;
    s.direction = {0.6, 0.8, 0};
    s.target = {0.5, 0.2, -0.1};
    s.effort = 0.3;
    s.from = 0.4;
    check_gradient(s, false);
    check_gradient(s, true);
  }
}

TEST_CASE("robots: objective values") {
  EpisodeTrace tr;
  tr.actuators = 1;
  tr.com = {{0, 0, 0}, {0.1, 0.3, 0}, {0.25, 0.1, 0}};
  tr.velocity = {{0, 0, 0}, {1, 0, 0}, {2, 0, 0}};
  tr.activation = {0.5, -0.5};
  ObjectiveSpec s;
  s.type = "travel";
  s.direction = {1, 0, 0};
  ObjectiveValue v = evaluate_objective(s, tr, false, {});
  CHECK(v.metric == doctest::Approx(0.25));
  CHECK(v.loss == doctest::Approx(-0.25));
  s.type = "jump";
  s.up = {0, 1, 0};
  CHECK(evaluate_objective(s, tr, false, {}).metric == doctest::Approx(0.3));
  s.type = "reach";
  v = evaluate_objective(s, tr, true, {0.25, 0.5, 0});
  CHECK(v.metric == doctest::Approx(0.4));
  s.type = "velocity";
  s.from = 0.5;  // steps 1 and 2
  v = evaluate_objective(s, tr, false, {});
  CHECK(v.metric == doctest::Approx(1.5));
  s.effort = 2;
  CHECK(evaluate_objective(s, tr, false, {}).effort == doctest::Approx(2 * 0.25));
}

}  // namespace ductile
