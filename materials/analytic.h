// Adapter from an analytic model (a struct of device functions) to the batched Material interface: the
// run-time choice of material becomes a kernel templated on the model.
//
// A model provides:
//   static constexpr const char* kName;                  scene-file name
//   static const std::vector<ParamSpec>& specs();         parameters, density first
//   template <class T, int D> DUCTILE_HD static Mat<T, D> stress(const T* prm, const Mat<T, D>& F,
//                                                               const Mat<T, D>& C, T plastic);
//   template <class T, int D> DUCTILE_HD static void project(const T* prm, T dt, Mat<T, D>& F, T& plastic);
//   template <class T> static T wave_speed(const T* prm);  dilatational wave speed [m/s]
// and the adjoints (docs/GRADIENTS.md), each right after its function, accumulating (+=) into the input
// adjoints; adj_prm is indexed like prm:
//   template <class T, int D> DUCTILE_HD static void adj_stress(const T* prm, const Mat<T, D>& F,
//       const Mat<T, D>& C, T plastic, const Mat<T, D>& adj_tau, Mat<T, D>& adj_F, Mat<T, D>& adj_C,
//       T& adj_plastic, T* adj_prm);
//   template <class T, int D> DUCTILE_HD static void adj_project(const T* prm, T dt, const Mat<T, D>&
//   F_trial,
//       T plastic_in, const Mat<T, D>& adj_F_out, T adj_plastic_out, Mat<T, D>& adj_F_trial,
//       T& adj_plastic_in, T* adj_prm);
#pragma once

#include <cmath>
#include <type_traits>

#include "core/error.h"
#include "core/memory.h"
#include "core/parallel_for.h"
#include "materials/adjoint_scale.h"
#include "materials/elastic_params.h"
#include "materials/keep_for_vjp.h"
#include "materials/material.h"

namespace ductile {

template <class T>
struct ParamPack {
  T v[kMaxMaterialParams];
};

template <class T, int D>
DUCTILE_HD DUCTILE_INLINE bool all_finite(const Mat<T, D>& m) {
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j)
      if (!std::isfinite(m(i, j))) return false;
  return true;
}

// Whether a model keeps something for its adjoint (a member template Kept<T, D>, with stress_kept and
// adj_stress_kept taking it; see KeepForVjp).
template <class M, class = void>
struct HasKept : std::false_type {};
template <class M>
struct HasKept<M, std::void_t<typename M::template Kept<float, 3>>> : std::true_type {};
template <class Model, class T, int D, bool = HasKept<Model>::value>
struct KeptOf {
  struct type {};
};
template <class Model, class T, int D>
struct KeptOf<Model, T, D, true> {
  using type = typename Model::template Kept<T, D>;
};

// Whether a model has its own batched stress (static stress_lanes<T, D>(prm, F, C, plastic, tau), the same
// arguments as MaterialLanes::StressFn less the fault mask), bit-identical to its per-particle stress.
template <class M, class = void>
struct HasStressLanes : std::false_type {};
template <class M>
struct HasStressLanes<M, std::void_t<decltype(&M::template stress_lanes<float, 3>)>> : std::true_type {};

// Kirchhoff stress of one particle of the batch (and, where kept is set, what the adjoint reuses, at k).
template <class Model, class T, int D>
struct StressKernel {
  using Kept = typename KeptOf<Model, T, D>::type;
  ParticleView<T, D> p;
  ParamPack<T> prm;
  const int32_t* index;
  T* tau;
  Status* status;
  Kept* kept = nullptr;
  DUCTILE_HD DUCTILE_INLINE void operator()(int64_t k) const {
    const int i = index[k];
    Mat<T, D> F = load_mat<T, D>(p.F, p.n, i);
    Mat<T, D> C = load_mat<T, D>(p.C, p.n, i);
    Mat<T, D> s;
    if constexpr (HasKept<Model>::value) {
      if (kept)
        s = Model::template stress_kept<T, D>(prm.v, F, C, p.plastic[i], kept[k]);
      else
        s = Model::template stress<T, D>(prm.v, F, C, p.plastic[i]);
    } else {
      s = Model::template stress<T, D>(prm.v, F, C, p.plastic[i]);
    }
    if (!all_finite(s)) raise_status(status, kStatusNonFinite, i, kStageStress);
    store_mat<T, D>(tau, p.n, i, s);
  }
};

