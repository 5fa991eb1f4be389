// The neural material evaluated with LibTorch tensor operations on the simulator's device (the CUDA path):
// the particle arrays are read and written in place through tensors made from their device pointers (no host
// copies), the features, the polar rotation and its adjoint are batched tensor operations, and the networks'
// vector-Jacobian products come from autograd. The same code runs on CPU tensors, where the tests compare it
// with the C++ loops of neural_material.cpp. Internal to materials/neural/ (includes LibTorch).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/state.h"
#include "core/status.h"
#include "materials/material.h"

namespace ductile::neural {

// What the tensor path needs of a neural material: its networks (features [B, K] -> [B, D*D]) with their
// weights in learnable() order, and its constants.
struct TensorLaw {
  std::function<torch::Tensor(const torch::Tensor&)> elastic, plastic;  // plastic empty: no return mapping
  std::vector<torch::Tensor> elastic_weights, plastic_weights;
  double stress_scale = 1, strain_scale = 1, plastic_scale = 1e-3;
  int n_specs = 0;           // adj_params entries before the elastic weights
  int64_t elastic_size = 0;  // number of elastic weights (the plastic ones follow)
};

// The torch device of a simulator device (CUDA: the current CUDA device).
torch::Device torch_device(Device dev);

// Whether LibTorch can run on the GPU. Its CUDA half (libtorch_cuda.so) is not linked, since loading it costs
// about a second at every start: the first call loads it (dlopen), then asks torch::cuda::is_available().
// When false, why_not says why (the loader's message, or no GPU visible to LibTorch).
bool cuda_available(std::string* why_not = nullptr);

// The four operations of Material<T, D> on `dev` (pointers on that device; docs in materials/material.h).
template <class T, int D>
void tensor_stress(const TensorLaw& law, Device dev, const ParticleView<T, D>& p, const MaterialBatch& b,
                   T* tau, Status* st);
template <class T, int D>
void tensor_project(const TensorLaw& law, Device dev, const ParticleView<T, D>& p, const MaterialBatch& b,
                    Status* st);
template <class T, int D>
void tensor_stress_vjp(const TensorLaw& law, Device dev, const ParticleView<T, D>& p, const MaterialBatch& b,
                       const T* adj_tau, T* adj_F, T* adj_params, Status* st);
template <class T, int D>
void tensor_project_vjp(const TensorLaw& law, Device dev, const ParticleView<T, D>& trial,
                        const MaterialBatch& b, const T* adj_F_out, const T* adj_plastic_out, T* adj_F_trial,
                        T* adj_plastic_in, T* adj_params, Status* st);

}  // namespace ductile::neural
