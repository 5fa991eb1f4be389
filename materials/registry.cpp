#include "materials/registry.h"

#include "core/error.h"
#include "core/torch_plugin.h"
#include "materials/all_models.h"
#include "materials/analytic.h"

namespace ductile {

MaterialRegistry& MaterialRegistry::instance() {
  static MaterialRegistry* r = [] {
    auto* reg = new MaterialRegistry();
    register_analytic_materials(*reg);
    return reg;
  }();
  return *r;
}

void MaterialRegistry::add(MaterialEntry e) {
  for (const auto& known : entries_)
    if (known.name == e.name) fail("material registry", "model '" + e.name + "' registered twice");
  entries_.push_back(std::move(e));
}

const MaterialEntry* MaterialRegistry::find(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  // a name not registered yet may be LibTorch's (loaded on first use: core/torch_plugin.h)
  if (load_torch_plugin())
    for (const auto& e : entries_)
      if (e.name == name) return &e;
  return nullptr;
}

bool MaterialRegistry::has(const std::string& name) const {
  return find(name) != nullptr;
}

const MaterialEntry& MaterialRegistry::get(const std::string& name) const {
  if (const MaterialEntry* e = find(name)) return *e;
  fail("", unknown(name));
}

std::string MaterialRegistry::unknown(const std::string& name) const {
  std::string known;
  for (const auto& k : names()) known += (known.empty() ? "" : ", ") + k;
  const std::string plugin = torch_plugin_error();
  return "unknown material model '" + name + "' (known: " + known + ")" +
         (plugin.empty() ? "" : "; " + plugin);
}

std::vector<std::string> MaterialRegistry::names() const {
  load_torch_plugin();
  std::vector<std::string> r;
  for (const auto& e : entries_) r.push_back(e.name);
  return r;
}

template <>
std::unique_ptr<Material<float, 2>> MaterialRegistry::make<float, 2>(const std::string& n) const {
  return get(n).make_f2();
}
template <>
std::unique_ptr<Material<float, 3>> MaterialRegistry::make<float, 3>(const std::string& n) const {
  return get(n).make_f3();
}
template <>
std::unique_ptr<Material<double, 2>> MaterialRegistry::make<double, 2>(const std::string& n) const {
  return get(n).make_d2();
}
template <>
std::unique_ptr<Material<double, 3>> MaterialRegistry::make<double, 3>(const std::string& n) const {
  return get(n).make_d3();
}

// One entry per analytic model, all four precisions and dimensions.
template <class Model>
static MaterialEntry analytic_entry() {
  MaterialEntry e;
  e.name = Model::kName;
  e.specs = []() -> const std::vector<ParamSpec>& { return Model::specs(); };
  e.make_f2 = [] { return std::make_unique<AnalyticMaterial<Model, float, 2>>(); };
  e.make_f3 = [] { return std::make_unique<AnalyticMaterial<Model, float, 3>>(); };
  e.make_d2 = [] { return std::make_unique<AnalyticMaterial<Model, double, 2>>(); };
  e.make_d3 = [] { return std::make_unique<AnalyticMaterial<Model, double, 3>>(); };
  return e;
}

void register_analytic_materials(MaterialRegistry& r) {
#define DUCTILE_REGISTER(M) r.add(analytic_entry<M>());
  DUCTILE_FOR_EACH_ANALYTIC_MODEL(DUCTILE_REGISTER)
#undef DUCTILE_REGISTER
}

}  // namespace ductile
