// Open-loop controller on a sinusoid basis (DiffTaichi's diffmpm, Hu et al. 2020):
//   a_k(t) = tanh( sum_j W_kj sin(2 pi f t + 2 pi j / J) + b_k ),
// parameters W (row-major, K x J) then b; W starts as N(0, init^2) from the seed, b as 0.
#include <cmath>
#include <random>

#include "core/control/controller.h"

namespace ductile {

namespace {

class SinusoidController final : public Controller {
 public:
  SinusoidController(const nlohmann::json& spec, const ControllerContext& ctx) {
    actuators_ = ctx.actuators;
    settings_ = spec;
    frequency_ = spec.value("frequency", 2.0);
    waves_ = spec.value("waves", 4);
    p_.assign(size_t(actuators_) * (waves_ + 1), 0.0);
    std::mt19937_64 rng(ctx.seed);
    std::normal_distribution<double> normal(0.0, spec.value("init", 0.01));
    for (size_t i = 0; i < size_t(actuators_) * waves_; ++i) p_[i] = normal(rng);
  }
  std::string type() const override { return "sinusoid"; }
  int size() const override { return int(p_.size()); }
  std::vector<double> parameters() const override { return p_; }
  void set_parameters(const std::vector<double>& p) override { p_ = p; }

  void act(const Observation& o, double* a) const override {
    const std::vector<double> s = clock_phases(o.time, frequency_, waves_);
    for (int k = 0; k < actuators_; ++k) a[k] = std::tanh(pre(k, s));
  }
  void act_vjp(const Observation& o, const double* adj_a, double* adj_params, Observation&) const override {
    const std::vector<double> s = clock_phases(o.time, frequency_, waves_);
    const size_t nb = size_t(actuators_) * waves_;
    for (int k = 0; k < actuators_; ++k) {
      const double a = std::tanh(pre(k, s));
      const double d = adj_a[k] * (1 - a * a);
      for (int j = 0; j < waves_; ++j) adj_params[size_t(k) * waves_ + j] += d * s[size_t(j)];
      adj_params[nb + k] += d;
    }
  }

 private:
  double pre(int k, const std::vector<double>& s) const {
    double z = p_[size_t(actuators_) * waves_ + k];
    for (int j = 0; j < waves_; ++j) z += p_[size_t(k) * waves_ + j] * s[size_t(j)];
    return z;
  }

  double frequency_ = 2;
  int waves_ = 4;
  std::vector<double> p_;
};

}  // namespace

std::unique_ptr<Controller> make_sinusoid_controller(const nlohmann::json& spec,
                                                     const ControllerContext& ctx) {
  return std::make_unique<SinusoidController>(spec, ctx);
}

}  // namespace ductile
