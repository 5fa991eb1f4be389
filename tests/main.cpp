// The test runners' main: doctest's. ductile_torch_tests links LibTorch's half and registers it at start;
// ductile_tests loads it as a plugin when a test first names a neural material (core/torch_plugin.h).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "core/torch_plugin.h"

int main(int argc, char** argv) {
#ifdef DUCTILE_TORCH_TESTS
  ductile::use_linked_torch(ductile_torch_plugin_init);
#endif
  return doctest::Context(argc, argv).run();
}
