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
#pragma once

#include <cmath>

#include "core/error.h"
#include "core/parallel_for.h"
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

// Kirchhoff stress of one particle of the batch.
template <class Model, class T, int D>
struct StressKernel {
  ParticleView<T, D> p;
  ParamPack<T> prm;
  const int32_t* index;
  T* tau;
  Status* status;
  DUCTILE_HD DUCTILE_INLINE void operator()(int64_t k) const {
    const int i = index[k];
    Mat<T, D> F = load_mat<T, D>(p.F, p.n, i);
    Mat<T, D> C = load_mat<T, D>(p.C, p.n, i);
    Mat<T, D> s = Model::template stress<T, D>(prm.v, F, C, p.plastic[i]);
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
    if (!all_finite(F) || !std::isfinite(plastic)) raise_status(status, kStatusNonFinite, i, kStageProject);
    else if (!(det(F) > T(0))) raise_status(status, kStatusInverted, i, kStageProject);
    store_mat<T, D>(p.F, p.n, i, F);
    p.plastic[i] = plastic;
  }
};

// CUDA launches of the two kernels, instantiated for every model in materials/analytic_cuda.cu.
template <class Model, class T, int D>
void launch_stress_cuda(const StressKernel<Model, T, D>& k, int count);
template <class Model, class T, int D>
void launch_project_cuda(const ProjectKernel<Model, T, D>& k, int count);

template <class Model, class T, int D>
class AnalyticMaterial final : public Material<T, D> {
 public:
  AnalyticMaterial() {
    for (const auto& s : Model::specs()) this->values_.push_back(T(s.default_value));
  }
  const char* model() const override { return Model::kName; }
  const std::vector<ParamSpec>& specs() const override { return Model::specs(); }

  void stress(Device dev, const ParticleView<T, D>& p, const MaterialBatch& batch, T* tau,
              Status* status) const override {
    StressKernel<Model, T, D> k{p, pack(), batch.index, tau, status};
    if (dev == Device::kCpu) cpu_parallel_for(batch.count, k);
    else launch_stress_cuda(k, batch.count);
  }
  void project(Device dev, T dt, const ParticleView<T, D>& p, const MaterialBatch& batch,
               Status* status) const override {
    ProjectKernel<Model, T, D> k{p, pack(), batch.index, dt, status};
    if (dev == Device::kCpu) cpu_parallel_for(batch.count, k);
    else launch_project_cuda(k, batch.count);
  }
  T wave_speed() const override { return Model::template wave_speed<T>(this->values_.data()); }

 private:
  ParamPack<T> pack() const {
    ParamPack<T> r{};
    for (size_t i = 0; i < this->values_.size() && i < size_t(kMaxMaterialParams); ++i) r.v[i] = this->values_[i];
    return r;
  }
};

}  // namespace ductile
