// LibTorch's half of ductile (materials/neural/, core/control/torch/) as a plugin, libductile_torch.so, that
// the executable and the test runner load on first use. LibTorch registers its thousands of operators when it
// is loaded, half a second of CPU that every run without a neural material or a network controller now skips
// (twice when `ductile` restarts itself to set OMP_WAIT_POLICY: apps/main.cpp). The registries call
// load_torch_plugin() when a name is missing; programs that link LibTorch's half in (the Python module, the
// LibTorch tests) call use_linked_torch() instead.
#pragma once

#include <string>

// The plugin's entry point (materials/neural/torch_plugin_entry.cpp): registers the neural materials and the
// network controller (idempotent) and returns the LibTorch version.
extern "C" const char* ductile_torch_plugin_init();

namespace ductile {

using TorchPluginInit = const char* (*)();

// Loads the plugin once, if this build has one: true when its materials and controller are registered (now or
// before), false when the build has no LibTorch, when the plugin failed to load (torch_plugin_error() says
// why) or while it is registering. The file is DUCTILE_TORCH_PLUGIN from the environment, else
// libductile_torch.so beside the executable, else the one built.
bool load_torch_plugin();
// Why the plugin failed to load ("" if it did not fail).
std::string torch_plugin_error();
// The LibTorch version, or "" when no LibTorch is loaded or linked.
std::string torch_plugin_version();
// For programs that link LibTorch's half: registers it through `init` and never loads the plugin.
void use_linked_torch(TorchPluginInit init);

}  // namespace ductile
