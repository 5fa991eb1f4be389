// Backend and precision names of the Python module.
#pragma once

#include <string>

#include "core/device.h"
#include "core/error.h"

namespace ductile::python {

// "cpu", "cuda" (throws naming why when no GPU is usable) or "auto".
inline Device parse_device(const std::string& backend) {
  if (backend == "cpu") return Device::kCpu;
  if (backend == "cuda" || backend == "auto") {
    if (cuda_available()) return Device::kCuda;
    if (backend == "auto") return Device::kCpu;
    fail("backend", "'cuda' asked but no CUDA device is usable in this build and machine");
  }
  fail("backend", "expected 'cpu', 'cuda' or 'auto', got '" + backend + "'");
}

// true for "float64", false for "float32".
inline bool parse_dtype(const std::string& dtype) {
  if (dtype == "float64") return true;
  if (dtype == "float32") return false;
  fail("dtype", "expected torch.float32 or torch.float64, got " + dtype);
}

}  // namespace ductile::python
