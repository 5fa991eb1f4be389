// The ledger behind `ductile bench`'s peak device memory (buf MB): what Buffers hold now, and at most since a
// reset. On the CPU here; the same code counts CUDA allocations (tests/kernels/test_cuda_backend.cpp).
#include <doctest/doctest.h>

#include <utility>

#include "core/memory.h"

using namespace ductile;

TEST_CASE("held bytes: buffers count while they live, the peak keeps the most until a reset") {
  reset_peak_bytes(Device::kCpu);
  const HeldBytes start = held_bytes(Device::kCpu);
  CHECK(start.peak == start.now);
  {
    Buffer<float> a(Device::kCpu, 1000);
    CHECK(held_bytes(Device::kCpu).now == start.now + 4000);
    {
      Buffer<double> b(Device::kCpu, 500);
      CHECK(held_bytes(Device::kCpu).now == start.now + 8000);
    }
    // freed: no longer held, still the peak
    CHECK(held_bytes(Device::kCpu).now == start.now + 4000);
    CHECK(held_bytes(Device::kCpu).peak == start.now + 8000);
    // a resize frees the old array before the new one is made; a move hands the array over
    a.resize(Device::kCpu, 250);
    CHECK(held_bytes(Device::kCpu).now == start.now + 1000);
    Buffer<float> c = std::move(a);
    CHECK(held_bytes(Device::kCpu).now == start.now + 1000);
    reset_peak_bytes(Device::kCpu);
    CHECK(held_bytes(Device::kCpu).peak == start.now + 1000);
  }
  CHECK(held_bytes(Device::kCpu).now == start.now);
  CHECK(held_bytes(Device::kCpu).peak == start.now + 1000);
}
