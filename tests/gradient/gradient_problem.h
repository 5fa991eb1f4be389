// A small scene, its losses and a tape: the shared set-up of the rollout gradient tests, with central finite
// differences of the loss through any perturbation of the model or the initial state.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/loss.h"
#include "core/parameters.h"
#include "core/scene.h"
#include "core/tape.h"

namespace ductile::test {

template <int D>
struct GradientProblem {
  SceneData<double, D> scene;
  int64_t steps = 0;
  std::vector<std::unique_ptr<Loss<double, D>>> losses;
  std::vector<double> force;  // optional external force buffer
  CheckpointPolicy policy;

  GradientProblem(const std::string& json, int64_t steps_) : steps(steps_) {
    SceneDocument doc = load_scene_text(json, ".");
    scene = build_scene<double, D>(doc);
  }

  std::vector<const Loss<double, D>*> loss_ptrs() const {
    std::vector<const Loss<double, D>*> r;
    for (const auto& l : losses) r.push_back(l.get());
    return r;
  }

  // The loss of a forward run from the current model and state.
  double loss() const {
    Tape<double, D> tape(scene.model, Device::kCpu, policy);
    if (!force.empty()) tape.set_force(force);
    return tape.forward(scene.state, steps, loss_ptrs());
  }

  // The loss and its gradient.
  Gradients<double, D> gradient(TapeStats* stats = nullptr) const {
    Tape<double, D> tape(scene.model, Device::kCpu, policy);
    if (!force.empty()) tape.set_force(force);
    const double l = tape.forward(scene.state, steps, loss_ptrs());
    Gradients<double, D> g = tape.backward();
    g.loss = l;
    if (stats) *stats = tape.stats();
    return g;
  }

  // Central difference of the loss along a perturbation perturb(+-h) of the scene, which is restored exactly
  // afterwards (force buffer included).
  double central_difference(const std::function<void(double)>& perturb, double h) {
    const SceneSnapshot<double, D> saved(scene);
    const std::vector<double> f = force;
    perturb(h);
    const double lp = loss();
    saved.restore(scene), force = f;
    perturb(-h);
    const double lm = loss();
    saved.restore(scene), force = f;
    return (lp - lm) / (2 * h);
  }

  // The gradient grad along a random unit direction of `field` (fixed seed) against derivative() with step h.
  void check_along(std::vector<double>& field, const std::vector<double>& grad, unsigned seed,
                   const std::string& what, double h, double tol);

  // Richardson extrapolation of central differences at h and h / 2: error O(h^4), so that h can be large
  // enough for the loss's round-off (about 1e-16 of its value) to stay far below the tolerance.
  double derivative(const std::function<void(double)>& perturb, double h) {
    const double d1 = central_difference(perturb, h), d2 = central_difference(perturb, h / 2);
    return (4 * d2 - d1) / 3;
  }
};

// |a - b| <= tol * max(|a|, |b|, floor): relative agreement, with an absolute floor for tiny values.
inline void check_close(double analytic, double fd, double tol, const std::string& what,
                        double floor = 1e-12) {
  INFO(what << ": analytic " << analytic << ", finite difference " << fd);
  CHECK(std::fabs(analytic - fd) <= tol * std::max({std::fabs(analytic), std::fabs(fd), floor}));
}

// A unit random direction of size n (fixed seed).
inline std::vector<double> random_direction(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd;
  std::vector<double> d(n);
  double s = 0;
  for (double& x : d) x = nd(rng), s += x * x;
  for (double& x : d) x /= std::sqrt(s);
  return d;
}

template <int D>
void GradientProblem<D>::check_along(std::vector<double>& field, const std::vector<double>& grad,
                                     unsigned seed, const std::string& what, double h, double tol) {
  const auto dir = random_direction(field.size(), seed);
  double analytic = 0;
  for (size_t i = 0; i < dir.size(); ++i) analytic += grad[i] * dir[i];
  const double fd = derivative(
      [&](double dh) {
        for (size_t i = 0; i < dir.size(); ++i) field[i] += dh * dir[i];
      },
      h);
  check_close(analytic, fd, tol, what);
}

}  // namespace ductile::test