// Plastic projection of one particle of the batch.
template <class Model, class T, int D>
struct ProjectKernel {
  ParticleView<T, D> p;
  ParamPack<T> prm;
  const int32_t* index;
  T dt;
  Status* status;
  DUCTILE_HD DUCTILE_INLINE void operator()(int64_t k) const {
    const int i = index[k];
    Mat<T, D> F = load_mat<T, D>(p.F, p.n, i);
    T plastic = p.plastic[i];
    Model::template project<T, D>(prm.v, dt, F, plastic);
    if (!all_finite(F) || !std::isfinite(plastic))
      raise_status(status, kStatusNonFinite, i, kStageProject);
    else if (!(det(F) > T(0)))
      raise_status(status, kStatusInverted, i, kStageProject);
    store_mat<T, D>(p.F, p.n, i, F);
    p.plastic[i] = plastic;
  }
};

// MaterialLanes' functions for a model: StressKernel's and ProjectKernel's per-particle bodies across the
// kLaneBatch lanes of a CPU transfer batch (the same model functions, so the same results).
template <class Model, class T, int D>
uint32_t stress_lanes(const T* params, const T* const* F, const T* const* C, const T* plastic,
                      typename MaterialLanes<T, D>::Lane* tau) {
  // a local copy: the stores to tau cannot change the parameters, so their branches are loop-invariant
  T prm[kMaxMaterialParams];
  for (int q = 0; q < kMaxMaterialParams; ++q) prm[q] = params[q];
  uint32_t bad = 0;
  if constexpr (HasStressLanes<Model>::value) {
    Model::template stress_lanes<T, D>(prm, F, C, plastic, tau);
    for (int c = 0; c < D * D; ++c)
      for (int j = 0; j < kLaneBatch; ++j) bad |= std::isfinite(tau[c][j]) ? 0u : (1u << j);
    return bad;
  }
  for (int j = 0; j < kLaneBatch; ++j) {
    Mat<T, D> Fj, Cj;
    for (int c = 0; c < D * D; ++c) Fj.m[c / D][c % D] = F[c][j], Cj.m[c / D][c % D] = C[c][j];
    const Mat<T, D> s = Model::template stress<T, D>(prm, Fj, Cj, plastic[j]);
    if (!all_finite(s)) bad |= 1u << j;
    for (int c = 0; c < D * D; ++c) tau[c][j] = s.m[c / D][c % D];
  }
  return bad;
}
template <class Model, class T, int D>
void project_lanes(const T* params, T dt, typename MaterialLanes<T, D>::Lane* F, T (&plastic)[kLaneBatch],
                   uint32_t* fault) {
  if constexpr (std::is_base_of_v<PurelyElastic, Model>) {
    // no projection: only ProjectKernel's checks of F and plastic, across the lanes (x - x is 0 exactly
    // where x is finite)
    T finite[kLaneBatch], J[kLaneBatch];
    for (int j = 0; j < kLaneBatch; ++j) {
      T z = plastic[j] - plastic[j];
      for (int c = 0; c < D * D; ++c) z += F[c][j] - F[c][j];
      finite[j] = z;
      if constexpr (D == 2)
        J[j] = F[0][j] * F[3][j] - F[1][j] * F[2][j];
      else
        J[j] = F[0][j] * (F[4][j] * F[8][j] - F[5][j] * F[7][j]) -
               F[1][j] * (F[3][j] * F[8][j] - F[5][j] * F[6][j]) +
               F[2][j] * (F[3][j] * F[7][j] - F[4][j] * F[6][j]);
    }
    for (int j = 0; j < kLaneBatch; ++j)
      fault[j] = !(finite[j] == T(0)) ? uint32_t(kStatusNonFinite)
                 : !(J[j] > T(0))     ? uint32_t(kStatusInverted)
                                      : 0u;
    (void)params, (void)dt;
    return;
  }
  T prm[kMaxMaterialParams];
  for (int q = 0; q < kMaxMaterialParams; ++q) prm[q] = params[q];
  for (int j = 0; j < kLaneBatch; ++j) {
    Mat<T, D> Fj;
    for (int c = 0; c < D * D; ++c) Fj.m[c / D][c % D] = F[c][j];
    T pl = plastic[j];
    Model::template project<T, D>(prm, dt, Fj, pl);
    const bool finite = all_finite(Fj) && std::isfinite(pl);
    fault[j] = !finite ? uint32_t(kStatusNonFinite) : !(det(Fj) > T(0)) ? uint32_t(kStatusInverted) : 0u;
    for (int c = 0; c < D * D; ++c) F[c][j] = Fj.m[c / D][c % D];
    plastic[j] = pl;
  }
}

