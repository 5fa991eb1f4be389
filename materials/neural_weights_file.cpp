// The neural material's weights file without LibTorch (neural_weights_file.h).
#include "materials/neural_weights_file.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "core/io/atomic_file.h"

namespace ductile::neural {

namespace {

constexpr char kFormat[] = "ductile-neural-weights";
constexpr char kVersion[] = "1";

std::string show(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", x);
  return b;
}
// The shortest text that reads back as x (as Python's repr).
std::string exact(double x) {
  char b[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(b, sizeof b, "%.*g", digits, x);
    if (std::strtod(b, nullptr) == x) break;
  }
  return b;
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t k = 0; k < s.size(); ++k) r += (k ? ", " : "") + std::to_string(s[k]);
  return r + "]";
}

// A metadata entry that must be present.
const std::string& meta_entry(const io::SafeTensors& f, const std::string& key, const std::string& path) {
  auto it = f.metadata.find(key);
  if (it == f.metadata.end()) fail(path, "weights file has no '__metadata__' entry '" + key + "'");
  return it->second;
}

// A metadata number: the whole string must be one (no spaces, no trailing characters).
double meta_number(const io::SafeTensors& f, const std::string& key, const std::string& path) {
  const std::string& s = meta_entry(f, key, path);
  char* end = nullptr;
  const double x =
      s.empty() || std::isspace(static_cast<unsigned char>(s[0])) ? 0 : std::strtod(s.c_str(), &end);
  if (!end || end != s.c_str() + s.size())
    fail(path,
         "weights file '__metadata__' entry '" + key + "' must be a number, got '" + io::clipped(s) + "'");
  return x;
}

}  // namespace

NeuralSpec check_architecture(const std::vector<double>& m, int D, const std::string& path) {
  if (m.size() != 5 && m.size() != 6)
    fail(path,
         "the architecture must be 6 numbers (dimension, width, depth, plastic, plastic scale, strain "
         "scale), got " +
             std::to_string(m.size()));
  if (m[0] != D)
    fail(path, "weights of a " + show(m[0]) + "D material in a " + std::to_string(D) + "D scene");
  const double strain = m.size() == 6 ? m[5] : 1.0;
  if (!(m[1] >= 1 && m[1] <= 4096 && m[1] == std::floor(m[1]) && m[2] >= 1 && m[2] <= 64 &&
        m[2] == std::floor(m[2]) && (m[3] == 0 || m[3] == 1) && std::isfinite(m[4]) && m[4] > 0 &&
        std::isfinite(strain) && strain > 0))
    fail(path, "bad architecture (width " + show(m[1]) + ", depth " + show(m[2]) + ", plastic " + show(m[3]) +
                   ", plastic scale " + show(m[4]) + ", strain scale " + show(strain) +
                   "): width 1..4096, depth 1..64, plastic 0/1, scales finite and > 0");
  NeuralSpec s;
  s.width = int(m[1]), s.depth = int(m[2]), s.plastic = m[3] != 0, s.plastic_scale = m[4];
  s.strain_scale = strain;
  return s;
}

std::vector<ExpectedTensor> expected_tensors(int D, const NeuralSpec& s) {
  std::vector<ExpectedTensor> r;
  for (const char* net : {"elastic", "plastic"}) {
    if (net[0] == 'p' && !s.plastic) break;
    const std::string p = std::string(net) + ".";
    for (int l = 0; l < s.depth; ++l)
      r.push_back({p + std::to_string(2 * l) + ".weight", {s.width, l ? s.width : neural_features(D)}});
    r.push_back({p + std::to_string(2 * s.depth) + ".weight", {D * D, s.width}});
  }
  return r;
}

WeightsFile parse_weights_file(const std::string& bytes, const std::string& path, int D) {
  WeightsFile w;
  w.file = io::parse_safetensors(bytes, path);
  const io::SafeTensors& f = w.file;
  // the architecture, from the metadata
  if (meta_entry(f, "format", path) != kFormat)
    fail(path, "not a ductile neural weights file ('__metadata__' 'format' is '" +
                   io::clipped(f.metadata.at("format")) + "', not '" + kFormat + "')");
  if (meta_entry(f, "version", path) != kVersion)
    fail(path, "weights file version '" + io::clipped(f.metadata.at("version")) + "', this build reads " +
                   kVersion);
  const std::string& plastic = meta_entry(f, "plastic", path);
  if (plastic != "true" && plastic != "false")
    fail(path, "weights file '__metadata__' entry 'plastic' must be true or false, got '" +
                   io::clipped(plastic) + "'");
  w.spec = check_architecture({meta_number(f, "dimension", path), meta_number(f, "width", path),
                               meta_number(f, "depth", path), plastic == "true" ? 1.0 : 0.0,
                               meta_number(f, "plastic_scale", path), meta_number(f, "strain_scale", path)},
                              D, path);
  // exactly the tensors of that architecture, of their shapes, finite
  const std::vector<ExpectedTensor> want = expected_tensors(D, w.spec);
  const std::string arch = std::to_string(D) + "D network of width " + std::to_string(w.spec.width) +
                           " and depth " + std::to_string(w.spec.depth) +
                           (w.spec.plastic ? " with a plastic return mapping" : "");
  for (const ExpectedTensor& e : want) {
    auto it = f.tensors.find(e.name);
    if (it == f.tensors.end()) fail(path, "tensor '" + e.name + "' missing (a " + arch + " has it)");
    if (it->second.shape != e.shape)
      fail(path, "tensor '" + e.name + "' has shape " + shape_text(it->second.shape) + ", expected " +
                     shape_text(e.shape) + " for a " + arch);
    const std::vector<double>& v = it->second.values;
    for (size_t k = 0; k < v.size(); ++k)
      if (!std::isfinite(v[k]))
        fail(path, "tensor '" + e.name + "' holds a non-finite value (" + show(v[k]) + ") at element " +
                       std::to_string(k));
  }
  if (f.tensors.size() != want.size())
    for (const auto& [name, _] : f.tensors) {
      bool known = false;
      for (const ExpectedTensor& e : want) known = known || e.name == name;
      if (!known) fail(path, "tensor '" + io::clipped(name) + "' is not a weight of a " + arch);
    }
  return w;
}

WeightsFile read_weights_file(const std::string& path, int D) {
  return parse_weights_file(io::read_file_bytes(path), path, D);
}

void write_weights_file(const std::string& path, int D, const NeuralSpec& spec,
                        std::map<std::string, io::SafeTensor> tensors) {
  io::SafeTensors f;
  f.metadata = {{"format", kFormat},
                {"version", kVersion},
                {"dimension", std::to_string(D)},
                {"width", std::to_string(spec.width)},
                {"depth", std::to_string(spec.depth)},
                {"plastic", spec.plastic ? "true" : "false"},
                {"plastic_scale", exact(spec.plastic_scale)},
                {"strain_scale", exact(spec.strain_scale)}};
  f.tensors = std::move(tensors);
  // what is written must read back (the same checks as a reader's)
  const std::string bytes = io::safetensors_bytes(f);
  parse_weights_file(bytes, path, D);
  io::write_file_atomic(path, bytes);
}

}  // namespace ductile::neural
