#include "materials/neural/neural_material.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <optional>

#include "core/io/atomic_file.h"
#include "core/svd.h"
#include "materials/elastic_params.h"
#include "materials/registry.h"

namespace ductile {

namespace {

// A bias-free GELU MLP from `in` features to `out` outputs.
torch::nn::Sequential make_mlp(int in, int out, int width, int depth) {
  torch::nn::Sequential s;
  int prev = in;
  for (int l = 0; l < depth; ++l) {
    s->push_back(torch::nn::Linear(torch::nn::LinearOptions(prev, width).bias(false)));
    s->push_back(torch::nn::GELU());
    prev = width;
  }
  s->push_back(torch::nn::Linear(torch::nn::LinearOptions(prev, out).bias(false)));
  return s;
}

// f(F) = (upper triangle of F^T F - I, det F - 1).
template <class T, int D>
void features(const Mat<T, D>& F, T* f) {
  const Mat<T, D> C = transpose(F) * F;
  int k = 0;
  for (int i = 0; i < D; ++i)
    for (int j = i; j < D; ++j) f[k++] = C(i, j) - (i == j ? T(1) : T(0));
  f[k] = det(F) - T(1);
}

// Adds the adjoint of F from that of the features.
template <class T, int D>
void adj_features(const Mat<T, D>& F, const T* adj_f, Mat<T, D>& adj_F) {
  Mat<T, D> adj_C = Mat<T, D>::zero();
  int k = 0;
  for (int i = 0; i < D; ++i)
    for (int j = i; j < D; ++j) adj_C(i, j) = adj_f[k++];
  // C = F^T F: adj F = F (adj C + adj C^T); J = det F: adj F += adj J cof(F)
  adj_F = adj_F + F * (adj_C + transpose(adj_C));
  adj_det(F, adj_f[k], adj_F);
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

  void configure(const std::string& key, const std::string& path) override {
    if (key == "weights") return load(path);
    if (key == "module") {
      script_ = torch::jit::load(path);
      script_->to(dtype());
      // check the documented signature on the rest state: features [B, kF] -> [B, D, D]
      torch::NoGradGuard ng;
      const torch::Tensor y = script_->forward({torch::zeros({2, kF}, dtype())}).toTensor();
      if (y.dim() != 3 || y.size(0) != 2 || y.size(1) != D || y.size(2) != D)
        throw std::runtime_error(path + ": the module must map features [B, " + std::to_string(kF) +
                                 "] to stresses [B, " + std::to_string(D) + ", " + std::to_string(D) + "]");
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
      const torch::Tensor c = p.detach().contiguous().view(-1);
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
    cpu_only(dev);
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

  void project(Device dev, T, const ParticleView<T, D>& p, const MaterialBatch& b,
               Status* st) const override {
    cpu_only(dev);
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
    cpu_only(dev);
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

  void project_vjp(Device dev, T, const ParticleView<T, D>& trial, const MaterialBatch& b, const T* adj_F_out,
                   const T* adj_plastic_out, T* adj_F_trial, T* adj_plastic_in, T* adj_params,
                   Status* st) const override {
    cpu_only(dev);
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

  // Architecture and weights in one archive.
  void save(const std::string& path) const {
    torch::serialize::OutputArchive ar;
    ar.write("meta", torch::tensor({double(D), double(spec_.width), double(spec_.depth),
                                    spec_.plastic ? 1.0 : 0.0, spec_.plastic_scale},
                                   torch::kFloat64));
    if (script_) throw std::runtime_error("a neural material running a TorchScript module saves no weights");
    for (const auto& np : elastic_->named_parameters()) ar.write("elastic." + np.key(), np.value().detach());
    if (spec_.plastic)
      for (const auto& np : (*plastic_)->named_parameters())
        ar.write("plastic." + np.key(), np.value().detach());
    io::AtomicFile out(path);  // written beside, renamed into place
    ar.save_to(out.tmp_path());
    out.commit();
  }

 private:
  T scale() const { return this->values_[2]; }
  static torch::ScalarType dtype() { return sizeof(T) == 8 ? torch::kFloat64 : torch::kFloat32; }
  static void cpu_only(Device dev) {
    if (dev != Device::kCpu)
      throw std::runtime_error(
          "neural materials run on the CPU in this build (LibTorch's CUDA half is not linked)");
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
    torch::manual_seed(spec_.seed);
    elastic_ = make_mlp(kF, D * D, spec_.width, spec_.depth);
    init(elastic_);
    elastic_->to(dtype());
    if (spec_.plastic) {
      plastic_ = make_mlp(kF, D * D, spec_.width, spec_.depth);
      init(*plastic_);
      (*plastic_)->to(dtype());
    } else {
      plastic_.reset();
    }
  }
  // Xavier-uniform hidden layers and a zero output layer: a fresh law is stress-free (stable, and the
  // gradient still reaches the output layer through the hidden activations).
  static void init(torch::nn::Sequential& s) {
    torch::NoGradGuard ng;
    auto params = s->parameters();
    for (auto& p : params) torch::nn::init::xavier_uniform_(p);
    params.back().zero_();
  }

  // Reads weights saved by save(). The archive itself is LibTorch's (not hardened against hostile files:
  // docs/RELIABILITY.md); what it holds is checked before use: the architecture within bounds (no absurd
  // allocation), every tensor of exactly its parameter's shape and finite (copy_ would broadcast).
  void load(const std::string& path) {
    torch::serialize::InputArchive ar;
    ar.load_from(path);
    torch::Tensor meta;
    ar.read("meta", meta);
    if (meta.numel() != 5 || !meta.is_floating_point())
      throw std::runtime_error(path + ": 'meta' must hold 5 numbers (dimension, width, depth, plastic, scale)");
    meta = meta.to(torch::kFloat64).contiguous();
    const double* m = meta.data_ptr<double>();
    if (m[0] != D)
      throw std::runtime_error(path + ": weights of a " + std::to_string(m[0]) + "D material in a " +
                               std::to_string(D) + "D scene");
    if (!(m[1] >= 1 && m[1] <= 4096 && m[1] == std::floor(m[1]) && m[2] >= 1 && m[2] <= 64 &&
          m[2] == std::floor(m[2]) && (m[3] == 0 || m[3] == 1) && std::isfinite(m[4])))
      throw std::runtime_error(path + ": bad architecture in 'meta' (width 1..4096, depth 1..64, plastic 0/1)");
    spec_.width = int(m[1]), spec_.depth = int(m[2]), spec_.plastic = m[3] != 0, spec_.plastic_scale = m[4];
    build();
    torch::NoGradGuard ng;
    auto read = [&](const std::string& name, torch::Tensor& dst) {
      torch::Tensor t;
      ar.read(name, t);
      if (t.sizes() != dst.sizes())
        throw std::runtime_error(path + ": tensor '" + name + "' has shape " + shape(t) + ", expected " +
                                 shape(dst));
      if (!t.is_floating_point() || !torch::isfinite(t).all().item<bool>())
        throw std::runtime_error(path + ": tensor '" + name + "' is not finite floating point");
      dst.copy_(t);
    };
    for (auto& np : elastic_->named_parameters()) read("elastic." + np.key(), np.value());
    if (spec_.plastic)
      for (auto& np : (*plastic_)->named_parameters()) read("plastic." + np.key(), np.value());
  }
  static std::string shape(const torch::Tensor& t) {
    std::string s = "[";
    for (int64_t k = 0; k < t.dim(); ++k) s += (k ? ", " : "") + std::to_string(t.size(k));
    return s + "]";
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
    for (int k = 0; k < b.count; ++k) {
      F[k] = load_mat<T, D>(p.F, p.n, b.index[k]);
      features<T, D>(F[k], fp + size_t(k) * kF);
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
    for (size_t k = 0; k < F.size(); ++k) adj_features<T, D>(F[k], g + k * kF, aF[k]);
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
  // forward() is not const in LibTorch; evaluating the networks changes nothing they hold
  mutable torch::nn::Sequential elastic_{nullptr};
  mutable std::optional<torch::nn::Sequential> plastic_;
  mutable std::optional<torch::jit::Module> script_;
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
