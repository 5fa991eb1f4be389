// Neural constitutive laws in LibTorch, after NCLaw (Ma et al., ICML 2023), behind the batched material
// interface (docs/MATERIALS.md, "neural"). Only this header's .cpp includes LibTorch.
//
// Elastic law: tau = s R X F^T with R the polar rotation of F, X = sym(MLP(f(F))) and s a stress scale [Pa],
// where the features
//   f(F) = (upper triangle of F^T F - I, det F - 1)
// are rotation-invariant and vanish at F = I, and the MLP (GELU, no biases) maps 0 to 0. So tau(I) = 0 and
// tau(Q F) = Q tau(F) Q^T for every rotation Q, whatever the weights.
// Plastic law (optional): F <- F + alpha R sym(MLP_p(f(F))), the identity at F = I and rotation-equivariant.
// Vector-Jacobian products: the MLPs' through LibTorch autograd, the rest (features, polar rotation with its
// stable adjoint, products) in C++.
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
  uint64_t seed = 0;            // Xavier-uniform initialization
};

// A neural material with fresh weights (its scene name is "neural").
template <class T, int D>
std::unique_ptr<Material<T, D>> make_neural_material(const NeuralSpec& spec = {});

// Writes a neural material's architecture and weights (a LibTorch archive) for configure("weights", path).
template <class T, int D>
void save_neural_weights(const Material<T, D>& material, const std::string& path);

// Number of features of f(F).
constexpr int neural_features(int D) {
  return D * (D + 1) / 2 + 1;
}

}  // namespace ductile
