// The registry of controller types, and the clock inputs.
#include "core/control/controller.h"

#include <cmath>

#include "core/error.h"
#include "core/torch_plugin.h"

namespace ductile {

std::unique_ptr<Controller> make_open_loop_controller(const nlohmann::json& spec,
                                                      const ControllerContext& ctx);
std::unique_ptr<Controller> make_sinusoid_controller(const nlohmann::json& spec,
                                                     const ControllerContext& ctx);

ControllerRegistry::ControllerRegistry() {
  add("open_loop", make_open_loop_controller);
  add("sinusoid", make_sinusoid_controller);
}

ControllerRegistry& ControllerRegistry::instance() {
  static ControllerRegistry r;
  return r;
}

bool ControllerRegistry::has(const std::string& type) const {
  // a type not registered yet may be LibTorch's (loaded on first use: core/torch_plugin.h)
  return factories_.count(type) != 0 || (load_torch_plugin() && factories_.count(type) != 0);
}

std::vector<std::string> ControllerRegistry::types() const {
  load_torch_plugin();
  std::vector<std::string> t;
  for (const auto& [name, f] : factories_) t.push_back(name);
  return t;
}

std::unique_ptr<Controller> ControllerRegistry::make(const nlohmann::json& spec, const ControllerContext& ctx,
                                                     const std::string& where) const {
  const std::string type = spec.value("type", std::string());
  if (!has(type)) {
    std::string known;
    for (const auto& t : types()) known += (known.empty() ? "" : ", ") + t;
    const std::string plugin = torch_plugin_error();
    fail(where + "/type", "unknown controller type '" + type + "' (this build knows: " + known +
                              (type == "network" ? "; 'network' needs a build with LibTorch" : "") + ")" +
                              (plugin.empty() ? "" : "; " + plugin));
  }
  auto it = factories_.find(type);
  return it->second(spec, ctx);
}

std::vector<double> clock_phases(double time, double frequency, int waves) {
  std::vector<double> s(static_cast<size_t>(waves));
  const double two_pi = 2 * M_PI;
  for (int j = 0; j < waves; ++j) s[size_t(j)] = std::sin(two_pi * frequency * time + two_pi * j / waves);
  return s;
}

}  // namespace ductile
