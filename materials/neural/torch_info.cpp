// The LibTorch this build links, for `ductile --version`.
#include <torch/version.h>

#include <string>

namespace ductile {

std::string torch_version() {
  return TORCH_VERSION;
}

}  // namespace ductile
