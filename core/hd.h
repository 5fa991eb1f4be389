// Host/device portability: one kernel source compiles with g++ (CPU) and nvcc (CUDA).
#pragma once

#if defined(__CUDACC__)
#define DUCTILE_HD __host__ __device__
#define DUCTILE_INLINE __forceinline__
#else
#define DUCTILE_HD
#define DUCTILE_INLINE inline
#endif

// Full unrolling of a short constant loop in device code (the stencil's 3^D nodes): a loop left rolled
// indexes the stencil's weights at run time, which puts them in local memory. The CPU code is left to the
// compiler.
#if defined(__CUDA_ARCH__)
#define DUCTILE_UNROLL _Pragma("unroll")
#else
#define DUCTILE_UNROLL
#endif
