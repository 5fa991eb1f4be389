#include "materials/neural/neural_material.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <mutex>
#include <optional>

#include "core/svd.h"
#include "materials/elastic_params.h"
#include "materials/neural/neural_host_copy.h"
#include "materials/neural/neural_nets.h"
#include "materials/neural/neural_tensor_path.h"
#include "materials/registry.h"

namespace ductile {

namespace {

using neural::init_mlp;
using neural::make_mlp;
using neural::num;
using neural::parse_flag;
using neural::parse_positive;

// f(F) = (upper triangle of F^T F - I, det F - 1) / e, with e the strain scale (input normalization).
template <class T, int D>
void features(const Mat<T, D>& F, T inv_e, T* f) {
  const Mat<T, D> C = transpose(F) * F;
  int k = 0;
  for (int i = 0; i < D; ++i)
    for (int j = i; j < D; ++j) f[k++] = inv_e * (C(i, j) - (i == j ? T(1) : T(0)));
  f[k] = inv_e * (det(F) - T(1));
}

// Adds the adjoint of F from that of the features.
template <class T, int D>
void adj_features(const Mat<T, D>& F, T inv_e, const T* adj_f, Mat<T, D>& adj_F) {
  Mat<T, D> adj_C = Mat<T, D>::zero();
  int k = 0;
  for (int i = 0; i < D; ++i)
    for (int j = i; j < D; ++j) adj_C(i, j) = inv_e * adj_f[k++];
  // C = F^T F: adj F = F (adj C + adj C^T); J = det F: adj F += adj J cof(F)
  adj_F = adj_F + F * (adj_C + transpose(adj_C));
  adj_det(F, inv_e * adj_f[k], adj_F);
}

template <class T, int D>
class NeuralMaterial final : public Material<T, D> {
  static constexpr int kF = neural_features(D);

 public:
  explicit NeuralMaterial(const NeuralSpec& s) : spec_(s) {
    this->values_ = {T(1000), T(10), T(1e4)};
    build();
  }
  const char* model() const override { return "neural"; }
  static const std::vector<ParamSpec>& param_specs() {
    static const std::vector<ParamSpec> s = {
        density_spec(),
        {"wave_speed", "m/s", 10, 0, 1e30, true, false,
         "elastic wave speed assumed for the automatic time step (the "
         "network has no modulus to read it from)"},
        {"stress_scale", "Pa", 1e4, 0, 1e30, true, false,
         "s in tau = s R X F^T: the network's output X is dimensionless"}};
    return s;
  }
  const std::vector<ParamSpec>& specs() const override { return param_specs(); }
  T wave_speed() const override { return this->values_[1]; }

  // Options (before or after the weights; the scene gives them first) and files. Options that the weights
  // file also fixes must agree with it.
  void configure(const std::string& key, const std::string& path) override {
    if (key == "plastic") return want_plastic(parse_flag(key, path));
    if (key == "strain_scale")
      return want_scale(req_strain_, spec_.strain_scale, parse_positive(key, path), key);
    if (key == "plastic_scale")
      return want_scale(req_alpha_, spec_.plastic_scale, parse_positive(key, path), key);
    if (key == "weights") return load(path);
    if (key == "module") {
      script_ = neural::load_module(path, D, dtype());  // checked: features [B, kF] -> stresses [B, D, D]
      place(Device::kCpu);
      script_->to(device_);
      return;
    }
    Material<T, D>::configure(key, path);
  }

