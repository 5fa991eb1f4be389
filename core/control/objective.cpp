// The robot objectives and their gradients with respect to the centre-of-mass trajectory and activations.
#include "core/control/objective.h"

#include <cmath>

#include "core/error.h"

namespace ductile {

namespace {

double dot(const std::array<double, 3>& a, const std::array<double, 3>& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

}  // namespace

ObjectiveValue evaluate_objective(const ObjectiveSpec& spec, const EpisodeTrace& trace, bool has_goal,
                                  const std::array<double, 3>& goal) {
  const int64_t T = int64_t(trace.com.size()) - 1;
  if (T < 1) fail("objective", "the episode has no steps");
  ObjectiveValue r;
  r.adj_com.assign(size_t(T + 1), {0, 0, 0});
  r.adj_velocity.assign(size_t(T + 1), {0, 0, 0});
  r.adj_activation.assign(trace.activation.size(), 0.0);
  const auto& c = trace.com;
  if (spec.type == "none") {
    // no task: the loss is computed elsewhere (ductile.rollout's activations, scored in PyTorch)
  } else if (spec.type == "travel") {
    // loss = -d . (c_T - c_0)
    r.metric = dot(spec.direction, c[T]) - dot(spec.direction, c[0]);
    r.task = -r.metric;
    for (int i = 0; i < 3; ++i) r.adj_com[T][i] -= spec.direction[i], r.adj_com[0][i] += spec.direction[i];
  } else if (spec.type == "velocity") {
    // loss = mean over t >= t0 of |v_t - v*|^2
    const std::array<double, 3> vt = has_goal ? goal : spec.target;
    const int64_t t0 = std::min<int64_t>(T, int64_t(std::floor(spec.from * double(T))));
    const double w = 1.0 / double(T - t0 + 1);
    for (int64_t t = t0; t <= T; ++t) {
      for (int i = 0; i < 3; ++i) {
        const double e = trace.velocity[t][i] - vt[i];
        r.task += w * e * e;
        r.adj_velocity[t][i] += 2 * w * e;
      }
      r.metric += w * dot(spec.direction, trace.velocity[t]);
    }
  } else if (spec.type == "reach") {
    // loss = |c_T - target|^2
    const std::array<double, 3> y = has_goal ? goal : spec.target;
    for (int i = 0; i < 3; ++i) {
      const double e = c[T][i] - y[i];
      r.task += e * e;
      r.adj_com[T][i] += 2 * e;
    }
    r.metric = std::sqrt(r.task);
  } else if (spec.type == "jump") {
    // loss = -(max_t up . c_t - up . c_0); the gradient goes to the highest step (a subgradient at ties)
    int64_t top = 0;
    for (int64_t t = 1; t <= T; ++t)
      if (dot(spec.up, c[t]) > dot(spec.up, c[top])) top = t;
    r.metric = dot(spec.up, c[top]) - dot(spec.up, c[0]);
    r.task = -r.metric;
    for (int i = 0; i < 3; ++i) r.adj_com[top][i] -= spec.up[i], r.adj_com[0][i] += spec.up[i];
  } else {
    fail("objective", "unknown type '" + spec.type + "'");
  }
  // effort: weight times the mean squared activation
  if (spec.effort > 0 && !trace.activation.empty()) {
    const double w = spec.effort / double(trace.activation.size());
    for (size_t i = 0; i < trace.activation.size(); ++i) {
      r.effort += w * trace.activation[i] * trace.activation[i];
      r.adj_activation[i] = 2 * w * trace.activation[i];
    }
  }
  r.loss = r.task + r.effort;
  return r;
}

const char* objective_metric_name(const std::string& type) {
  if (type == "travel") return "distance";
  if (type == "velocity") return "mean_velocity";
  if (type == "reach") return "distance_to_target";
  return "height";
}

}  // namespace ductile
