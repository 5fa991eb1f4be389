#include "core/fit.h"

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "core/optimizer.h"
#include "core/scene.h"

namespace ductile {

FitParameterSpec FitParameterSpec::parse(const std::string& text, const std::string& where) {
  std::vector<std::string> part;
  std::stringstream ss(text);
  std::string p;
  while (std::getline(ss, p, ':')) part.push_back(p);
  if (part.empty() || part[0].empty()) fail(where, "'" + text + "': expected NAME[:SCALE[:MIN:MAX]]");
  FitParameterSpec s;
  s.name = part[0];
  if (part.size() > 1 && !part[1].empty()) s.scale = part[1];
  if (s.scale != "log" && s.scale != "linear" && s.scale != "auto")
    fail(where, "'" + text + "': the scale must be log, linear or auto");
  if (part.size() == 3 || part.size() > 4) fail(where, "'" + text + "': give both MIN and MAX, or neither");
  if (part.size() == 4) {
    try {
      s.lo = std::stod(part[2]), s.hi = std::stod(part[3]);
    } catch (const std::exception&) {
      fail(where, "'" + text + "': MIN and MAX must be numbers");
    }
    if (!(s.lo < s.hi)) fail(where, "'" + text + "': MIN must be below MAX");
  }
  return s;
}

template <class T, int D>
Fit<T, D>::Fit(SceneData<T, D>& data, const std::vector<FitParameterSpec>& specs,
               std::vector<const Loss<T, D>*> losses, int64_t steps, Device device, CheckpointPolicy policy)
    : data_(data), losses_(std::move(losses)), steps_(steps), device_(device), policy_(policy) {
  if (specs.empty()) fail("fit", "no parameter to fit (--param NAME)");
  for (const auto& s : specs) {
    Parameter<T, D> p = find_parameter(data, s.name, "--param");
    if (!p.value) fail("--param", "'" + s.name + "' has no single value to fit");
    if (p.name.rfind("particles/", 0) == 0)
      fail("--param", "'" + s.name + "': per-particle arrays are not fitted");
    // default bounds: a material parameter's admissible range
    double lo = s.lo, hi = s.hi;
    bool material = false;
    if (s.name.rfind("materials/", 0) == 0) {
      material = true;
      const std::string pname = s.name.substr(s.name.rfind('/') + 1);
      for (const auto& m : data.model.materials)
        for (const auto& spec : m->specs())
          if (pname == spec.name && s.lo == -std::numeric_limits<double>::infinity()) {
            lo = spec.min + (spec.min_exclusive ? 1e-9 * std::max(1.0, std::fabs(spec.min)) : 0.0);
            hi = spec.max >= 1e30
                     ? std::numeric_limits<double>::infinity()
                     : spec.max - (spec.max_exclusive ? 1e-6 * std::max(1.0, std::fabs(spec.max)) : 0.0);
          }
    }
    params_.push_back(p);
    for (int i = 0; i < p.size; ++i) {
      const double v = p.value(data, i);
      const bool lg = s.scale == "log" || (s.scale == "auto" && material && v > 0 && lo >= 0);
      if (lg && !(v > 0))
        fail("--param", "'" + s.name + "' is " + std::to_string(v) + ": a log scale needs a value > 0");
      param_of_.push_back(int(params_.size()) - 1);
      entry_of_.push_back(i);
      names_.push_back(p.size == 1 ? p.name : p.name + "[" + std::to_string(i) + "]");
      log_.push_back(lg);
      // linear unknowns are scaled by the starting value so that all unknowns are of order one
      const bool weights = s.name.size() >= 8 && s.name.compare(s.name.size() - 8, 8, "/weights") == 0;
      const double sc = lg || weights ? 1.0 : (v != 0 ? std::fabs(v) : 1.0);
      scale_.push_back(sc);
      const double l = lg ? (lo > 0 ? std::log(lo) : -std::numeric_limits<double>::infinity()) : lo / sc;
      const double h = lg ? (std::isfinite(hi) ? std::log(hi) : hi) : hi / sc;
      lo_.push_back(l), hi_.push_back(h);
    }
  }
}

template <class T, int D>
std::vector<double> Fit<T, D>::u_now() const {
  std::vector<double> u;
  for (size_t k = 0; k < names_.size(); ++k) {
    const double v = params_[param_of_[k]].value(data_, entry_of_[k]);
    u.push_back(log_[k] ? std::log(v) : v / scale_[k]);
  }
  return u;
}

template <class T, int D>
std::vector<double> Fit<T, D>::values(const std::vector<double>& u) const {
  std::vector<double> v;
  for (size_t k = 0; k < u.size(); ++k) v.push_back(log_[k] ? std::exp(u[k]) : u[k] * scale_[k]);
  return v;
}

template <class T, int D>
void Fit<T, D>::apply(const std::vector<double>& u) {
  const std::vector<double> v = values(u);
  for (size_t k = 0; k < v.size(); ++k) {
    auto& p = params_[param_of_[k]];
    p.add(data_, entry_of_[k], v[k] - p.value(data_, entry_of_[k]));
  }
}

template <class T, int D>
double Fit<T, D>::objective(const std::vector<double>& u, std::vector<double>& grad) {
  apply(u);
  Tape<T, D> tape(data_.model, device_, policy_);
  double loss = 0;
  Gradients<T, D> g;
  try {
    if (windows_) {
      loss = run_windows(grad);
      const std::vector<double> v = values(u);
      for (size_t k = 0; k < u.size(); ++k) grad[k] *= log_[k] ? v[k] : scale_[k];
      return loss;
    }
    loss = tape.forward(data_.state, steps_, losses_);
    g = tape.backward();
  } catch (const Error& e) {
    std::string at;
    const std::vector<double> v = values(u);
    for (size_t k = 0; k < v.size() && k < 8; ++k)
      at += (k ? ", " : "") + names_[k] + " = " + std::to_string(v[k]);
    if (v.size() > 8) at += " and " + std::to_string(v.size() - 8) + " more";
    throw ObjectiveFailure(std::string(e.what()) + " (at " + at + ")");
  }
  stats_ = tape.stats();
  const std::vector<double> v = values(u);
  grad.assign(u.size(), 0.0);
  // chain rule: d/du = dtheta/du d/dtheta with theta = exp(u) or scale u
  for (size_t k = 0; k < u.size(); ++k)
    grad[k] = params_[param_of_[k]].gradient(g, data_, entry_of_[k]) * (log_[k] ? v[k] : scale_[k]);
  return loss;
}

template <class T, int D>
double Fit<T, D>::run_windows(std::vector<double>& grad) {
  grad.assign(names_.size(), 0.0);
  double loss = 0;
  // the model's own run, for windows whose F is not observed (advanced from window to window)
  State<T, D> own = data_.state;
  int own_frame = 0;
  const int spf = int(data_.model.steps_per_frame);
  for (const auto& w : *windows_) {
    State<T, D> start = w.start;
    if (!w.observed_state) {
      if (w.first > own_frame) {
        Tape<T, D> run(data_.model, device_, policy_);
        run.forward(own, int64_t(w.first - own_frame) * spf, {});
        own = run.final_state(), own_frame = w.first;
      }
      start.F = own.F, start.C = own.C, start.plastic = own.plastic;
    }
    Tape<T, D> tape(data_.model, device_, policy_);
    loss += tape.forward(start, w.steps, w.loss_ptrs());
    const Gradients<T, D> g = tape.backward();
    stats_ = tape.stats();
    // the parameters' gradients add up over windows (the start states do not depend on them)
    for (size_t k = 0; k < names_.size(); ++k)
      grad[k] += params_[param_of_[k]].gradient(g, data_, entry_of_[k]);
  }
  return loss;
}

template <class T, int D>
nlohmann::json Fit<T, D>::fitted_scene(const nlohmann::json& doc, const std::vector<double>& u,
                                       std::vector<std::string>& skipped) const {
  nlohmann::json out = doc;
  const std::vector<double> v = values(u);
  for (size_t k = 0; k < v.size(); ++k) {
    const std::string& name = params_[param_of_[k]].name;
    const int i = entry_of_[k];
    std::vector<std::string> part;
    std::stringstream ss(name);
    std::string p;
    while (std::getline(ss, p, '/')) part.push_back(p);
    std::string path;  // a scene path resolve_scene_path understands
    if (part[0] == "materials")
      path = "materials." + part[1] + "." + part[2];
    else if (name == "gravity")
      path = "gravity." + std::to_string(i);
    else if (name == "domain/boundary/friction")
      path = "domain.boundary.friction";
    else if (part[0] == "colliders" && part[2] == "friction")
      path = "colliders." + part[1] + ".friction";
    else if (part[0] == "colliders" && part[2] == "velocity")
      path = "colliders." + part[1] + ".motion.velocity." + std::to_string(i);
    if (path.empty()) {
      skipped.push_back(names_[k]);
      continue;
    }
    out[nlohmann::json::json_pointer(resolve_scene_path(out, path, true))] = v[k];
  }
  return out;
}

template class Fit<float, 2>;
template class Fit<float, 3>;
template class Fit<double, 2>;
template class Fit<double, 3>;

}  // namespace ductile
