// Robot training episodes through the tape (docs/ROBOTS.md).
#include "core/control/robot_training.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/tape_slots.h"

namespace ductile {

template <class T, int D>
RobotTrainer<T, D>::RobotTrainer(SceneData<T, D>& data, RobotScene<T, D>& robot, Controller& controller,
                                 Device device, CheckpointPolicy policy, int64_t steps)
    : data_(data), robot_(robot), controller_(controller), device_(device), policy_(policy), steps_(steps) {
  const double inf = std::numeric_limits<double>::infinity();
  nc_ = controller.size();
  lo_.assign(size_t(nc_), -inf);
  hi_.assign(size_t(nc_), inf);
  // co-design entries: "actuators/<name>/strength" or a scalar material parameter, both on a log scale
  for (const auto& name : robot.optimize.wrt) {
    const std::string where = "/optimize/wrt";
    if (name.rfind("actuators/", 0) == 0) {
      const std::string rest = name.substr(10);
      const size_t slash = rest.rfind('/');
      const std::string act = rest.substr(0, slash);
      int k = -1;
      for (size_t i = 0; i < robot.setup.actuator_names.size(); ++i)
        if (robot.setup.actuator_names[i] == act) k = int(i);
      if (k < 0 || slash == std::string::npos || rest.substr(slash + 1) != "strength")
        fail(where, "'" + name + "': expected actuators/<actuator name>/strength");
      if (!(robot.setup.strength[size_t(k)] > 0)) fail(where, "'" + name + "' is 0: a log scale needs > 0");
      strength_index_.push_back(k);
      codesign_names_.push_back(name);
      lo_.push_back(-inf), hi_.push_back(inf);
      continue;
    }
    if (name.rfind("materials/", 0) != 0)
      fail(where, "'" + name + "': co-design takes material parameters and actuator strengths");
    Parameter<T, D> p = find_parameter(data, name, where);
    if (p.size != 1 || !p.value) fail(where, "'" + name + "' is not a single material value");
    const double v = p.value(data, 0);
    if (!(v > 0)) fail(where, "'" + name + "' is " + std::to_string(v) + ": a log scale needs > 0");
    material_params_.push_back(p);
    codesign_names_.push_back(name);
    // bounds: the parameter's admissible range
    double lo = 0, hi = inf;
    const std::string pname = name.substr(name.rfind('/') + 1);
    for (const auto& m : data.model.materials)
      for (const auto& s : m->specs())
        if (pname == s.name) lo = std::max(lo, s.min), hi = s.max >= 1e30 ? inf : std::min(hi, s.max);
    lo_.push_back(lo > 0 ? std::log(lo) : -inf);
    hi_.push_back(std::isfinite(hi) ? std::log(hi) : inf);
  }
  driver_ = std::make_unique<ActuationDriver<T, D>>(robot.setup, controller, robot.objective);
}

template <class T, int D>
RobotTrainer<T, D>::~RobotTrainer() = default;

template <class T, int D>
std::vector<double> RobotTrainer<T, D>::u_now() const {
  std::vector<double> u = controller_.parameters();
  for (const auto& p : material_params_) u.push_back(std::log(p.value(data_, 0)));
  for (int k : strength_index_) u.push_back(std::log(robot_.setup.strength[size_t(k)]));
  return u;
}

template <class T, int D>
std::vector<double> RobotTrainer<T, D>::codesign_values(const std::vector<double>& u) const {
  std::vector<double> v;
  for (size_t i = size_t(nc_); i < u.size(); ++i) v.push_back(std::exp(u[i]));
  return v;
}

template <class T, int D>
void RobotTrainer<T, D>::apply(const std::vector<double>& u) {
  if (int(u.size()) != size()) fail("optimize", "expected " + std::to_string(size()) + " unknowns");
  controller_.set_parameters(std::vector<double>(u.begin(), u.begin() + nc_));
  size_t i = size_t(nc_);
  for (auto& p : material_params_) {
    const double target = std::exp(u[i++]);
    p.add(data_, 0, target - p.value(data_, 0));
  }
  for (int k : strength_index_) robot_.setup.strength[size_t(k)] = std::exp(u[i++]);
  driver_->set_strength(robot_.setup.strength);
}

template <class T, int D>
EpisodeResult RobotTrainer<T, D>::run(int goal, bool backward, std::vector<double>* grad) {
  if (!robot_.optimize.goals.empty()) driver_->set_goal(robot_.optimize.goals.at(size_t(goal)));
  Tape<T, D> tape(data_.model, device_, policy_);
  tape.set_actuation(driver_.get());
  EpisodeResult r;
  r.loss = tape.forward(data_.state, steps_, {});
  const ObjectiveValue& v = driver_->objective_value();
  r.task = v.task, r.effort = v.effort, r.metric = v.metric;
  if (backward) {
    const Gradients<T, D> g = tape.backward();
    const auto& gc = driver_->controller_gradient();
    for (int i = 0; i < nc_; ++i) (*grad)[size_t(i)] += gc[size_t(i)];
    // co-design: d loss / d log(value) = value * d loss / d value
    size_t i = size_t(nc_);
    for (const auto& p : material_params_) (*grad)[i++] += p.gradient(g, data_, 0) * p.value(data_, 0);
    for (int k : strength_index_)
      (*grad)[i++] += driver_->strength_gradient()[size_t(k)] * robot_.setup.strength[size_t(k)];
  }
  stats_ = tape.stats();
  r.forward_seconds = stats_.forward_seconds, r.backward_seconds = stats_.backward_seconds;
  return r;
}

template <class T, int D>
double RobotTrainer<T, D>::evaluate(const std::vector<double>& u, const std::vector<int>& goals,
                                    std::vector<double>* grad, std::vector<EpisodeResult>* episodes) {
  apply(u);
  const std::vector<int> list = robot_.optimize.goals.empty() || goals.empty() ? std::vector<int>{0} : goals;
  if (grad) grad->assign(u.size(), 0.0);
  double sum = 0;
  for (int goal : list) {
    const EpisodeResult r = run(goal, grad != nullptr, grad);
    sum += r.loss;
    if (episodes) episodes->push_back(r);
  }
  const double w = 1.0 / double(list.size());
  if (grad)
    for (double& x : *grad) x *= w;
  return sum * w;
}

template <class T, int D>
EpisodeResult RobotTrainer<T, D>::rollout(const std::vector<double>& u, int goal, int64_t every,
                                          const std::function<void(int64_t, const State<T, D>&)>& frame) {
  apply(u);
  // the states the driver observes, back in the scene's particle order
  driver_->set_state_callback([&](int64_t t, const TapeFields<T, D>& f) {
    if (t % every != 0) return;
    State<T, D> slots = map_state(data_.state, [&](const auto& v) { return to_slots(v, driver_->perm()); });
    f.download(slots);
    State<T, D> s = map_state(slots, [&](const auto& v) { return from_slots(v, driver_->perm()); });
    s.step = data_.state.step + t;
    s.time = data_.state.time + double(t) * double(data_.model.dt);
    frame(t, s);
  });
  EpisodeResult r;
  try {
    r = run(goal, false, nullptr);
  } catch (...) {
    driver_->set_state_callback(nullptr);
    throw;
  }
  driver_->set_state_callback(nullptr);
  return r;
}

template class RobotTrainer<float, 2>;
template class RobotTrainer<float, 3>;
template class RobotTrainer<double, 2>;
template class RobotTrainer<double, 3>;

}  // namespace ductile
