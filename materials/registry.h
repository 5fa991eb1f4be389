// Material registry: model names to factories, filled by one explicit call (no static self-registration).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "materials/material.h"

namespace ductile {

// A scene key setting an option of a model rather than a parameter (a neural material's "plastic"): true or
// false, or a finite number > 0. Passed to Material::configure before the file keys.
struct MaterialOption {
  std::string name;
  bool boolean = false;  // true/false; otherwise a finite number > 0
  std::string meaning;
};

struct MaterialEntry {
  std::string name;
  std::function<const std::vector<ParamSpec>&()> specs;
  std::function<std::unique_ptr<Material<float, 2>>()> make_f2;
  std::function<std::unique_ptr<Material<float, 3>>()> make_f3;
  std::function<std::unique_ptr<Material<double, 2>>()> make_d2;
  std::function<std::unique_ptr<Material<double, 3>>()> make_d3;
  std::vector<std::string> file_keys;   // scene keys naming files (made absolute, passed to configure())
  std::vector<MaterialOption> options;  // scene keys setting options (passed to configure() first)
};

class MaterialRegistry {
 public:
  // The process-wide registry with the built-in analytic models registered.
  static MaterialRegistry& instance();
  void add(MaterialEntry e);
  // The entry for a model name; throws naming the known models when there is none. A name not registered
  // loads LibTorch's plugin first (core/torch_plugin.h), which may register it; names() lists its models too.
  const MaterialEntry& get(const std::string& name) const;
  bool has(const std::string& name) const;
  std::vector<std::string> names() const;
  // "unknown material model 'name' (known: ...)", and why LibTorch's plugin failed to load if it did.
  std::string unknown(const std::string& name) const;

  template <class T, int D>
  std::unique_ptr<Material<T, D>> make(const std::string& name) const;

 private:
  const MaterialEntry* find(const std::string& name) const;  // nullptr when unknown
  std::vector<MaterialEntry> entries_;
};

// Registers the analytic models (called once by MaterialRegistry::instance()).
void register_analytic_materials(MaterialRegistry& r);
// Registers the LibTorch materials (materials/neural/; builds with LibTorch only). Idempotent; called by
// LibTorch's plugin when it is loaded (core/torch_plugin.h).
void register_neural_materials(MaterialRegistry& r);

}  // namespace ductile