// a += r for a SoA matrix.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE void add_mat(T* a, int n, int p, const Mat<T, D>& r) {
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) a[(i * D + j) * n + p] += r(i, j);
}
// a += s r for a SoA matrix.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE void add_mat(T* a, int n, int p, const Mat<T, D>& r, T s) {
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) a[(i * D + j) * n + p] += s * r(i, j);
}

template <class T>
DUCTILE_HD DUCTILE_INLINE bool all_finite(const ParamPack<T>& a, int count) {
  for (int q = 0; q < count; ++q)
    if (!std::isfinite(a.v[q])) return false;
  return true;
}

// The VJPs' per-particle bodies inlined into their CPU loops: with the adjoint scaling GCC stopped inlining
// the stress VJP's, and the fluid's VJP took 136 M instead of 114 M instructions (callgrind, G = 32, 20
// steps).
#if defined(__CUDACC__)
#define DUCTILE_VJP_INLINE __forceinline__
#else
#define DUCTILE_VJP_INLINE inline __attribute__((always_inline))
#endif

// Adjoint of the stress of one particle of the batch: accumulates the particle's adjoints of F, C and plastic
// and writes its parameter adjoints to column k of rows (rows[q * count + k]), reduced afterwards in a fixed
// order. Where kept is set, the stress kept what the adjoint reuses (at k).
template <class Model, class T, int D>
struct StressVjpKernel {
  using Kept = typename KeptOf<Model, T, D>::type;
  ParticleView<T, D> p;
  ParamPack<T> prm;
  const int32_t* index;
  int count, nparams;
  const T* adj_tau;
  T *adj_F, *adj_C, *adj_plastic, *rows;
  Status* status;
  const Kept* kept = nullptr;
  DUCTILE_HD DUCTILE_VJP_INLINE void operator()(int64_t k) const {
    const int i = index[k];
    const Mat<T, D> F = load_mat<T, D>(p.F, p.n, i), C = load_mat<T, D>(p.C, p.n, i);
    // a tiny adj_tau scaled by 2^-e to unit size, the results by 2^e (the VJP is linear in it): exact, and
    // no subnormal floats inside the model's adjoint (materials/adjoint_scale.h)
    Mat<T, D> a_tau = load_mat<T, D>(adj_tau, p.n, i);
    const int e = adjoint_scale_exponent(a_tau);
    const T up = pow2<T>(e);
    a_tau = pow2<T>(-e) * a_tau;
    Mat<T, D> aF = Mat<T, D>::zero(), aC = Mat<T, D>::zero();
    T aP = 0;
    ParamPack<T> aprm{};
    if constexpr (HasKept<Model>::value) {
      if (kept)
        Model::template adj_stress_kept<T, D>(prm.v, F, C, p.plastic[i], kept[k], a_tau, aF, aC, aP, aprm.v);
      else
        Model::template adj_stress<T, D>(prm.v, F, C, p.plastic[i], a_tau, aF, aC, aP, aprm.v);
    } else {
      Model::template adj_stress<T, D>(prm.v, F, C, p.plastic[i], a_tau, aF, aC, aP, aprm.v);
    }
    // (finite before the scaling back by up <= 1 exactly where finite after it)
    if (!all_finite(aF) || !all_finite(aC) || !std::isfinite(aP) || !all_finite(aprm, nparams))
      raise_status(status, kStatusNonFinite, i, kStageStress);
    add_mat<T, D>(adj_F, p.n, i, aF, up);
    if (adj_C) add_mat<T, D>(adj_C, p.n, i, aC, up);
    if (adj_plastic) adj_plastic[i] += up * aP;
    if (rows)
      for (int q = 0; q < nparams; ++q) rows[int64_t(q) * count + k] = up * aprm.v[q];
  }
};

// Adjoint of the plastic projection of one particle of the batch (trial holds F and plastic before it).
template <class Model, class T, int D>
struct ProjectVjpKernel {
  ParticleView<T, D> trial;
  ParamPack<T> prm;
  const int32_t* index;
  int count, nparams;
  T dt;
  const T *adj_F_out, *adj_plastic_out;
  T *adj_F_trial, *adj_plastic_in, *rows;
  Status* status;
  DUCTILE_HD DUCTILE_VJP_INLINE void operator()(int64_t k) const {
    const int i = index[k];
    const Mat<T, D> F = load_mat<T, D>(trial.F, trial.n, i);
    // tiny output adjoints scaled by one power of two to unit size, the results back, as in the stress VJP
    // (linear in both; materials/adjoint_scale.h)
    Mat<T, D> aFo = load_mat<T, D>(adj_F_out, trial.n, i);
    T aPo = adj_plastic_out ? adj_plastic_out[i] : T(0);
    const int e = adjoint_scale_exponent(aFo, aPo);
    const T up = pow2<T>(e), down = pow2<T>(-e);
    aFo = down * aFo, aPo = down * aPo;
    Mat<T, D> aF = Mat<T, D>::zero();
    T aP = 0;
    ParamPack<T> aprm{};
    Model::template adj_project<T, D>(prm.v, dt, F, trial.plastic[i], aFo, aPo, aF, aP, aprm.v);
    if (!all_finite(aF) || !std::isfinite(aP) || !all_finite(aprm, nparams))
      raise_status(status, kStatusNonFinite, i, kStageProject);
    add_mat<T, D>(adj_F_trial, trial.n, i, aF, up);
    if (adj_plastic_in) adj_plastic_in[i] += up * aP;
    if (rows)
      for (int q = 0; q < nparams; ++q) rows[int64_t(q) * count + k] = up * aprm.v[q];
  }
};

