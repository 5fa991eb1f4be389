// Quadratic B-spline interpolation weights (Jiang et al. 2016, "The affine particle-in-cell method",
// eq. 123 of the MPM course notes): for fx = x/dx - base in [0.5, 1.5), w0 = 0.5 (1.5 - fx)^2,
// w1 = 0.75 - (fx - 1)^2, w2 = 0.5 (fx - 0.5)^2, and the 3^D stencil weight is the product over axes.
#pragma once

#include <cmath>

#include "core/grid.h"

namespace ductile {

template <class T, int D>
struct Stencil {
  int base[D];  // lowest node of the 3^D stencil
  T fx[D];      // position relative to base, in cells
  T w[D][3];    // per-axis weights
  T dw[D][3];   // per-axis weight derivatives d w / d fx
};

// floor(y) as an int for |y| < 2^31: truncation, minus one for negative non-integers (cheaper than std::floor
// without SSE4.1).
template <class T>
DUCTILE_HD DUCTILE_INLINE int floor_int(T y) {
  const int t = int(y);
  return t - (y < T(t));
}

// The stencil of x from a given lower node `base` (the one bspline_stencil computes, or a sort's copy of it):
// f = x / dx - base in [0.5, 1.5) and the weights and gradients above.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Stencil<T, D> bspline_stencil_at(const GridSpec<T, D>& g, const Vec<T, D>& x,
                                                           const int* base) {
  Stencil<T, D> s;
  for (int d = 0; d < D; ++d) {
    const T f = (x[d] - g.origin[d]) * g.inv_dx - T(base[d]);
    s.base[d] = base[d];
    s.fx[d] = f;
    s.w[d][0] = T(0.5) * (T(1.5) - f) * (T(1.5) - f);
    s.w[d][1] = T(0.75) - (f - T(1)) * (f - T(1));
    s.w[d][2] = T(0.5) * (f - T(0.5)) * (f - T(0.5));
    s.dw[d][0] = f - T(1.5);
    s.dw[d][1] = T(-2) * (f - T(1));
    s.dw[d][2] = f - T(0.5);
  }
  return s;
}

// Weights of the particle at x on grid spec.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Stencil<T, D> bspline_stencil(const GridSpec<T, D>& g, const Vec<T, D>& x) {
  int base[D];
  for (int d = 0; d < D; ++d) base[d] = floor_int((x[d] - g.origin[d]) * g.inv_dx - T(0.5));
  return bspline_stencil_at(g, x, base);
}

// True when every node of the 3^D stencil starting at base lies inside the grid.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE bool stencil_inside(const GridSpec<T, D>& g, const int* base) {
  bool in = true;
  for (int d = 0; d < D; ++d) in = in && base[d] >= 0 && base[d] + 2 < g.res[d];
  return in;
}

// Visits the 3^D stencil nodes: fn(offset[D], weight, dpos) with dpos = x_i - x_p in metres.
template <class T, int D, class Fn>
DUCTILE_HD DUCTILE_INLINE void for_each_stencil_node(const Stencil<T, D>& s, T dx, Fn&& fn) {
  if constexpr (D == 2) {
    DUCTILE_UNROLL
    for (int a = 0; a < 3; ++a) {
      DUCTILE_UNROLL
      for (int b = 0; b < 3; ++b) {
        int off[2] = {a, b};
        Vec<T, 2> dpos{{(T(a) - s.fx[0]) * dx, (T(b) - s.fx[1]) * dx}};
        fn(off, s.w[0][a] * s.w[1][b], dpos);
      }
    }
  } else {
    DUCTILE_UNROLL
    for (int a = 0; a < 3; ++a) {
      DUCTILE_UNROLL
      for (int b = 0; b < 3; ++b) {
        DUCTILE_UNROLL
        for (int c = 0; c < 3; ++c) {
          int off[3] = {a, b, c};
          Vec<T, 3> dpos{{(T(a) - s.fx[0]) * dx, (T(b) - s.fx[1]) * dx, (T(c) - s.fx[2]) * dx}};
          fn(off, s.w[0][a] * s.w[1][b] * s.w[2][c], dpos);
        }
      }
    }
  }
}

// Visits the 3^D stencil nodes of grid g: fn(offset[D], weight, node index), the index stepped along rows
// instead of recomputed per node; weights multiply in the same order as for_each_stencil_node's.
template <class T, int D, class Fn>
DUCTILE_HD DUCTILE_INLINE void for_each_stencil_index(const Stencil<T, D>& s, const GridSpec<T, D>& g,
                                                      Fn&& fn) {
  const int64_t base = g.index(s.base);
  if constexpr (D == 2) {
    const int64_t sx = g.res[1];
    DUCTILE_UNROLL
    for (int a = 0; a < 3; ++a) {
      DUCTILE_UNROLL
      for (int b = 0; b < 3; ++b) {
        int off[2] = {a, b};
        fn(off, s.w[0][a] * s.w[1][b], base + a * sx + b);
      }
    }
  } else {
    const int64_t sy = g.res[2], sx = int64_t(g.res[1]) * sy;
    DUCTILE_UNROLL
    for (int a = 0; a < 3; ++a) {
      DUCTILE_UNROLL
      for (int b = 0; b < 3; ++b) {
        const T wab = s.w[0][a] * s.w[1][b];
        const int64_t row = base + a * sx + b * sy;
        DUCTILE_UNROLL
        for (int c = 0; c < 3; ++c) {
          int off[3] = {a, b, c};
          fn(off, wab * s.w[2][c], row + c);
        }
      }
    }
  }
}

}  // namespace ductile