  int learnable_size() const override {
    int64_t n = 0;
    for (const auto& p : params()) n += p.numel();
    return int(n);
  }
  std::vector<T> learnable() const override {
    std::vector<T> r;
    for (const auto& p : params()) {
      const torch::Tensor c = p.detach().to(torch::kCPU).contiguous().view(-1);
      r.insert(r.end(), c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
    }
    return r;
  }
  void set_learnable(const std::vector<T>& v) override {
    if (int(v.size()) != learnable_size())
      throw std::runtime_error("neural material: " + std::to_string(v.size()) + " values for " +
                               std::to_string(learnable_size()) + " weights");
    torch::NoGradGuard ng;
    size_t o = 0;
    for (auto& p : params()) {
      p.view(-1).copy_(torch::from_blob(const_cast<T*>(v.data()) + o, {p.numel()}, dtype()));
      o += size_t(p.numel());
    }
  }

  void stress(Device dev, const ParticleView<T, D>& p, const MaterialBatch& b, T* tau,
              Status* st) const override {
    if (const Route r = route(dev); r != kLoops)
      return r == kTensor ? neural::tensor_stress<T, D>(law(dev), dev, p, b, tau, st)
                          : neural::host_stress<T, D>(*this, dev, p, b, tau, st);
    place(dev);
    if (!b.count) return;
    std::vector<Mat<T, D>> F;
    const torch::Tensor f = gather_features(p, b, F);
    torch::NoGradGuard ng;
    const torch::Tensor y = elastic(f).contiguous();
    const T* Y = y.data_ptr<T>();
    for (int k = 0; k < b.count; ++k) {
      const Mat<T, D> X = sym(load_out(Y, k));
      const Mat<T, D> t = scale() * (polar_rotation(svd(F[k])) * X * transpose(F[k]));
      const int i = b.index[k];
      store_mat<T, D>(tau, p.n, i, t);
      if (!finite(t)) raise_status(st, kStatusNonFinite, i, kStageStress);
    }
  }

  void project(Device dev, T dt, const ParticleView<T, D>& p, const MaterialBatch& b,
               Status* st) const override {
    if (const Route r = route(dev); r != kLoops)
      return r == kTensor ? neural::tensor_project<T, D>(law(dev), dev, p, b, st)
                          : neural::host_project<T, D>(*this, dev, dt, p, b, st);
    place(dev);
    if (!spec_.plastic || !b.count) return;
    std::vector<Mat<T, D>> F;
    const torch::Tensor f = gather_features(p, b, F);
    torch::NoGradGuard ng;
    const torch::Tensor y = (*plastic_)->forward(f).contiguous();
    const T* Y = y.data_ptr<T>();
    for (int k = 0; k < b.count; ++k) {
      const Mat<T, D> Fn = F[k] + T(spec_.plastic_scale) * (polar_rotation(svd(F[k])) * sym(load_out(Y, k)));
      const int i = b.index[k];
      store_mat<T, D>(p.F, p.n, i, Fn);
      if (!finite(Fn)) raise_status(st, kStatusNonFinite, i, kStageProject);
    }
  }

  void stress_vjp(Device dev, const ParticleView<T, D>& p, const MaterialBatch& b, const T* adj_tau, T* adj_F,
                  T*, T*, T* adj_params, Status* st) const override {
    if (const Route r = route(dev); r != kLoops)
      return r == kTensor
                 ? neural::tensor_stress_vjp<T, D>(law(dev), dev, p, b, adj_tau, adj_F, adj_params, st)
                 : neural::host_stress_vjp<T, D>(*this, dev, p, b, adj_tau, adj_F, adj_params, st);
    place(dev);
    if (!b.count) return;
    std::vector<Mat<T, D>> F;
    torch::Tensor f = gather_features(p, b, F).requires_grad_(true);
    torch::Tensor y;
    {
      torch::NoGradGuard ng;
      y = elastic(f.detach()).contiguous();
    }
    // tau = R X F^T: adj R = adj_tau F X^T, adj X = R^T adj_tau F, adj F += adj_tau^T R X; adj Y = sym(adj X)
    std::vector<Mat<T, D>> aF(size_t(b.count));
    torch::Tensor adj_y = torch::empty({b.count, D, D}, dtype());
    T* aY = adj_y.data_ptr<T>();
    const T* Y = y.data_ptr<T>();
    T adj_scale = 0;
    for (int k = 0; k < b.count; ++k) {
      const Svd<T, D> s = svd(F[k]);
      const Mat<T, D> R = polar_rotation(s), X = sym(load_out(Y, k));
      const Mat<T, D> a0 = load_mat<T, D>(adj_tau, p.n, b.index[k]), at = scale() * a0;
      adj_scale += ddot(a0, R * X * transpose(F[k]));
      aF[k] = transpose(at) * R * X;
      adj_polar_rotation(s, at * F[k] * transpose(X), aF[k]);
      store_out(aY, k, sym(transpose(R) * at * F[k]));
    }
    if (adj_params) adj_params[2] += adj_scale;
    backprop(f, adj_y, F, aF, false, adj_params ? adj_params + this->specs().size() : nullptr);
    for (int k = 0; k < b.count; ++k) {
      const int i = b.index[k];
      store_mat<T, D>(adj_F, p.n, i, load_mat<T, D>(adj_F, p.n, i) + aF[k]);
      if (!finite(aF[k])) raise_status(st, kStatusNonFinite, i, kStageStress);
    }
  }

  void project_vjp(Device dev, T dt, const ParticleView<T, D>& trial, const MaterialBatch& b,
                   const T* adj_F_out, const T* adj_plastic_out, T* adj_F_trial, T* adj_plastic_in,
                   T* adj_params, Status* st) const override {
    if (const Route r = route(dev); r != kLoops)
      return r == kTensor
                 ? neural::tensor_project_vjp<T, D>(law(dev), dev, trial, b, adj_F_out, adj_plastic_out,
                                                    adj_F_trial, adj_plastic_in, adj_params, st)
                 : neural::host_project_vjp<T, D>(*this, dev, dt, trial, b, adj_F_out, adj_plastic_out,
                                                  adj_F_trial, adj_plastic_in, adj_params, st);
    place(dev);
    for (int k = 0; k < b.count; ++k) {
      const int i = b.index[k];
      if (adj_plastic_out && adj_plastic_in) adj_plastic_in[i] += adj_plastic_out[i];
    }
    std::vector<Mat<T, D>> aF(size_t(b.count));
    for (int k = 0; k < b.count; ++k) aF[k] = load_mat<T, D>(adj_F_out, trial.n, b.index[k]);
    if (spec_.plastic && b.count) {
      // F_new = F + alpha R X: adj R = alpha adj_out X^T, adj X = alpha R^T adj_out
      std::vector<Mat<T, D>> F;
      torch::Tensor f = gather_features(trial, b, F).requires_grad_(true);
      torch::Tensor y;
      {
        torch::NoGradGuard ng;
        y = (*plastic_)->forward(f.detach()).contiguous();
      }
      torch::Tensor adj_y = torch::empty({b.count, D, D}, dtype());
      T* aY = adj_y.data_ptr<T>();
      const T* Y = y.data_ptr<T>();
      const T a = T(spec_.plastic_scale);
      for (int k = 0; k < b.count; ++k) {
        const Svd<T, D> s = svd(F[k]);
        const Mat<T, D> R = polar_rotation(s), X = sym(load_out(Y, k));
        const Mat<T, D> ao = aF[k];
        adj_polar_rotation(s, a * (ao * transpose(X)), aF[k]);
        store_out(aY, k, sym(a * (transpose(R) * ao)));
      }
      backprop(f, adj_y, F, aF, true,
               adj_params ? adj_params + this->specs().size() + elastic_size() : nullptr);
    }
    for (int k = 0; k < b.count; ++k) {
      const int i = b.index[k];
      store_mat<T, D>(adj_F_trial, trial.n, i, load_mat<T, D>(adj_F_trial, trial.n, i) + aF[k]);
      if (!finite(aF[k])) raise_status(st, kStatusNonFinite, i, kStageProject);
    }
  }

  // Architecture and weights in one safetensors file (neural_weights.cpp).
  void save_learnable(const std::string& path) const override { save(path); }
  void save(const std::string& path) const {
    if (script_) throw std::runtime_error("a neural material running a TorchScript module saves no weights");
    neural::write_weights(path, D, spec_, elastic_, spec_.plastic ? &*plastic_ : nullptr);
  }

 private:
  T scale() const { return this->values_[2]; }
  static torch::ScalarType dtype() { return sizeof(T) == 8 ? torch::kFloat64 : torch::kFloat32; }
  // Where a call on dev runs: the C++ loops of this file (CPU), the tensor path of neural_tensor_path.cpp (on
  // CUDA when this LibTorch has CUDA; on the CPU when spec.tensor_path, for tests), or host copies around
  // the loops (a CUDA run without a CUDA LibTorch; said once).
  enum Route { kLoops, kTensor, kHostCopies };
  Route route(Device dev) const {
    if (dev == Device::kCpu) return spec_.tensor_path ? kTensor : kLoops;
    std::string why;
    if (neural::cuda_available(&why)) return kTensor;
    static std::once_flag said;
    std::call_once(said, [&] {
      std::fprintf(stderr,
                   "note: %s: the neural material runs on the CPU, with its particles' F and adjoints copied "
                   "from and to the GPU at every call\n",
                   why.c_str());
    });
    return kHostCopies;
  }
  // The networks on dev's torch device (moved when elsewhere), and the tensor path's view of this law.
  void place(Device dev) const {
    const torch::Device d = neural::torch_device(dev);
    if (d == device_) return;
    elastic_->to(d);
    if (plastic_) (*plastic_)->to(d);
    if (script_) script_->to(d);
    device_ = d;
  }
  neural::TensorLaw law(Device dev) const {
    place(dev);
    neural::TensorLaw l;
    l.elastic = [this](const torch::Tensor& f) { return elastic(f); };
    if (spec_.plastic) l.plastic = [this](const torch::Tensor& f) { return (*plastic_)->forward(f); };
    l.elastic_weights = elastic_params(), l.plastic_weights = plastic_params();
    l.stress_scale = double(scale()), l.strain_scale = spec_.strain_scale,
    l.plastic_scale = spec_.plastic_scale;
    l.n_specs = int(this->specs().size()), l.elastic_size = elastic_size();
    return l;
  }
  static bool finite(const Mat<T, D>& m) {
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j)
        if (!std::isfinite(m(i, j))) return false;
    return true;
  }
  static Mat<T, D> load_out(const T* y, int k) {
    Mat<T, D> m;
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) m(i, j) = y[(size_t(k) * D + i) * D + j];
    return m;
  }
  static void store_out(T* y, int k, const Mat<T, D>& m) {
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) y[(size_t(k) * D + i) * D + j] = m(i, j);
  }

