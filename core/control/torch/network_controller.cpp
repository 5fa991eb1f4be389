// Closed-loop controller: a LibTorch MLP from clock phases, the centre of mass (relative to where the episode
// began) and its velocity, and the goal, to one activation per actuator:
//   in = [sin(2 pi f t + 2 pi j / J)_j, (c - c_0) / L, v / V, g / L],  h_{l+1} = act(W_l h_l + b_l),
//   a = out(W h + b) with act = tanh, sin (periodic, as in Fang et al. 2022) or relu and out = tanh or sin.
// Weights start uniform in +-sqrt(6 / fan_in) from the seed (in double precision); their gradients and the
// inputs' come from LibTorch autograd.
#include "core/control/torch/network_controller.h"

#include <torch/torch.h>

#include <random>

#include "core/control/controller.h"

namespace ductile {

namespace {

class NetworkController final : public Controller {
 public:
  NetworkController(const nlohmann::json& spec, const ControllerContext& ctx) : dim_(ctx.dim) {
    actuators_ = ctx.actuators;
    settings_ = spec;
    frequency_ = spec.value("frequency", 2.0);
    waves_ = spec.value("waves", 4);
    length_ = spec.value("length_scale", 0.1);
    speed_ = spec.value("speed_scale", 1.0);
    activation_ = spec.value("activation", std::string("tanh"));
    output_ = spec.value("output", std::string("tanh"));
    for (const auto& i : spec.value("inputs", nlohmann::json::array({"clock", "com", "velocity", "goal"})))
      inputs_.push_back(i.get<std::string>());
    origin_ = ctx.origin.com;
    // layer sizes and uniform initial weights
    std::vector<int> sizes = {input_size()};
    for (const auto& h : spec.value("hidden", nlohmann::json::array({32}))) sizes.push_back(h.get<int>());
    sizes.push_back(actuators_);
    std::mt19937_64 rng(ctx.seed);
    const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
    for (size_t l = 0; l + 1 < sizes.size(); ++l) {
      const double bound = std::sqrt(6.0 / sizes[l]);
      std::uniform_real_distribution<double> u(-bound, bound);
      std::vector<double> w(size_t(sizes[l + 1]) * sizes[l]);
      for (double& x : w) x = u(rng);
      weights_.push_back(torch::tensor(w, opts).reshape({sizes[l + 1], sizes[l]}));
      biases_.push_back(torch::zeros({sizes[l + 1]}, opts));
    }
  }
  std::string type() const override { return "network"; }
  bool closed_loop() const override { return true; }
  int size() const override {
    int64_t s = 0;
    for (size_t l = 0; l < weights_.size(); ++l) s += weights_[l].numel() + biases_[l].numel();
    return int(s);
  }
  std::vector<double> parameters() const override {
    std::vector<double> p;
    for (size_t l = 0; l < weights_.size(); ++l)
      for (const torch::Tensor* t : {&weights_[l], &biases_[l]}) {
        const torch::Tensor c = t->contiguous();
        p.insert(p.end(), c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
      }
    return p;
  }
  void set_parameters(const std::vector<double>& p) override {
    size_t off = 0;
    for (size_t l = 0; l < weights_.size(); ++l)
      for (torch::Tensor* t : {&weights_[l], &biases_[l]}) {
        auto* d = t->data_ptr<double>();
        std::copy(p.begin() + off, p.begin() + off + t->numel(), d);
        off += size_t(t->numel());
      }
  }

  void act(const Observation& o, double* a) const override {
    torch::NoGradGuard no_grad;
    const torch::Tensor out = forward(input(o), weights_, biases_).contiguous();
    std::copy(out.data_ptr<double>(), out.data_ptr<double>() + actuators_, a);
  }

  void act_vjp(const Observation& o, const double* adj_a, double* adj_params,
               Observation& adj_obs) const override {
    // forward again with gradients on, then one vector-Jacobian product by autograd
    std::vector<torch::Tensor> w, b, leaves;
    for (size_t l = 0; l < weights_.size(); ++l) {
      w.push_back(weights_[l].detach().requires_grad_(true));
      b.push_back(biases_[l].detach().requires_grad_(true));
      leaves.push_back(w.back()), leaves.push_back(b.back());
    }
    torch::Tensor in = input(o).requires_grad_(true);
    leaves.push_back(in);
    const torch::Tensor out = forward(in, w, b);
    const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
    const torch::Tensor seed = torch::tensor(std::vector<double>(adj_a, adj_a + actuators_), opts);
    const auto grads = torch::autograd::grad({out}, leaves, {seed}, false, false, true);
    size_t off = 0;
    for (size_t l = 0; l + 1 < leaves.size(); ++l) {
      const torch::Tensor g = grads[l].defined() ? grads[l].contiguous() : torch::zeros_like(leaves[l]);
      const double* d = g.data_ptr<double>();
      for (int64_t i = 0; i < g.numel(); ++i) adj_params[off + size_t(i)] += d[i];
      off += size_t(g.numel());
    }
    // the input's adjoint back to the centre of mass and its velocity
    const torch::Tensor gi = grads.back().defined() ? grads.back().contiguous() : torch::zeros_like(in);
    const double* d = gi.data_ptr<double>();
    int k = 0;
    for (const auto& name : inputs_) {
      if (name == "clock") k += waves_;
      if (name == "com")
        for (int i = 0; i < dim_; ++i) adj_obs.com[size_t(i)] += d[k++] / length_;
      if (name == "velocity")
        for (int i = 0; i < dim_; ++i) adj_obs.velocity[size_t(i)] += d[k++] / speed_;
      if (name == "goal") k += dim_;
    }
  }

 private:
  int input_size() const {
    int s = 0;
    for (const auto& name : inputs_) s += name == "clock" ? waves_ : dim_;
    return s;
  }
  torch::Tensor input(const Observation& o) const {
    std::vector<double> x;
    for (const auto& name : inputs_) {
      if (name == "clock") {
        const std::vector<double> c = clock_phases(o.time, frequency_, waves_);
        x.insert(x.end(), c.begin(), c.end());
      }
      for (int i = 0; i < dim_; ++i) {
        if (name == "com") x.push_back((o.com[size_t(i)] - origin_[size_t(i)]) / length_);
        if (name == "velocity") x.push_back(o.velocity[size_t(i)] / speed_);
        if (name == "goal") x.push_back(o.goal[size_t(i)] / length_);
      }
    }
    return torch::tensor(x, torch::TensorOptions().dtype(torch::kFloat64));
  }
  torch::Tensor nonlinear(const torch::Tensor& z, const std::string& f) const {
    if (f == "sin") return torch::sin(z);
    if (f == "relu") return torch::relu(z);
    return torch::tanh(z);
  }
  torch::Tensor forward(torch::Tensor h, const std::vector<torch::Tensor>& w,
                        const std::vector<torch::Tensor>& b) const {
    for (size_t l = 0; l < w.size(); ++l) {
      h = torch::matmul(w[l], h) + b[l];
      h = nonlinear(h, l + 1 < w.size() ? activation_ : output_);
    }
    return h;
  }

  int dim_ = 3, waves_ = 4;
  double frequency_ = 2, length_ = 0.1, speed_ = 1;
  std::string activation_, output_;
  std::vector<std::string> inputs_;
  std::array<double, 3> origin_{};
  std::vector<torch::Tensor> weights_, biases_;
};

}  // namespace

void register_network_controller() {
  ControllerRegistry::instance().add("network", [](const nlohmann::json& spec, const ControllerContext& ctx) {
    return std::unique_ptr<Controller>(new NetworkController(spec, ctx));
  });
}

}  // namespace ductile
