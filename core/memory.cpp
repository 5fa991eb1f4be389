#include "core/memory.h"

#include <cstdlib>
#include <cstring>
#include <new>

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

void* device_alloc(Device dev, size_t bytes) {
  if (dev == Device::kCuda) return cuda_alloc(bytes);
  // 64-byte alignment for vector loads
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!p) throw std::bad_alloc();
  return p;
}

void device_free(Device dev, void* p) {
  if (dev == Device::kCuda)
    cuda_free(p);
  else
    std::free(p);
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
