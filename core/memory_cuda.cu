// CUDA memory and device queries.
#include <string>

#include "core/cuda_check.h"
#include "core/device.h"

namespace ductile {

void* cuda_alloc(size_t bytes) {
  void* p = nullptr;
  DUCTILE_CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
}
void cuda_free(void* p) {
  cudaFree(p);
}
void cuda_copy(void* dst, bool dst_gpu, const void* src, bool src_gpu, size_t bytes) {
  cudaMemcpyKind k = dst_gpu ? (src_gpu ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                             : (src_gpu ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  DUCTILE_CUDA_CHECK(cudaMemcpy(dst, src, bytes, k));
}
void cuda_zero(void* p, size_t bytes) {
  DUCTILE_CUDA_CHECK(cudaMemset(p, 0, bytes));
}
void cuda_sync() {
  DUCTILE_CUDA_CHECK(cudaDeviceSynchronize());
}
void* cuda_host_alloc(size_t bytes) {
  void* p = nullptr;
  DUCTILE_CUDA_CHECK(cudaMallocHost(&p, bytes ? bytes : 1));
  return p;
}
void cuda_host_free(void* p) {
  cudaFreeHost(p);
}
// From page-locked host memory: queued on the default stream, the host goes on.
void cuda_copy_queued(void* dst, const void* src, size_t bytes) {
  DUCTILE_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice));
}

bool cuda_available() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

std::string cuda_device_description() {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) return std::string("no usable GPU: ") + cudaGetErrorString(e);
  if (n == 0) return "no GPU visible";
  cudaDeviceProp prop;
  DUCTILE_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  return std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ")";
}

}  // namespace ductile
