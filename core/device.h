// Where data lives and kernels run.
#pragma once

#include <string>

namespace ductile {

enum class Device { kCpu, kCuda };

inline const char* device_name(Device d) {
  return d == Device::kCpu ? "cpu" : "cuda";
}

// True when this build has the CUDA backend and a GPU is visible (core/cuda_runtime.cu or its stub).
bool cuda_available();
// The CUDA device's name, or why there is none.
std::string cuda_device_description();

}  // namespace ductile