  void build() {
    device_ = torch::Device(torch::kCPU);
    torch::manual_seed(spec_.seed);
    elastic_ = make_mlp(kF, D * D, spec_.width, spec_.depth);
    init_mlp(elastic_);
    elastic_->to(dtype());
    plastic_.reset();
    if (spec_.plastic) add_plastic();
  }
  // A fresh return mapping (the identity) beside the elastic law.
  void add_plastic() {
    torch::manual_seed(spec_.seed + 1);
    plastic_ = make_mlp(kF, D * D, spec_.width, spec_.depth);
    init_mlp(*plastic_);
    (*plastic_)->to(dtype());
    (*plastic_)->to(device_);
    spec_.plastic = true;
  }

  // "plastic": true adds a fresh return mapping (also beside elastic-only weights); false drops it, unless
  // the weights file holds a trained one.
  void want_plastic(bool on) {
    req_plastic_ = on;
    if (on == spec_.plastic) return;
    if (on) return add_plastic();
    if (loaded_plastic_)
      throw std::runtime_error("false, but the weights file " + loaded_ +
                               " holds a trained plastic return mapping (drop 'plastic' or set it true)");
    plastic_.reset();
    spec_.plastic = false;
  }
  // strain_scale and plastic_scale: free before weights are loaded, then they must match the file's.
  void want_scale(std::optional<double>& req, double& value, double v, const std::string& key) {
    if (!loaded_.empty() && v != value && (key == "strain_scale" || loaded_plastic_))
      throw std::runtime_error(num(v) + ", but the weights file " + loaded_ + " was trained with " + key +
                               " = " + num(value) + " (drop '" + key + "' or set it to that value)");
    req = v;
    value = v;
  }

