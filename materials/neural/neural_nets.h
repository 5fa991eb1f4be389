// The networks of a neural material and their weights file; internal to materials/neural/ (includes
// LibTorch).
#pragma once

#include <torch/script.h>
#include <torch/torch.h>

#include <map>
#include <optional>
#include <string>

#include "materials/neural/neural_material.h"

namespace ductile::neural {

// A bias-free GELU MLP from `in` features to `out` outputs, `depth` hidden layers of `width`.
torch::nn::Sequential make_mlp(int in, int out, int width, int depth);

// Xavier-uniform hidden layers and a zero output layer: a fresh law is stress-free (stable, and the gradient
// still reaches the output layer through the hidden activations); a fresh return mapping is the identity.
void init_mlp(torch::nn::Sequential& s);

// Writes the architecture and the tensors "elastic.<name>" (and "plastic.<name>" when plastic is given) as a
// safetensors weights file (materials/neural_weights_file.h), atomically; F32 or F64 as the networks hold
// them.
void write_weights(const std::string& path, int D, const NeuralSpec& spec, torch::nn::Sequential& elastic,
                   torch::nn::Sequential* plastic);

// A weights file's architecture and its tensors by name ("elastic.0.weight", ...), every one of its expected
// shape and finite. A safetensors file is read by our own reader (materials/neural_weights_file.h); a
// LibTorch archive of earlier builds (zip magic "PK\3\4"; its "meta" tensor holds the architecture) is read
// by LibTorch, whose reader is not hardened against hostile files: first in a child process
// (core/io/isolated_read.h), then here.
struct LoadedWeights {
  NeuralSpec spec;
  std::map<std::string, torch::Tensor> tensors;
};
LoadedWeights load_weights(const std::string& path, int D);

// Copies the tensors "<prefix>.<name>" into the parameters of s (each of exactly its parameter's shape: copy_
// would broadcast), or an error naming the file and the tensor.
void assign_weights(const LoadedWeights& w, const std::string& path, const std::string& prefix,
                    torch::nn::Sequential& s);

// A TorchScript module (scene key "module") mapping features [B, kF] to stresses [B, D, D] of dtype, checked
// on the rest state: loaded and checked in a child process first (LibTorch's reader is not hardened), then
// here.
torch::jit::Module load_module(const std::string& path, int D, torch::ScalarType dtype);

// Scene options as Material::configure receives them: "true"/"false", or a finite number > 0 (errors name
// the key and the value); and a number as the messages show it (%.9g).
bool parse_flag(const std::string& key, const std::string& v);
double parse_positive(const std::string& key, const std::string& v);
std::string num(double x);

// Options a scene set before the weights file was read, checked against the file's architecture: "plastic":
// false beside a trained return mapping, a strain scale or (with a return mapping) a plastic scale other
// than the file's are errors naming the file and both values.
struct Requests {
  std::optional<bool> plastic;
  std::optional<double> strain_scale, plastic_scale;
};
void check_requests(const NeuralSpec& file, const Requests& r, const std::string& path);

}  // namespace ductile::neural
