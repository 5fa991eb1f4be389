// The neural material's networks and weights file (materials/neural/neural_nets.h).
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "core/io/atomic_file.h"
#include "materials/neural/neural_nets.h"

namespace ductile::neural {

namespace {

std::string shape(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t k = 0; k < t.dim(); ++k) s += (k ? ", " : "") + std::to_string(t.size(k));
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
  torch::serialize::OutputArchive ar;
  ar.write("meta", torch::tensor({double(D), double(spec.width), double(spec.depth), plastic ? 1.0 : 0.0,
                                  spec.plastic_scale, spec.strain_scale},
                                 torch::kFloat64));
  for (const auto& np : elastic->named_parameters())
    ar.write("elastic." + np.key(), np.value().detach().cpu());
  if (plastic)
    for (const auto& np : (*plastic)->named_parameters())
      ar.write("plastic." + np.key(), np.value().detach().cpu());
  io::AtomicFile out(path);  // written beside, renamed into place
  ar.save_to(out.tmp_path());
  out.commit();
}

NeuralSpec read_meta(torch::serialize::InputArchive& ar, const std::string& path, int D) {
  torch::Tensor meta;
  ar.read("meta", meta);
  if ((meta.numel() != 5 && meta.numel() != 6) || !meta.is_floating_point())
    throw std::runtime_error(path +
                             ": 'meta' must hold 6 numbers (dimension, width, depth, plastic, plastic scale, "
                             "strain scale)");
  meta = meta.to(torch::kFloat64).contiguous();
  const double* m = meta.data_ptr<double>();
  if (m[0] != D)
    throw std::runtime_error(path + ": weights of a " + std::to_string(m[0]) + "D material in a " +
                             std::to_string(D) + "D scene");
  const double strain = meta.numel() == 6 ? m[5] : 1.0;
  if (!(m[1] >= 1 && m[1] <= 4096 && m[1] == std::floor(m[1]) && m[2] >= 1 && m[2] <= 64 &&
        m[2] == std::floor(m[2]) && (m[3] == 0 || m[3] == 1) && std::isfinite(m[4]) && m[4] > 0 &&
        std::isfinite(strain) && strain > 0))
    throw std::runtime_error(path +
                             ": bad architecture in 'meta' (width 1..4096, depth 1..64, plastic 0/1, scales "
                             "finite and > 0)");
  NeuralSpec s;
  s.width = int(m[1]), s.depth = int(m[2]), s.plastic = m[3] != 0, s.plastic_scale = m[4];
  s.strain_scale = strain;
  return s;
}

void read_tensors(torch::serialize::InputArchive& ar, const std::string& path, const std::string& prefix,
                  torch::nn::Sequential& s) {
  torch::NoGradGuard ng;
  for (auto& np : s->named_parameters()) {
    const std::string name = prefix + "." + np.key();
    torch::Tensor t;
    ar.read(name, t);
    torch::Tensor& dst = np.value();
    if (t.sizes() != dst.sizes())
      throw std::runtime_error(path + ": tensor '" + name + "' has shape " + shape(t) + ", expected " +
                               shape(dst));
    if (!t.is_floating_point() || !torch::isfinite(t).all().item<bool>())
      throw std::runtime_error(path + ": tensor '" + name + "' is not finite floating point");
    dst.copy_(t);
  }
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
