// Four-lane rows of grid nodes for the CPU transfers (kernels/cpu_rows.h for the simulator,
// kernels/diff_rows.h for the gradient tape): a quadratic stencil's row of 3 nodes along the grid's last axis
// is one vector of 4 lanes (GCC/Clang vector extensions: SSE/AVX on x86-64, generic code elsewhere); lane 3
// carries weight 0.
#pragma once

#include <cstdint>
#include <cstring>

namespace ductile::lanes {

// Four lanes of T, and the matching integer mask type.
template <class T>
struct Lanes;
template <>
struct Lanes<float> {
  typedef float V __attribute__((vector_size(16)));
  typedef int32_t M __attribute__((vector_size(16)));
};
template <>
struct Lanes<double> {
  typedef double V __attribute__((vector_size(32)));
  typedef int64_t M __attribute__((vector_size(32)));
};

// A row of 4 nodes starting at p: all four lanes (full) or only the first three, lane 3 zero (a row at the
// grid's end). Vectors pass by reference only: 32-byte vectors by value would change the ABI without AVX.
template <class V, class T>
inline void load_row(V& r, const T* p, bool full) {
  if (full)
    std::memcpy(&r, p, sizeof(V));
  else
    r = V{p[0], p[1], p[2], T(0)};
}

// p[c] += x[c] for the row's nodes (lane 3 of x must be 0 when full).
template <class V, class T>
inline void add_row(T* p, const V& x, bool full) {
  if (full) {
    V r;
    std::memcpy(&r, p, sizeof(V));
    r += x;
    std::memcpy(p, &r, sizeof(V));
  } else {
    for (int c = 0; c < 3; ++c) p[c] += x[c];
  }
}

// The sum of the four lanes, in a fixed order (deterministic results).
template <class V>
inline auto hsum(const V& v) {
  return (v[0] + v[1]) + (v[2] + v[3]);
}

}  // namespace ductile::lanes
