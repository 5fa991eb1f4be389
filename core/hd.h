// Host/device portability: one kernel source compiles with g++ (CPU) and nvcc (CUDA).
#pragma once

#if defined(__CUDACC__)
#define DUCTILE_HD __host__ __device__
#define DUCTILE_INLINE __forceinline__
#else
#define DUCTILE_HD
#define DUCTILE_INLINE inline
#endif