  // Reads weights saved by save() (safetensors), or a LibTorch archive of earlier builds (read in a child
  // process first: docs/RELIABILITY.md); what they hold is checked before use (neural_weights.cpp). Options
  // set before must agree with the file; "plastic": true beside elastic-only weights adds a fresh return
  // mapping.
  void load(const std::string& path) {
    const neural::LoadedWeights w = neural::load_weights(path, D);
    NeuralSpec f = w.spec;
    neural::check_requests(f, {req_plastic_, req_strain_, req_alpha_}, path);
    const bool add = !f.plastic && req_plastic_.value_or(false);
    if (add) f.plastic_scale = spec_.plastic_scale;
    f.seed = spec_.seed;
    f.tensor_path = spec_.tensor_path;
    spec_ = f;
    build();
    neural::assign_weights(w, path, "elastic", elastic_);
    if (f.plastic) neural::assign_weights(w, path, "plastic", *plastic_);
    if (add) add_plastic();
    loaded_ = path;
    loaded_plastic_ = f.plastic;
  }

  torch::Tensor elastic(const torch::Tensor& f) const {
    if (script_) return script_->forward({f}).toTensor().reshape({f.size(0), D * D});
    return elastic_->forward(f);
  }
  std::vector<torch::Tensor> elastic_params() const {
    std::vector<torch::Tensor> r;
    if (script_)
      for (const auto& p : script_->parameters()) r.push_back(p);
    else
      r = elastic_->parameters();
    return r;
  }
  std::vector<torch::Tensor> plastic_params() const {
    return spec_.plastic ? (*plastic_)->parameters() : std::vector<torch::Tensor>{};
  }
  std::vector<torch::Tensor> params() const {
    std::vector<torch::Tensor> r = elastic_params(), p = plastic_params();
    r.insert(r.end(), p.begin(), p.end());
    return r;
  }
  int elastic_size() const {
    int64_t n = 0;
    for (const auto& p : elastic_params()) n += p.numel();
    return int(n);
  }

