// Open-loop controller: a learnable signal per actuator, piecewise constant over `interval` steps,
//   a_k(t) = tanh(theta[floor(t / interval)][k]).
#include <algorithm>
#include <cmath>

#include "core/control/controller.h"

namespace ductile {

namespace {

class OpenLoopController final : public Controller {
 public:
  OpenLoopController(const nlohmann::json& spec, const ControllerContext& ctx) {
    actuators_ = ctx.actuators;
    settings_ = spec;
    interval_ = spec.value("interval", 10);
    segments_ = int((std::max<int64_t>(ctx.steps, 1) + interval_ - 1) / interval_);
    theta_.assign(size_t(segments_) * actuators_, 0.0);
  }
  std::string type() const override { return "open_loop"; }
  int size() const override { return int(theta_.size()); }
  std::vector<double> parameters() const override { return theta_; }
  void set_parameters(const std::vector<double>& p) override { theta_ = p; }

  void act(const Observation& o, double* a) const override {
    const size_t base = size_t(segment(o.step)) * actuators_;
    for (int k = 0; k < actuators_; ++k) a[k] = std::tanh(theta_[base + k]);
  }
  void act_vjp(const Observation& o, const double* adj_a, double* adj_params, Observation&) const override {
    const size_t base = size_t(segment(o.step)) * actuators_;
    // d tanh(x) / dx = 1 - tanh(x)^2
    for (int k = 0; k < actuators_; ++k) {
      const double a = std::tanh(theta_[base + k]);
      adj_params[base + k] += adj_a[k] * (1 - a * a);
    }
  }

 private:
  // Steps beyond the planned episode keep the last segment's signal.
  int segment(int64_t step) const { return int(std::min<int64_t>(step / interval_, segments_ - 1)); }

  int interval_ = 10, segments_ = 1;
  std::vector<double> theta_;
};

}  // namespace

std::unique_ptr<Controller> make_open_loop_controller(const nlohmann::json& spec,
                                                      const ControllerContext& ctx) {
  return std::make_unique<OpenLoopController>(spec, ctx);
}

}  // namespace ductile
