// Every CUDA runtime call is checked; a failure throws naming the call, file and line.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "core/error.h"
#include "core/status.h"

#define DUCTILE_CUDA_CHECK(call)                                                    \
  do {                                                                              \
    cudaError_t err_ = (call);                                                      \
    if (err_ != cudaSuccess)                                                        \
      ::ductile::fail(std::string(__FILE__) + ":" + std::to_string(__LINE__),       \
                      std::string(#call) + " failed: " + cudaGetErrorString(err_)); \
  } while (0)

namespace ductile {

// Grid-stride loop running fn(i) for i in [0, n).
template <class Fn>
__global__ void cuda_for_kernel(long long n, Fn fn) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n;
       i += (long long)blockDim.x * gridDim.x)
    fn(i);
}

template <class Fn>
void cuda_parallel_for(long long n, const Fn& fn) {
  if (n <= 0) return;
  int threads = 256;
  long long blocks = (n + threads - 1) / threads;
  if (blocks > 65535LL * 16) blocks = 65535LL * 16;
  cuda_for_kernel<<<(unsigned)blocks, threads>>>(n, fn);
  DUCTILE_CUDA_CHECK(cudaGetLastError());
}

// The status word back to its cleared value (a template: one definition in every file that launches it).
template <int = 0>
__global__ void clear_status_kernel(Status* s) {
  *s = Status{};
}

// Copies the status word to `pinned` (page-locked: core/memory.h's Staging), queues its clearing behind the
// copy, waits once for everything queued (copies the caller queued before included) and returns the word.
inline Status cuda_fetch_status(Status* s, Status* pinned) {
  DUCTILE_CUDA_CHECK(cudaMemcpyAsync(pinned, s, sizeof(Status), cudaMemcpyDeviceToHost));
  clear_status_kernel<<<1, 1>>>(s);
  DUCTILE_CUDA_CHECK(cudaGetLastError());
  DUCTILE_CUDA_CHECK(cudaDeviceSynchronize());
  return *pinned;
}

}  // namespace ductile
