// The neural material's weights file (docs/MATERIALS.md, "neural"), without LibTorch so that the fuzzer and
// the sanitizer build cover it: a safetensors file (core/io/safetensors.h) whose "__metadata__" holds the
// architecture as strings ("format": "ductile-neural-weights", "version": "1", "dimension", "width", "depth",
// "plastic" true/false, "plastic_scale", "strain_scale") and whose tensors are exactly the networks' weight
// matrices "elastic.<i>.weight" (and "plastic.<i>.weight"), of the shapes the architecture implies, F32 or
// F64, finite. The LibTorch side (materials/neural/) copies them into its networks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/io/safetensors.h"
#include "materials/neural/neural_material.h"

namespace ductile::neural {

// An architecture as numbers (dimension, width, depth, plastic 0/1, plastic scale[, strain scale]; 5 numbers
// in files written before the strain scale existed: its scale is 1), checked: dimension D, width 1..4096,
// depth 1..64, plastic 0/1, scales finite and > 0. Errors name `path`.
NeuralSpec check_architecture(const std::vector<double>& meta, int D, const std::string& path);

// The weight matrices of a D-dimensional network of this architecture, in the order of its layers: layer i of
// `depth` hidden ones is "<net>.<2i>.weight" [width, in] (in: the features, then width), the output layer
// "<net>.<2 depth>.weight" [D*D, width]; "elastic", then "plastic" when spec.plastic.
struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
};
std::vector<ExpectedTensor> expected_tensors(int D, const NeuralSpec& spec);

struct WeightsFile {
  NeuralSpec spec;       // width, depth, plastic, plastic_scale, strain_scale from the file
  io::SafeTensors file;  // its tensors: exactly expected_tensors(D, spec), each finite
};

// A weights file's contents for a D-dimensional material, checked as above (`path` names the file in errors).
WeightsFile parse_weights_file(const std::string& bytes, const std::string& path, int D);
WeightsFile read_weights_file(const std::string& path, int D);

// Writes the architecture and the given tensors (which must be expected_tensors(D, spec), in F32 or F64)
// atomically.
void write_weights_file(const std::string& path, int D, const NeuralSpec& spec,
                        std::map<std::string, io::SafeTensor> tensors);

}  // namespace ductile::neural