// Deterministic sum of the parameter rows: chunks of kParamChunk particles summed in sequence (one item per
// parameter and chunk), then each parameter's chunk sums in sequence, added to out. The order depends only on
// the batch size, so the CPU result does not change with the thread count (and the GPU sums in the same
// order).
constexpr int kParamChunk = 256;
template <class T>
struct ParamChunkSum {
  const T* rows;
  int count, nchunks;
  T* partial;  // partial[q * nchunks + c]
  DUCTILE_HD DUCTILE_INLINE void operator()(int64_t t) const {
    const int64_t q = t / nchunks, c = t % nchunks;
    const int64_t end = (c + 1) * kParamChunk < count ? (c + 1) * kParamChunk : count;
    T s = 0;
    for (int64_t k = c * kParamChunk; k < end; ++k) s += rows[q * count + k];
    partial[t] = s;
  }
};
template <class T>
struct ParamChunkCombine {
  const T* partial;
  int nchunks;
  T* out;
  DUCTILE_HD DUCTILE_INLINE void operator()(int64_t q) const {
    T s = 0;
    for (int c = 0; c < nchunks; ++c) s += partial[q * nchunks + c];
    out[q] += s;
  }
};

// CUDA launches of the kernels, instantiated for every model in materials/analytic_cuda.cu.
template <class Model, class T, int D>
void launch_stress_cuda(const StressKernel<Model, T, D>& k, int count);
template <class Model, class T, int D>
void launch_project_cuda(const ProjectKernel<Model, T, D>& k, int count);
template <class Model, class T, int D>
void launch_stress_vjp_cuda(const StressVjpKernel<Model, T, D>& k, int count);
template <class Model, class T, int D>
void launch_project_vjp_cuda(const ProjectVjpKernel<Model, T, D>& k, int count);
template <class T>
void launch_param_sum_cuda(const ParamChunkSum<T>& sum, const ParamChunkCombine<T>& combine, int nparams);

template <class Model, class T, int D>
class AnalyticMaterial final : public Material<T, D>, public KeepForVjp {
  using Kept = typename KeptOf<Model, T, D>::type;

 public:
  AnalyticMaterial() {
    for (const auto& s : Model::specs()) this->values_.push_back(T(s.default_value));
  }
  const char* model() const override { return Model::kName; }
  const std::vector<ParamSpec>& specs() const override { return Model::specs(); }

