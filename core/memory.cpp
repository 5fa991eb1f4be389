#include "core/memory.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>

#include "core/error.h"

namespace ductile {

// CUDA halves live in core/memory_cuda.cu (or its _nocuda stub).
void* cuda_alloc(size_t bytes);
void cuda_free(void* p);
void cuda_copy(void* dst, bool dst_gpu, const void* src, bool src_gpu, size_t bytes);
void cuda_zero(void* p, size_t bytes);
void cuda_sync();
void* cuda_host_alloc(size_t bytes);
void cuda_host_free(void* p);
void cuda_copy_queued(void* dst, const void* src, size_t bytes);

namespace {

// The size of every live allocation of one device, and the bytes they hold now and at most (the benchmark's
// peak device memory); allocations are rare (buffers grow, they are not made per step), so a lock will do.
struct Ledger {
  std::mutex m;
  std::unordered_map<void*, size_t> sizes;
  HeldBytes held;
};

// never destroyed: buffers of static objects may be freed after it would be
Ledger& ledger(Device dev) {
  static Ledger* const ledgers = new Ledger[2];
  return ledgers[dev == Device::kCuda ? 1 : 0];
}

void note_alloc(Device dev, void* p, size_t bytes) {
  Ledger& l = ledger(dev);
  std::lock_guard<std::mutex> lock(l.m);
  l.sizes[p] = bytes;
  l.held.now += int64_t(bytes);
  l.held.peak = std::max(l.held.peak, l.held.now);
}

void note_free(Device dev, void* p) {
  Ledger& l = ledger(dev);
  std::lock_guard<std::mutex> lock(l.m);
  auto it = l.sizes.find(p);
  if (it == l.sizes.end()) return;
  l.held.now -= int64_t(it->second);
  l.sizes.erase(it);
}

}  // namespace

void* device_alloc(Device dev, size_t bytes) {
  void* p = nullptr;
  if (dev == Device::kCuda) {
    p = cuda_alloc(bytes);
  } else {
    // 64-byte alignment for vector loads
    p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
  }
  note_alloc(dev, p, bytes);
  return p;
}

void device_free(Device dev, void* p) {
  if (!p) return;
  note_free(dev, p);
  if (dev == Device::kCuda)
    cuda_free(p);
  else
    std::free(p);
}

HeldBytes held_bytes(Device dev) {
  Ledger& l = ledger(dev);
  std::lock_guard<std::mutex> lock(l.m);
  return l.held;
}

void reset_peak_bytes(Device dev) {
  Ledger& l = ledger(dev);
  std::lock_guard<std::mutex> lock(l.m);
  l.held.peak = l.held.now;
}

void device_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes) {
  if (dst_dev == Device::kCpu && src_dev == Device::kCpu)
    std::memcpy(dst, src, bytes);
  else
    cuda_copy(dst, dst_dev == Device::kCuda, src, src_dev == Device::kCuda, bytes);
}

void device_zero(Device dev, void* p, size_t bytes) {
  if (dev == Device::kCuda)
    cuda_zero(p, bytes);
  else
    std::memset(p, 0, bytes);
}

void device_sync(Device dev) {
  if (dev == Device::kCuda) cuda_sync();
}

void* staging_alloc(Device dev, size_t bytes) {
  if (dev == Device::kCuda) return cuda_host_alloc(bytes);
  void* p = std::malloc(bytes ? bytes : 1);
  if (!p) throw std::bad_alloc();
  return p;
}

void staging_free(Device dev, void* p) {
  if (dev == Device::kCuda)
    cuda_host_free(p);
  else
    std::free(p);
}

void device_copy_queued(void* dst, Device dev, const void* staged, size_t bytes) {
  if (dev == Device::kCuda)
    cuda_copy_queued(dst, staged, bytes);
  else
    std::memcpy(dst, staged, bytes);
}

}  // namespace ductile