  // Features of the batch's F (also returned) as a [B, kF] tensor.
  torch::Tensor gather_features(const ParticleView<T, D>& p, const MaterialBatch& b,
                                std::vector<Mat<T, D>>& F) const {
    F.resize(size_t(b.count));
    torch::Tensor f = torch::empty({b.count, kF}, dtype());
    T* fp = f.data_ptr<T>();
    const T inv_e = T(1 / spec_.strain_scale);
    for (int k = 0; k < b.count; ++k) {
      F[k] = load_mat<T, D>(p.F, p.n, b.index[k]);
      features<T, D>(F[k], inv_e, fp + size_t(k) * kF);
    }
    return f;
  }

  // Runs the elastic or plastic MLP on features f with gradients, pulls adj_y back to the features (added to
  // aF through f(F)) and to the weights (added to adj_w, when given).
  void backprop(torch::Tensor& f, const torch::Tensor& adj_y, const std::vector<Mat<T, D>>& F,
                std::vector<Mat<T, D>>& aF, bool plastic, T* adj_w) const {
    torch::AutoGradMode on(true);
    std::vector<torch::Tensor> weights = plastic ? plastic_params() : elastic_params();
    for (auto& w : weights) w.requires_grad_(true);
    const torch::Tensor out = plastic ? (*plastic_)->forward(f) : elastic(f);
    std::vector<torch::Tensor> inputs = {f};
    inputs.insert(inputs.end(), weights.begin(), weights.end());
    const auto grads =
        torch::autograd::grad({out}, inputs, {adj_y.reshape({f.size(0), D * D})}, false, false, true);
    const torch::Tensor gf = grads[0].contiguous();
    const T* g = gf.data_ptr<T>();
    const T inv_e = T(1 / spec_.strain_scale);
    for (size_t k = 0; k < F.size(); ++k) adj_features<T, D>(F[k], inv_e, g + k * kF, aF[k]);
    if (!adj_w) return;
    size_t o = 0;
    for (size_t w = 0; w < weights.size(); ++w) {
      const torch::Tensor gw = grads[w + 1].defined() ? grads[w + 1].contiguous().view(-1)
                                                      : torch::zeros({weights[w].numel()}, dtype());
      const T* gp = gw.data_ptr<T>();
      for (int64_t i = 0; i < gw.numel(); ++i) adj_w[o + size_t(i)] += gp[i];
      o += size_t(gw.numel());
    }
  }

