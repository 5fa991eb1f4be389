// The neural material as LibTorch tensor operations on the simulator's device (neural_tensor_path.h).
#include "materials/neural/neural_tensor_path.h"

#include <dlfcn.h>

#include <tuple>

#include "core/memory.h"

#ifndef DUCTILE_TORCH_LIB_DIR
#define DUCTILE_TORCH_LIB_DIR "."
#endif

namespace ductile::neural {

namespace {

template <class T>
torch::TensorOptions opts(Device dev) {
  return torch::TensorOptions()
      .dtype(sizeof(T) == 8 ? torch::kFloat64 : torch::kFloat32)
      .device(torch_device(dev));
}

// A SoA array of `rows` components per particle as a [rows, n] tensor over the same memory (no copy).
template <class T>
torch::Tensor soa(const T* a, int rows, int n, Device dev) {
  return torch::from_blob(const_cast<T*>(a), {rows, n}, opts<T>(dev));
}

// The batch's particle indices (int32 on the device) as int64.
torch::Tensor index_of(const MaterialBatch& b, Device dev) {
  return torch::from_blob(const_cast<int32_t*>(b.index), {b.count},
                          torch::TensorOptions().dtype(torch::kInt32).device(torch_device(dev)))
      .to(torch::kInt64);
}

// The batch's D x D matrices [B, D, D] of a SoA array (a copy), and back: written or added in place.
torch::Tensor gather(const torch::Tensor& a, const torch::Tensor& idx, int D) {
  return a.index_select(1, idx).t().reshape({idx.size(0), D, D});
}
void scatter(torch::Tensor a, const torch::Tensor& idx, const torch::Tensor& m, bool add) {
  const torch::Tensor cols = m.reshape({m.size(0), -1}).t();
  if (add)
    a.index_add_(1, idx, cols);
  else
    a.index_copy_(1, idx, cols);
}

torch::Tensor tr(const torch::Tensor& m) {
  return m.transpose(1, 2);
}
torch::Tensor sym(const torch::Tensor& m) {
  return 0.5 * (m + tr(m));
}
torch::Tensor mat_mul(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::matmul(a, b);
}

// f(F) / e as [B, K]: the upper triangle of F^T F - I, then det F - 1 (differentiable; the order of
// neural_material.cpp's features()).
torch::Tensor features(const torch::Tensor& F, double inv_e) {
  const int64_t D = F.size(1);
  const torch::Tensor C = mat_mul(tr(F), F) - torch::eye(D, F.options());
  std::vector<torch::Tensor> f;
  for (int64_t i = 0; i < D; ++i)
    for (int64_t j = i; j < D; ++j) f.push_back(C.select(1, i).select(1, j));
  f.push_back(torch::linalg_det(F) - 1);
  return torch::stack(f, 1) * inv_e;
}

// F = U diag(S) V^T with U, V rotations (the last singular value may be negative, as core/svd.h), and the
// polar rotation R = U V^T. A non-finite F is decomposed as I (LAPACK refuses NaN); its stress and adjoints
// are non-finite all the same (through F and the features) and raise the status.
struct Polar {
  torch::Tensor U, S, V, R;
};
Polar polar(const torch::Tensor& F) {
  torch::NoGradGuard ng;
  const int64_t D = F.size(1);
  const torch::Tensor ok = torch::isfinite(F.reshape({F.size(0), -1})).all(1).view({-1, 1, 1});
  torch::Tensor U, S, Vh;
  std::tie(U, S, Vh) = torch::linalg_svd(torch::where(ok, F, torch::eye(D, F.options()).expand_as(F)), false);
  const torch::Tensor su = torch::sign(torch::linalg_det(U)), sv = torch::sign(torch::linalg_det(Vh));
  U = U.clone(), S = S.clone(), Vh = Vh.clone();
  U.select(2, D - 1).mul_(su.unsqueeze(1));
  Vh.select(1, D - 1).mul_(sv.unsqueeze(1));
  S.select(1, D - 1).mul_(su * sv);
  return {U, S, tr(Vh), mat_mul(U, Vh)};
}

// adj_F of R = polar(F) from adj_R: U A V^T with A_ij = (B_ij - B_ji) / (s_i + s_j), B = U^T adj_R V, sums
// below eps clamped to +-eps (core/svd.h, adj_polar_rotation).
torch::Tensor polar_vjp(const Polar& p, const torch::Tensor& adj_R) {
  const double eps = p.S.scalar_type() == torch::kFloat32 ? 1e-6 : 1e-12;
  const torch::Tensor B = mat_mul(mat_mul(tr(p.U), adj_R), p.V);
  torch::Tensor den = p.S.unsqueeze(2) + p.S.unsqueeze(1);
  den = torch::where(den.abs() < eps,
                     torch::where(den < 0, -eps * torch::ones_like(den), eps * torch::ones_like(den)), den);
  return mat_mul(mat_mul(p.U, (B - tr(B)) / den), tr(p.V));
}

// Raises kStatusNonFinite for the lowest batch particle whose matrix in m [B, D, D] is not finite (the
// status word lives on `dev`: read, raised on the host, written back; a few bytes).
void check_finite(const torch::Tensor& m, const torch::Tensor& idx, Device dev, Status* st, uint32_t stage) {
  const torch::Tensor bad = torch::isfinite(m.reshape({m.size(0), -1})).all(1).logical_not();
  if (!bad.any().item<bool>()) return;
  const int32_t first = int32_t(idx.masked_select(bad).min().item<int64_t>());
  Status h;
  device_copy(&h, Device::kCpu, st, dev, sizeof(Status));
  raise_status(&h, kStatusNonFinite, first, stage);
  device_copy(st, dev, &h, Device::kCpu, sizeof(Status));
}

// Runs a network on features of Fg (which requires grad) and pulls adj_Y back to Fg and to the weights;
// the weights' adjoints are added to adj_params from `offset` on. Returns the adjoint of Fg.
template <class T>
torch::Tensor backprop(std::vector<torch::Tensor> weights, const torch::Tensor& Fg, const torch::Tensor& Y,
                       const torch::Tensor& adj_Y, T* adj_params, int64_t offset, Device dev) {
  std::vector<torch::Tensor> inputs = {Fg};
  inputs.insert(inputs.end(), weights.begin(), weights.end());
  const auto grads = torch::autograd::grad({Y}, inputs, {adj_Y}, false, false, true);
  if (adj_params) {
    int64_t total = offset;
    for (const auto& w : weights) total += w.numel();
    torch::Tensor a = torch::from_blob(adj_params, {total}, opts<T>(dev));
    for (size_t w = 0; w < weights.size(); ++w) {
      if (grads[w + 1].defined()) a.narrow(0, offset, weights[w].numel()).add_(grads[w + 1].reshape({-1}));
      offset += weights[w].numel();
    }
  }
  return grads[0].defined() ? grads[0] : torch::zeros_like(Fg);
}

// Y = net(f(F) / e) as [B, D, D] with F requiring grad (a leaf), for backprop.
torch::Tensor run_with_grad(const std::function<torch::Tensor(const torch::Tensor&)>& net,
                            std::vector<torch::Tensor>& weights, const torch::Tensor& Fg, double inv_e,
                            int D) {
  torch::AutoGradMode on(true);
  for (auto& w : weights) w.requires_grad_(true);
  return net(features(Fg, inv_e)).reshape({Fg.size(0), D, D});
}

}  // namespace

torch::Device torch_device(Device dev) {
  return dev == Device::kCuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

bool cuda_available(std::string* why_not) {
  static std::string why;
  static const bool ok = [] {
    const std::string lib = std::string(DUCTILE_TORCH_LIB_DIR) + "/libtorch_cuda.so";
    if (!dlopen(lib.c_str(), RTLD_NOW | RTLD_GLOBAL) && !dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_GLOBAL)) {
      const char* e = dlerror();
      why = "LibTorch's CUDA half did not load (" + std::string(e ? e : lib) + ")";
      return false;
    }
    if (!torch::cuda::is_available()) {
      why = "LibTorch sees no CUDA device (torch::cuda::is_available() is false)";
      return false;
    }
    return true;
  }();
  if (why_not) *why_not = why;
  return ok;
}

template <class T, int D>
void tensor_stress(const TensorLaw& law, Device dev, const ParticleView<T, D>& p, const MaterialBatch& b,
                   T* tau, Status* st) {
  if (!b.count) return;
  torch::NoGradGuard ng;
  const torch::Tensor idx = index_of(b, dev), F = gather(soa(p.F, D * D, p.n, dev), idx, D);
  const torch::Tensor X = sym(law.elastic(features(F, 1 / law.strain_scale)).reshape({b.count, D, D}));
  // tau = s R X F^T
  const torch::Tensor t = law.stress_scale * mat_mul(mat_mul(polar(F).R, X), tr(F));
  scatter(soa(tau, D * D, p.n, dev), idx, t, false);
  check_finite(t, idx, dev, st, kStageStress);
}

template <class T, int D>
void tensor_project(const TensorLaw& law, Device dev, const ParticleView<T, D>& p, const MaterialBatch& b,
                    Status* st) {
  if (!law.plastic || !b.count) return;
  torch::NoGradGuard ng;
  const torch::Tensor idx = index_of(b, dev), Fs = soa(p.F, D * D, p.n, dev), F = gather(Fs, idx, D);
  const torch::Tensor X = sym(law.plastic(features(F, 1 / law.strain_scale)).reshape({b.count, D, D}));
  // F <- F + alpha R X
  const torch::Tensor Fn = F + law.plastic_scale * mat_mul(polar(F).R, X);
  scatter(Fs, idx, Fn, false);
  check_finite(Fn, idx, dev, st, kStageProject);
}

template <class T, int D>
void tensor_stress_vjp(const TensorLaw& law, Device dev, const ParticleView<T, D>& p, const MaterialBatch& b,
                       const T* adj_tau, T* adj_F, T* adj_params, Status* st) {
  if (!b.count) return;
  const torch::Tensor idx = index_of(b, dev);
  const torch::Tensor F = gather(soa(p.F, D * D, p.n, dev), idx, D).detach();
  const torch::Tensor a0 = gather(soa(adj_tau, D * D, p.n, dev), idx, D);
  const torch::Tensor Fg = F.clone().requires_grad_(true);
  std::vector<torch::Tensor> w = law.elastic_weights;
  const torch::Tensor Y = run_with_grad(law.elastic, w, Fg, 1 / law.strain_scale, D);
  torch::Tensor aF, adj_Y, adj_s;
  const Polar P = polar(F);
  {
    torch::NoGradGuard ng;
    // tau = s R X F^T: adj R = adj_tau F X^T, adj X = R^T adj_tau F, adj F += adj_tau^T R X; adj Y = sym(adj
    // X)
    const torch::Tensor X = sym(Y.detach()), at = law.stress_scale * a0;
    adj_s = (a0 * mat_mul(mat_mul(P.R, X), tr(F))).sum();
    aF = mat_mul(tr(at), mat_mul(P.R, X)) + polar_vjp(P, mat_mul(mat_mul(at, F), tr(X)));
    adj_Y = sym(mat_mul(mat_mul(tr(P.R), at), F));
  }
  aF = aF + backprop<T>(w, Fg, Y, adj_Y, adj_params, law.n_specs, dev);
  torch::NoGradGuard ng;
  if (adj_params)
    torch::from_blob(adj_params, {law.n_specs}, opts<T>(dev)).narrow(0, 2, 1).add_(adj_s);  // stress_scale
  scatter(soa(adj_F, D * D, p.n, dev), idx, aF, true);
  check_finite(aF, idx, dev, st, kStageStress);
}

template <class T, int D>
void tensor_project_vjp(const TensorLaw& law, Device dev, const ParticleView<T, D>& trial,
                        const MaterialBatch& b, const T* adj_F_out, const T* adj_plastic_out, T* adj_F_trial,
                        T* adj_plastic_in, T* adj_params, Status* st) {
  if (!b.count) return;
  const torch::Tensor idx = index_of(b, dev);
  if (adj_plastic_out && adj_plastic_in) {
    torch::NoGradGuard ng;
    soa(adj_plastic_in, 1, trial.n, dev)
        .index_add_(1, idx, soa(adj_plastic_out, 1, trial.n, dev).index_select(1, idx));
  }
  torch::Tensor aF = gather(soa(adj_F_out, D * D, trial.n, dev), idx, D);
  if (law.plastic) {
    const torch::Tensor F = gather(soa(trial.F, D * D, trial.n, dev), idx, D).detach();
    const torch::Tensor Fg = F.clone().requires_grad_(true);
    std::vector<torch::Tensor> w = law.plastic_weights;
    const torch::Tensor Y = run_with_grad(law.plastic, w, Fg, 1 / law.strain_scale, D);
    const Polar P = polar(F);
    torch::Tensor adj_Y;
    {
      // F_new = F + alpha R X: adj R = alpha adj_out X^T, adj X = alpha R^T adj_out
      torch::NoGradGuard ng;
      const torch::Tensor X = sym(Y.detach());
      adj_Y = sym(law.plastic_scale * mat_mul(tr(P.R), aF));
      aF = aF + polar_vjp(P, law.plastic_scale * mat_mul(aF, tr(X)));
    }
    aF = aF + backprop<T>(w, Fg, Y, adj_Y, adj_params, law.n_specs + law.elastic_size, dev);
  }
  torch::NoGradGuard ng;
  scatter(soa(adj_F_trial, D * D, trial.n, dev), idx, aF, true);
  check_finite(aF, idx, dev, st, kStageProject);
}

#define DUCTILE_TENSOR_PATH(T, D)                                                             \
  template void tensor_stress<T, D>(const TensorLaw&, Device, const ParticleView<T, D>&,      \
                                    const MaterialBatch&, T*, Status*);                       \
  template void tensor_project<T, D>(const TensorLaw&, Device, const ParticleView<T, D>&,     \
                                     const MaterialBatch&, Status*);                          \
  template void tensor_stress_vjp<T, D>(const TensorLaw&, Device, const ParticleView<T, D>&,  \
                                        const MaterialBatch&, const T*, T*, T*, Status*);     \
  template void tensor_project_vjp<T, D>(const TensorLaw&, Device, const ParticleView<T, D>&, \
                                         const MaterialBatch&, const T*, const T*, T*, T*, T*, Status*);
DUCTILE_TENSOR_PATH(float, 2)
DUCTILE_TENSOR_PATH(float, 3)
DUCTILE_TENSOR_PATH(double, 2)
DUCTILE_TENSOR_PATH(double, 3)
#undef DUCTILE_TENSOR_PATH

}  // namespace ductile::neural
