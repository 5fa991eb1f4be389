// Output adjoints (Tape::set_output_adjoints): a backward pass seeded with dL/dx and dL/dv at chosen steps,
// as the Python module does for a loss computed in PyTorch, gives the gradient of that loss.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "gradient/gradient_problem.h"
#include "gradient/gradient_scenes.h"

using namespace ductile;
using namespace ductile::test;

namespace {

// L = sum over its steps of <a_t, x_t> + <b_t, v_t>: the loss whose gradient the seeds a_t, b_t stand for.
class LinearLoss : public Loss<double, 2> {
 public:
  explicit LinearLoss(OutputAdjoints w) : w_(std::move(w)) {}
  std::string name() const override { return "linear"; }
  std::vector<int64_t> steps() const override {
    std::vector<int64_t> r;
    for (const auto& e : w_) r.push_back(e.first);
    return r;
  }
  double evaluate(int64_t step, const State<double, 2>& s, std::vector<double>& ax,
                  std::vector<double>& av) const override {
    const auto& [a, b] = w_.at(step);
    double sum = 0;
    for (size_t i = 0; i < a.size(); ++i) sum += a[i] * s.x[i] + b[i] * s.v[i], ax[i] += a[i], av[i] += b[i];
    return sum;
  }

 private:
  OutputAdjoints w_;
};

// Seeds at step 12 (mid-run, inside a checkpoint segment) and at the last step 30.
OutputAdjoints seeds(int n) {
  OutputAdjoints w;
  for (int64_t t : {12, 30})
    w[t] = {random_direction(size_t(2 * n), unsigned(t)), random_direction(size_t(2 * n), unsigned(t + 1))};
  return w;
}

}  // namespace

TEST_CASE("output adjoints: seeding dL/dx, dL/dv gives the loss's gradient, against finite differences") {
  GradientProblem<2> P(kJellySand2D, 30);
  compress_object(P.scene.state, 1);
  P.policy = CheckpointPolicy::parse("every:5", "test");
  const OutputAdjoints w = seeds(P.scene.state.n);
  P.losses.push_back(std::make_unique<LinearLoss>(w));
  const Gradients<double, 2> by_loss = P.gradient();
  // the same gradient from a forward run without losses and the seeds
  Tape<double, 2> tape(P.scene.model, Device::kCpu, P.policy);
  tape.forward(P.scene.state, P.steps, {});
  tape.set_output_adjoints(w);
  const Gradients<double, 2> g = tape.backward();
  CHECK(g.x == by_loss.x);
  CHECK(g.v == by_loss.v);
  CHECK(g.material == by_loss.material);
  // a second backward pass gives the same; new seeds replace the old ones
  CHECK(tape.backward().x == g.x);
  OutputAdjoints doubled = w;
  for (auto& e : doubled)
    for (auto* a : {&e.second.first, &e.second.second})
      for (double& x : *a) x *= 2;
  tape.set_output_adjoints(doubled);
  const Gradients<double, 2> g2 = tape.backward();
  for (size_t i = 0; i < g.v.size(); ++i) CHECK(g2.v[i] == 2 * g.v[i]);
  // against central differences of L: initial positions and velocities, the jelly's E, gravity
  auto& s = P.scene.state;
  P.check_along(s.v, g.v, 3, "initial v", 1e-4, 1e-6);
  P.check_along(s.x, g.x, 4, "initial x", 1e-6, 1e-6);
  double& E = P.scene.model.materials[0]->values()[1];
  check_close(g.material[0][1], P.derivative([&](double h) { E += h; }, 1e-4 * E), 1e-6, "jelly.E");
  check_close(g.gravity[0], P.derivative([&](double h) { P.scene.model.gravity[0] += h; }, 1e-3), 1e-6,
              "gravity.x");
}

TEST_CASE("output adjoints: bad steps, sizes and values are named") {
  GradientProblem<2> P(kJellySand2D, 4);
  Tape<double, 2> tape(P.scene.model, Device::kCpu);
  tape.forward(P.scene.state, 4, {});
  const size_t m = size_t(2 * P.scene.state.n);
  auto message = [&](OutputAdjoints w) {
    try {
      tape.set_output_adjoints(w);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(message({{5, {std::vector<double>(m), std::vector<double>(m)}}}).find("step 5") != std::string::npos);
  CHECK(message({{-1, {std::vector<double>(m), std::vector<double>(m)}}}).find("steps 0..4") !=
        std::string::npos);
  CHECK(message({{2, {std::vector<double>(m - 1), std::vector<double>(m)}}})
            .find("need " + std::to_string(m)) != std::string::npos);
  std::vector<double> bad(m);
  bad[3] = NAN;
  const std::string e = message({{4, {std::vector<double>(m), bad}}});
  CHECK(e.find("d/dv of particle 3") != std::string::npos);
  CHECK(message({{4, {std::vector<double>(m), std::vector<double>(m)}}}).empty());
}
