// The actuation driver: observation, activations and active stress forward; their adjoints backward.
#include "core/control/actuation_driver.h"

#include <cmath>

#include "core/error.h"
#include "core/tape_slots.h"

namespace ductile {

template <class T, int D>
ActuationDriver<T, D>::ActuationDriver(const RobotSetup<T, D>& robot, Controller& controller,
                                       ObjectiveSpec objective)
    : robot_(robot), controller_(controller), objective_(std::move(objective)), strength_(robot.strength) {
  if (controller.actuators() != int(robot.strength.size()))
    fail("controller", "made for " + std::to_string(controller.actuators()) + " actuators, the robot has " +
                           std::to_string(robot.strength.size()));
}

template <class T, int D>
void ActuationDriver<T, D>::set_goal(const std::array<double, 3>& goal) {
  has_goal_ = true;
  goal_ = goal;
}

template <class T, int D>
void ActuationDriver<T, D>::begin(Device dev, const std::vector<int32_t>& perm,
                                  const std::vector<T>& mass_slots, int64_t steps, double dt) {
  dev_ = dev;
  n_ = int(perm.size());
  K_ = int(strength_.size());
  steps_ = steps;
  dt_ = dt;
  mass_ = mass_slots;
  perm_ = perm;
  if (robot_.actuator.size() != size_t(n_) || robot_.body.size() != size_t(n_))
    fail("actuators", "the robot description has " + std::to_string(robot_.actuator.size()) +
                          " particles, the state " + std::to_string(n_));
  // the actuated particles and the body in slot order
  actuator_.resize(dev, 0);
  actuator_.upload(to_slots(robot_.actuator, perm));
  fiber_.resize(dev, 0);
  std::vector<T> fiber(static_cast<size_t>(D) * n_);
  for (int d = 0; d < D; ++d)
    for (int q = 0; q < n_; ++q) fiber[size_t(d) * n_ + q] = robot_.fiber[size_t(d) * n_ + perm[q]];
  fiber_.upload(fiber);
  level_.resize(dev, size_t(std::max(K_, 1)));
  adj_level_p_.resize(dev, size_t(n_));
  body_slots_.clear();
  body_mass_ = 0;
  for (int q = 0; q < n_; ++q)
    if (robot_.body[perm[q]]) body_slots_.push_back(q), body_mass_ += double(mass_[q]);
  if (!(body_mass_ > 0)) fail("robot", "the robot's body has no mass");
  trace_ = EpisodeTrace{};
  trace_.actuators = K_;
  trace_.com.assign(size_t(steps + 1), {0, 0, 0});
  trace_.velocity.assign(size_t(steps + 1), {0, 0, 0});
  trace_.activation.assign(size_t(steps) * K_, 0.0);
}

template <class T, int D>
Observation ActuationDriver<T, D>::observation(int64_t t) const {
  Observation o;
  o.step = t;
  o.time = double(t) * dt_;
  o.com = trace_.com[size_t(t)];
  o.velocity = trace_.velocity[size_t(t)];
  if (has_goal_) o.goal = goal_;
  return o;
}

template <class T, int D>
void ActuationDriver<T, D>::observe(int64_t t, const TapeFields<T, D>& state) {
  // centre of mass c = sum m x / M and its velocity over the body's particles, in slot order
  std::vector<T> x, v;
  state.x.download(x);
  state.v.download(v);
  std::array<double, 3> c{0, 0, 0}, u{0, 0, 0};
  for (int q : body_slots_)
    for (int d = 0; d < D; ++d) {
      c[d] += double(mass_[q]) * double(x[size_t(d) * n_ + q]);
      u[d] += double(mass_[q]) * double(v[size_t(d) * n_ + q]);
    }
  for (int d = 0; d < D; ++d) c[d] /= body_mass_, u[d] /= body_mass_;
  trace_.com[size_t(t)] = c;
  trace_.velocity[size_t(t)] = u;
  if (on_state_) on_state_(t, state);
  if (t >= steps_) return;
  // the controller's activations for step t
  double* a = trace_.activation.data() + size_t(t) * K_;
  controller_.act(observation(t), a);
  for (int k = 0; k < K_; ++k)
    if (!std::isfinite(a[k]))
      fail("controller", "activation of actuator '" + robot_.actuator_names[k] + "' is " +
                             std::to_string(a[k]) + " at step " + std::to_string(t));
}

template <class T, int D>
void ActuationDriver<T, D>::add_stress(DiffBackend<T, D>& backend, int64_t t, const T* F, T* tau) {
  if (K_ == 0) return;
  std::vector<T> level(static_cast<size_t>(K_));
  for (int k = 0; k < K_; ++k) level[k] = T(trace_.activation[size_t(t) * K_ + k] * strength_[k]);
  level_.upload(level);
  Actuation<T, D> a{n_, F, actuator_.data(), fiber_.data(), level_.data(), tau};
  backend.actuation(a);
}

template <class T, int D>
double ActuationDriver<T, D>::finish() {
  value_ = evaluate_objective(objective_, trace_, has_goal_, goal_);
  if (!std::isfinite(value_.loss)) fail("objective", "the robot's loss is " + std::to_string(value_.loss));
  begin_backward();
  return value_.loss;
}

template <class T, int D>
void ActuationDriver<T, D>::begin_backward() {
  adj_controller_.assign(size_t(controller_.size()), 0.0);
  adj_strength_.assign(size_t(K_), 0.0);
  adj_mass_.assign(size_t(n_), 0.0);
}

template <class T, int D>
void ActuationDriver<T, D>::add_com_adjoint(int64_t t, const TapeFields<T, D>& state,
                                            const std::array<double, 3>& ac, const std::array<double, 3>& av,
                                            TapeFields<T, D>& adj) {
  bool any = false;
  for (int d = 0; d < D; ++d) any = any || ac[d] != 0 || av[d] != 0;
  if (!any) return;
  // c = sum m x / M: d c / d x_q = m_q / M, d c / d m_q = (x_q - c) / M (the same for the velocity)
  std::vector<T> x, v;
  state.x.download(x);
  state.v.download(v);
  const std::array<double, 3>& c = trace_.com[size_t(t)];
  const std::array<double, 3>& u = trace_.velocity[size_t(t)];
  std::vector<double> ax(static_cast<size_t>(D) * n_, 0.0), avv(static_cast<size_t>(D) * n_, 0.0);
  for (int q : body_slots_) {
    const double w = double(mass_[q]) / body_mass_;
    for (int d = 0; d < D; ++d) {
      ax[size_t(d) * n_ + q] = w * ac[d];
      avv[size_t(d) * n_ + q] = w * av[d];
      adj_mass_[q] +=
          (ac[d] * (double(x[size_t(d) * n_ + q]) - c[d]) + av[d] * (double(v[size_t(d) * n_ + q]) - u[d])) /
          body_mass_;
    }
  }
  adj.add_xv(ax, avv);
}

template <class T, int D>
void ActuationDriver<T, D>::backward_step(DiffBackend<T, D>& backend, int64_t t,
                                          const TapeFields<T, D>& state, const T* adj_tau,
                                          TapeFields<T, D>& adj) {
  std::vector<double> adj_a(static_cast<size_t>(K_), 0.0);
  if (K_ > 0) {
    // the active stress: adj F, and d loss / d level per particle summed per actuator in slot order
    std::vector<T> level(static_cast<size_t>(K_));
    for (int k = 0; k < K_; ++k) level[k] = T(trace_.activation[size_t(t) * K_ + k] * strength_[k]);
    level_.upload(level);
    Actuation<T, D> a{n_, state.F.data(), actuator_.data(), fiber_.data(), level_.data(), nullptr};
    backend.actuation_adjoint(ActuationAdjoint<T, D>{a, adj_tau, adj.F.data(), adj_level_p_.data()});
    std::vector<T> per_particle;
    adj_level_p_.download(per_particle);
    std::vector<int32_t> act;
    actuator_.download(act);
    std::vector<double> adj_level(size_t(K_), 0.0);
    for (int q = 0; q < n_; ++q)
      if (act[q] >= 0) adj_level[act[q]] += double(per_particle[q]);
    for (int k = 0; k < K_; ++k) {
      const double ak = trace_.activation[size_t(t) * K_ + k];
      adj_a[k] = adj_level[k] * strength_[k] + value_.adj_activation[size_t(t) * K_ + k];
      adj_strength_[k] += adj_level[k] * ak;
      if (!std::isfinite(adj_a[k]))
        fail("backward pass", "the gradient of actuator '" + robot_.actuator_names[k] + "' became " +
                                  std::to_string(adj_a[k]) + " at step " + std::to_string(t));
    }
  }
  // the controller: its parameters and, closed loop, the observation of state t
  Observation adj_obs;
  controller_.act_vjp(observation(t), adj_a.data(), adj_controller_.data(), adj_obs);
  std::array<double, 3> ac = value_.adj_com[size_t(t)], av = value_.adj_velocity[size_t(t)];
  for (int d = 0; d < 3; ++d) ac[d] += adj_obs.com[d], av[d] += adj_obs.velocity[d];
  add_com_adjoint(t, state, ac, av, adj);
}

template <class T, int D>
void ActuationDriver<T, D>::backward_final(const TapeFields<T, D>& state, TapeFields<T, D>& adj) {
  add_com_adjoint(steps_, state, value_.adj_com[size_t(steps_)], value_.adj_velocity[size_t(steps_)], adj);
}

template class ActuationDriver<float, 2>;
template class ActuationDriver<float, 3>;
template class ActuationDriver<double, 2>;
template class ActuationDriver<double, 3>;

}  // namespace ductile
