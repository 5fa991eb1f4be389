// Neural constitutive laws in LibTorch, after NCLaw (Ma et al., ICML 2023), behind the batched material
// interface (docs/MATERIALS.md, "neural"). Only this header's .cpp includes LibTorch.
//
// Elastic law: tau = s R X F^T with R the polar rotation of F, X = sym(MLP(f(F))) and s a stress scale [Pa],
// where the features
//   f(F) = (upper triangle of F^T F - I, det F - 1) / e
// are rotation-invariant and vanish at F = I, and the MLP (GELU, no biases) maps 0 to 0. So tau(I) = 0 and
// tau(Q F) = Q tau(F) Q^T for every rotation Q, whatever the weights. e, the strain scale (input
// normalization), is a fixed positive number saved with the weights: the invariants of the motion's typical
// strain reach the network at order one, where GELU bends (raw invariants of 1% strain keep it linear).
// Plastic law (optional; scene key "plastic"): F <- F + alpha R sym(MLP_p(f(F))), the identity at F = I and
// for zero weights, rotation-equivariant.
// Vector-Jacobian products: the MLPs' through LibTorch autograd, the rest (features, polar rotation with its
// stable adjoint, products) in C++. In a CUDA run the law is evaluated on the GPU with LibTorch tensor
// operations on the particle arrays in place (neural_tensor_path.h) when the linked LibTorch has CUDA, and
// otherwise on the CPU with host copies (neural_host_copy.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "materials/material.h"

namespace ductile {

struct NeuralSpec {
  int width = 64;               // hidden layer width
  int depth = 2;                // hidden layers
  bool plastic = false;         // with a learned return mapping
  double plastic_scale = 1e-3;  // alpha
  double strain_scale = 1;      // e: the networks read the invariants divided by e
  bool tensor_path = false;     // on the CPU too, the batched tensor operations of the CUDA path (tests)
  uint64_t seed = 0;            // Xavier-uniform initialization
};

// A neural material with fresh weights (its scene name is "neural").
template <class T, int D>
std::unique_ptr<Material<T, D>> make_neural_material(const NeuralSpec& spec = {});

// Writes a neural material's architecture and weights for configure("weights", path): a safetensors file
// (materials/neural_weights_file.h), atomically.
template <class T, int D>
void save_neural_weights(const Material<T, D>& material, const std::string& path);

// Number of features of f(F).
constexpr int neural_features(int D) {
  return D * (D + 1) / 2 + 1;
}

}  // namespace ductile