  NeuralSpec spec_;
  std::optional<bool> req_plastic_;  // options the scene set
  std::optional<double> req_strain_, req_alpha_;
  std::string loaded_;           // the weights file read, if any
  bool loaded_plastic_ = false;  // it held a plastic return mapping
  // forward() is not const in LibTorch; evaluating the networks changes nothing they hold
  mutable torch::nn::Sequential elastic_{nullptr};
  mutable std::optional<torch::nn::Sequential> plastic_;
  mutable std::optional<torch::jit::Module> script_;
  mutable torch::Device device_{torch::kCPU};  // where the networks are
};

}  // namespace

template <class T, int D>
std::unique_ptr<Material<T, D>> make_neural_material(const NeuralSpec& spec) {
  return std::make_unique<NeuralMaterial<T, D>>(spec);
}

template <class T, int D>
void save_neural_weights(const Material<T, D>& material, const std::string& path) {
  const auto* m = dynamic_cast<const NeuralMaterial<T, D>*>(&material);
  if (!m)
    throw std::runtime_error(std::string("save_neural_weights: '") + material.model() + "' is not neural");
  m->save(path);
}

void register_neural_materials(MaterialRegistry& r) {
  if (r.has("neural")) return;
  MaterialEntry e;
  e.name = "neural";
  e.specs = [] { return std::cref(NeuralMaterial<double, 3>::param_specs()); };
  e.make_f2 = [] { return make_neural_material<float, 2>(); };
  e.make_f3 = [] { return make_neural_material<float, 3>(); };
  e.make_d2 = [] { return make_neural_material<double, 2>(); };
  e.make_d3 = [] { return make_neural_material<double, 3>(); };
  e.file_keys = {"weights", "module"};
  e.options = {{"plastic", true, "with a learned plastic return mapping"},
               {"strain_scale", false, "the invariants' scale: the network reads f(F) / strain_scale"},
               {"plastic_scale", false, "alpha in F <- F + alpha R sym(MLP_p)"}};
  r.add(std::move(e));
}

template std::unique_ptr<Material<float, 2>> make_neural_material<float, 2>(const NeuralSpec&);
template std::unique_ptr<Material<float, 3>> make_neural_material<float, 3>(const NeuralSpec&);
template std::unique_ptr<Material<double, 2>> make_neural_material<double, 2>(const NeuralSpec&);
template std::unique_ptr<Material<double, 3>> make_neural_material<double, 3>(const NeuralSpec&);
template void save_neural_weights<float, 2>(const Material<float, 2>&, const std::string&);
template void save_neural_weights<float, 3>(const Material<float, 3>&, const std::string&);
template void save_neural_weights<double, 2>(const Material<double, 2>&, const std::string&);
template void save_neural_weights<double, 3>(const Material<double, 3>&, const std::string&);

}  // namespace ductile
