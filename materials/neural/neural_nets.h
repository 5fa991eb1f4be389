// The networks of a neural material and their weights file; internal to materials/neural/ (includes
// LibTorch).
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>

#include "materials/neural/neural_material.h"

namespace ductile::neural {

// A bias-free GELU MLP from `in` features to `out` outputs, `depth` hidden layers of `width`.
torch::nn::Sequential make_mlp(int in, int out, int width, int depth);

// Xavier-uniform hidden layers and a zero output layer: a fresh law is stress-free (stable, and the gradient
// still reaches the output layer through the hidden activations); a fresh return mapping is the identity.
void init_mlp(torch::nn::Sequential& s);

// Writes the architecture ("meta": dimension, width, depth, plastic 0/1, plastic scale, strain scale) and the
// tensors "elastic.<name>" (and "plastic.<name>" when plastic is given), atomically.
void write_weights(const std::string& path, int D, const NeuralSpec& spec, torch::nn::Sequential& elastic,
                   torch::nn::Sequential* plastic);

// Reads a weights file's architecture. Files written before the strain scale existed hold 5 numbers: their
// strain scale is 1 (the raw invariants). Checked: dimension D, width 1..4096, depth 1..64, plastic 0/1,
// scales finite and > 0.
NeuralSpec read_meta(torch::serialize::InputArchive& ar, const std::string& path, int D);

// Copies the tensors "<prefix>.<name>" into the parameters of s: each of exactly its parameter's shape
// (copy_ would broadcast) and finite, or an error naming the file and the tensor.
void read_tensors(torch::serialize::InputArchive& ar, const std::string& path, const std::string& prefix,
                  torch::nn::Sequential& s);

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