  void stress(Device dev, const ParticleView<T, D>& p, const MaterialBatch& batch, T* tau,
              Status* status) const override {
    StressKernel<Model, T, D> k{p, pack(), batch.index, tau, status};
    kept_F_ = nullptr;
    if (HasKept<Model>::value && keep_ && dev == Device::kCpu && batch.count > 0) {
      // room for the batch's kept values, and which call they belong to
      const size_t need = (sizeof(Kept) * size_t(batch.count) + sizeof(T) - 1) / sizeof(T);
      if (kept_.device() != dev || kept_.size() < need) kept_.resize(dev, need);
      k.kept = reinterpret_cast<Kept*>(kept_.data());
      kept_F_ = p.F, kept_index_ = batch.index, kept_count_ = batch.count;
    }
    if (dev == Device::kCpu)
      cpu_parallel_for(batch.count, k);
    else
      launch_stress_cuda(k, batch.count);
  }
  void keep_for_vjp(bool on) const override { keep_ = on; }
  int kept_bytes() const override { return HasKept<Model>::value ? int(sizeof(Kept)) : 0; }
  void project(Device dev, T dt, const ParticleView<T, D>& p, const MaterialBatch& batch,
               Status* status) const override {
    ProjectKernel<Model, T, D> k{p, pack(), batch.index, dt, status};
    if (dev == Device::kCpu)
      cpu_parallel_for(batch.count, k);
    else
      launch_project_cuda(k, batch.count);
  }
  void stress_vjp(Device dev, const ParticleView<T, D>& p, const MaterialBatch& batch, const T* adj_tau,
                  T* adj_F, T* adj_C, T* adj_plastic, T* adj_params, Status* status) const override {
    if (batch.count <= 0) return;
    const int np = nparams();
    StressVjpKernel<Model, T, D> k{
        p,       pack(), batch.index, batch.count, np,
        adj_tau, adj_F,  adj_C,       adj_plastic, rows(dev, batch.count, adj_params),
        status};
    // what the stress kept for these particles at this F (KeepForVjp), used once
    if (kept_F_ == p.F && kept_index_ == batch.index && kept_count_ == batch.count && dev == Device::kCpu)
      k.kept = reinterpret_cast<const Kept*>(kept_.data());
    kept_F_ = nullptr;
    if (dev == Device::kCpu)
      cpu_parallel_for(batch.count, k);
    else
      launch_stress_vjp_cuda(k, batch.count);
    sum_params(dev, batch.count, adj_params);
  }
  void project_vjp(Device dev, T dt, const ParticleView<T, D>& trial, const MaterialBatch& batch,
                   const T* adj_F_out, const T* adj_plastic_out, T* adj_F_trial, T* adj_plastic_in,
                   T* adj_params, Status* status) const override {
    if (batch.count <= 0) return;
    const int np = nparams();
    ProjectVjpKernel<Model, T, D> k{trial,
                                    pack(),
                                    batch.index,
                                    batch.count,
                                    np,
                                    dt,
                                    adj_F_out,
                                    adj_plastic_out,
                                    adj_F_trial,
                                    adj_plastic_in,
                                    rows(dev, batch.count, adj_params),
                                    status};
    if (dev == Device::kCpu)
      cpu_parallel_for(batch.count, k);
    else
      launch_project_vjp_cuda(k, batch.count);
    sum_params(dev, batch.count, adj_params);
  }

  T wave_speed() const override { return Model::template wave_speed<T>(this->values_.data()); }
  // Not while the tape keeps what the stress adjoint reuses (only stress() keeps it).
  bool lanes(MaterialLanes<T, D>& out) const override {
    if (keep_) return false;
    out = MaterialLanes<T, D>{};
    const ParamPack<T> p = pack();
    for (int q = 0; q < kMaxMaterialParams; ++q) out.prm[q] = p.v[q];
    out.stress = &stress_lanes<Model, T, D>;
    out.project = &project_lanes<Model, T, D>;
    out.model = Model::kName;
    return true;
  }

 private:
  int nparams() const { return int(Model::specs().size()); }
  static int nchunks(int count) { return (count + kParamChunk - 1) / kParamChunk; }
  // Scratch for the per-particle parameter adjoints and their chunk sums, on dev (null when not wanted). It
  // is kept between calls, so a material's VJPs must not run concurrently.
  T* rows(Device dev, int count, const T* adj_params) const {
    if (!adj_params) return nullptr;
    const size_t need = size_t(nparams()) * (size_t(count) + size_t(nchunks(count)));
    if (scratch_.device() != dev || scratch_.size() < need) scratch_.resize(dev, need);
    return scratch_.data();
  }
  void sum_params(Device dev, int count, T* adj_params) const {
    if (!adj_params) return;
    const int np = nparams(), nc = nchunks(count);
    T* partial = scratch_.data() + size_t(np) * count;
    ParamChunkSum<T> sum{scratch_.data(), count, nc, partial};
    ParamChunkCombine<T> combine{partial, nc, adj_params};
    if (dev == Device::kCpu) {
      cpu_parallel_for(int64_t(np) * nc, sum, 2);
      cpu_parallel_for(np, combine);
    } else {
      launch_param_sum_cuda(sum, combine, np);
    }
  }

  ParamPack<T> pack() const {
    ParamPack<T> r{};
    for (size_t i = 0; i < this->values_.size() && i < size_t(kMaxMaterialParams); ++i)
      r.v[i] = this->values_[i];
    return r;
  }
  mutable Buffer<T> scratch_;
  // KeepForVjp: whether to keep, the kept values, and the call (F, batch) they belong to
  mutable bool keep_ = false;
  mutable Buffer<T> kept_;
  mutable const T* kept_F_ = nullptr;
  mutable const int32_t* kept_index_ = nullptr;
  mutable int kept_count_ = 0;
};

}  // namespace ductile
