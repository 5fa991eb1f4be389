// The neural material's networks, weights files and TorchScript modules (materials/neural/neural_nets.h).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "core/error.h"
#include "core/io/isolated_read.h"
#include "core/io/safetensors.h"
#include "materials/neural/neural_nets.h"
#include "materials/neural_weights_file.h"

namespace ductile::neural {

namespace {

std::string shape(c10::IntArrayRef t) {
  std::string s = "[";
  for (size_t k = 0; k < t.size(); ++k) s += (k ? ", " : "") + std::to_string(t[k]);
  return s + "]";
}

}  // namespace

torch::nn::Sequential make_mlp(int in, int out, int width, int depth) {
  torch::nn::Sequential s;
  int prev = in;
  for (int l = 0; l < depth; ++l) {
    s->push_back(torch::nn::Linear(torch::nn::LinearOptions(prev, width).bias(false)));
    s->push_back(torch::nn::GELU());
    prev = width;
  }
  s->push_back(torch::nn::Linear(torch::nn::LinearOptions(prev, out).bias(false)));
  return s;
}

void init_mlp(torch::nn::Sequential& s) {
  torch::NoGradGuard ng;
  auto params = s->parameters();
  for (auto& p : params) torch::nn::init::xavier_uniform_(p);
  params.back().zero_();
}

void write_weights(const std::string& path, int D, const NeuralSpec& spec, torch::nn::Sequential& elastic,
                   torch::nn::Sequential* plastic) {
  std::map<std::string, io::SafeTensor> tensors;
  auto add = [&](const std::string& prefix, torch::nn::Sequential& s) {
    for (const auto& np : s->named_parameters()) {
      const torch::Tensor c = np.value().detach().to(torch::kCPU, torch::kFloat64).contiguous();
      io::SafeTensor& t = tensors[prefix + "." + np.key()];
      t.dtype = np.value().scalar_type() == torch::kFloat32 ? "F32" : "F64";
      t.shape = c.sizes().vec();
      t.values.assign(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
    }
  };
  add("elastic", elastic);
  if (plastic) add("plastic", *plastic);
  write_weights_file(path, D, spec, std::move(tensors));  // atomically
}

namespace {

// LibTorch's errors without their C++ backtrace, naming the file.
template <class Fn>
auto torch_guarded(const std::string& path, const std::string& what, Fn&& fn) {
  try {
    return fn();
  } catch (const c10::Error& e) {
    fail(path, what + ": " + e.what_without_backtrace());
  }
}

// A LibTorch archive of earlier builds: "meta" (5 or 6 numbers), then the expected tensors by name.
LoadedWeights read_archive(const std::string& path, int D) {
  torch::serialize::InputArchive ar;
  ar.load_from(path);
  torch::Tensor meta;
  ar.read("meta", meta);
  if (!meta.is_floating_point() || meta.dim() != 1 || (meta.numel() != 5 && meta.numel() != 6))
    fail(path, "'meta' must hold 6 numbers (dimension, width, depth, plastic, plastic scale, strain scale)");
  meta = meta.to(torch::kFloat64).contiguous();
  LoadedWeights w;
  w.spec = check_architecture({meta.data_ptr<double>(), meta.data_ptr<double>() + meta.numel()}, D, path);
  for (const ExpectedTensor& e : expected_tensors(D, w.spec)) {
    torch::Tensor t;
    ar.read(e.name, t);
    if (t.sizes().vec() != e.shape)
      fail(path, "tensor '" + e.name + "' has shape " + shape(t.sizes()) + ", expected " + shape(e.shape));
    if (!t.is_floating_point() || !torch::isfinite(t).all().item<bool>())
      fail(path, "tensor '" + e.name + "' is not finite floating point");
    w.tensors[e.name] = t.to(torch::kFloat64).contiguous();
  }
  return w;
}

}  // namespace

LoadedWeights load_weights(const std::string& path, int D) {
  std::string head(4, '\0');
  {
    std::ifstream f(path, std::ios::binary);
    if (!f) fail(path, "cannot open the weights file");
    f.read(head.data(), 4);
    head.resize(size_t(f.gcount()));
  }
  if (io::is_zip_archive(head)) {
    const auto read = [&] {
      return torch_guarded(path, "LibTorch archive", [&] { return read_archive(path, D); });
    };
    io::vet_in_child(path, "LibTorch archive", [&] {
      torch::set_num_threads(1);  // no thread pool in the forked child
      read();
    });
    return read();
  }
  const WeightsFile f = read_weights_file(path, D);
  LoadedWeights w;
  w.spec = f.spec;
  for (const auto& [name, t] : f.file.tensors)
    w.tensors[name] = torch::tensor(t.values, torch::kFloat64).reshape(t.shape);
  return w;
}

void assign_weights(const LoadedWeights& w, const std::string& path, const std::string& prefix,
                    torch::nn::Sequential& s) {
  torch::NoGradGuard ng;
  for (auto& np : s->named_parameters()) {
    const std::string name = prefix + "." + np.key();
    auto it = w.tensors.find(name);
    if (it == w.tensors.end()) fail(path, "tensor '" + name + "' missing");
    torch::Tensor& dst = np.value();
    if (it->second.sizes() != dst.sizes())
      fail(path, "tensor '" + name + "' has shape " + shape(it->second.sizes()) + ", expected " +
                     shape(dst.sizes()));
    dst.copy_(it->second);
  }
}

torch::jit::Module load_module(const std::string& path, int D, torch::ScalarType dtype) {
  const int kF = neural_features(D);
  const auto load = [&] {
    return torch_guarded(path, "TorchScript module", [&] {
      torch::jit::Module m = torch::jit::load(path, torch::kCPU);
      m.to(dtype);
      // the documented signature on the rest state: features [B, kF] -> [B, D, D]
      torch::NoGradGuard ng;
      const torch::Tensor y = m.forward({torch::zeros({2, kF}, dtype)}).toTensor();
      if (y.dim() != 3 || y.size(0) != 2 || y.size(1) != D || y.size(2) != D)
        fail(path, "the module must map features [B, " + std::to_string(kF) + "] to stresses [B, " +
                       std::to_string(D) + ", " + std::to_string(D) + "]");
      return m;
    });
  };
  io::vet_in_child(path, "TorchScript module", [&] {
    torch::set_num_threads(1);
    load();
  });
  return load();
}

bool parse_flag(const std::string& key, const std::string& v) {
  if (v == "true" || v == "false") return v == "true";
  throw std::runtime_error("'" + key + "' must be true or false, got '" + v + "'");
}

double parse_positive(const std::string& key, const std::string& v) {
  size_t used = 0;
  double x = 0;
  try {
    x = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;  // not a number, or out of range
  }
  if (used != v.size() || !std::isfinite(x) || !(x > 0))
    throw std::runtime_error("'" + key + "' must be a finite number > 0, got '" + v + "'");
  return x;
}

std::string num(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", x);
  return b;
}

void check_requests(const NeuralSpec& f, const Requests& r, const std::string& path) {
  if (r.plastic && !*r.plastic && f.plastic)
    throw std::runtime_error(path +
                             ": holds a trained plastic return mapping, but the scene sets 'plastic': false");
  if (r.strain_scale && *r.strain_scale != f.strain_scale)
    throw std::runtime_error(path + ": trained with strain_scale = " + num(f.strain_scale) +
                             ", but the scene sets " + num(*r.strain_scale));
  if (r.plastic_scale && f.plastic && *r.plastic_scale != f.plastic_scale)
    throw std::runtime_error(path + ": trained with plastic_scale = " + num(f.plastic_scale) +
                             ", but the scene sets " + num(*r.plastic_scale));
}

}  // namespace ductile::neural
