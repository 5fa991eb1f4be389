// The entry point of LibTorch's plugin (core/torch_plugin.h): what it registers, and the LibTorch it was
// built with.
#include <torch/version.h>

#include "core/control/torch/network_controller.h"
#include "core/torch_plugin.h"
#include "materials/registry.h"

extern "C" const char* ductile_torch_plugin_init() {
  ductile::register_neural_materials(ductile::MaterialRegistry::instance());
  ductile::register_network_controller();
  return TORCH_VERSION;
}
