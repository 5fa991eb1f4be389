// Zero-copy views of device memory for PyTorch through DLPack (the legacy "dltensor" capsule, whose ABI
// every DLPack consumer reads): torch.from_dlpack(DeviceArray) shares the memory, on the CPU or the GPU.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <vector>

#include "core/device.h"

namespace ductile::python {

namespace py = pybind11;

// A strided array in memory that `owner` keeps alive (strides in elements, as DLPack counts them).
struct DeviceArray {
  void* data = nullptr;
  Device device = Device::kCpu;
  uint8_t code = 2;  // DLPack type code: 0 int, 2 float
  uint8_t bits = 32;
  std::vector<int64_t> shape, strides;
  py::object owner;

  // A DLPack capsule of this view (named "dltensor"); the consumer's deleter releases `owner`.
  py::capsule capsule() const;
  // (device type, device id): (1, 0) for the CPU, (2, 0) for CUDA device 0.
  py::tuple dlpack_device() const;
};

// Binds DeviceArray with __dlpack__ and __dlpack_device__.
void bind_device_array(py::module_& m);

}  // namespace ductile::python
