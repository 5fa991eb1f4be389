// Power-of-two scaling of a vector-Jacobian product's output adjoint, host and device.
//
// A VJP is linear in the adjoint it is given, and multiplying a float by a power of two is exact (while the
// result is normal), so VJP(2^-e a) 2^e = VJP(a) bit for bit wherever nothing underflows. A small loss makes
// the adjoints tiny (the gradient benchmark's adj_tau is 1e-22 to 1e-31: the mean squared displacement of a
// box falling for 20 steps); products of such adjoints with a rotation's near-zero entries or with
// sigma - 1 ~ 1e-7 then fall below float's smallest normal 1.2e-38, and x86 computes subnormal operands and
// results in microcode assists, about 100 times slower. Scaled to unit size first, the same VJP stays in the
// normal range (fixed-corotated's stress adjoint on the benchmark's step 19: 53.8 -> 5.3 ms,
// docs/BENCHMARKS.md).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "core/hd.h"
#include "core/math.h"

namespace ductile {

// The binary exponent of a non-negative float or double x: e with x / 2^e in [1, 2) for normal x; -127
// (float) or -1023 (double) for subnormal x and zero; not meaningful for infinity or NaN.
DUCTILE_HD DUCTILE_INLINE int binary_exponent(float x) {
  uint32_t b;
  memcpy(&b, &x, sizeof b);
  return int((b >> 23) & 0xffu) - 127;
}
DUCTILE_HD DUCTILE_INLINE int binary_exponent(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof b);
  return int((b >> 52) & 0x7ffu) - 1023;
}

// 2^k for |k| <= 126, exactly.
template <class T>
DUCTILE_HD DUCTILE_INLINE T pow2(int k) {
  if constexpr (sizeof(T) == 4) {
    const uint32_t b = uint32_t(k + 127) << 23;
    float r;
    memcpy(&r, &b, sizeof r);
    return r;
  } else {
    const uint64_t b = uint64_t(k + 1023) << 52;
    double r;
    memcpy(&r, &b, sizeof r);
    return r;
  }
}

// The exponent e <= 0 by which an output adjoint a is scaled down (a 2^-e, with its largest entry in [1, 2)):
// 0 where max |a_ij| >= 1 (left as it is: scaling down could push products with small factors below the
// normal range instead), where a is zero, or where an entry is not finite (the NaN or infinity reaches the
// result unchanged and is reported there); at least -120, so that 2^-e is a normal float. Works on the bit
// patterns: without the sign bit, non-negative floats (and above them infinity, then NaN) order like
// unsigned integers.
// With b: the exponent common to a and the scalar b (a projection's adjoints of F and of the plastic state).
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE int adjoint_scale_exponent(const Mat<T, D>& a, T b = T(0)) {
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  constexpr int kMantissa = sizeof(T) == 4 ? 23 : 52, kBias = sizeof(T) == 4 ? 127 : 1023;
  constexpr Bits kAbs = ~(Bits(1) << (8 * sizeof(T) - 1)), kOne = Bits(kBias) << kMantissa;
  Bits m = 0;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      Bits b;
      memcpy(&b, &a(i, j), sizeof b);
      b &= kAbs;
      m = b > m ? b : m;
    }
  Bits bb;
  memcpy(&bb, &b, sizeof bb);
  bb &= kAbs;
  m = bb > m ? bb : m;
  if (m >= kOne || m == 0) return 0;
  const int e = int(m >> kMantissa) - kBias;
  return e < -120 ? -120 : e;
}

}  // namespace ductile
