// The test runner: doctest's main, after registering the LibTorch materials (when built with LibTorch).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "materials/registry.h"
#ifdef DUCTILE_WITH_TORCH
#include "core/control/torch/network_controller.h"
#endif

int main(int argc, char** argv) {
#ifdef DUCTILE_WITH_TORCH
  ductile::register_neural_materials(ductile::MaterialRegistry::instance());
  ductile::register_network_controller();
#endif
  return doctest::Context(argc, argv).run();
}
