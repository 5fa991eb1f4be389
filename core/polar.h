// Rotation of the polar decomposition F = R S for a batch of L small matrices, without data-dependent
// branches on the common path, host and device.
//
// R is the rotation (det R = +1) nearest F, the R = U V^T of core/svd.h's signed SVD. Where det F > 0 it is
// the orthogonal polar factor, computed by Newton's iteration X <- (X + X^-T) / 2 (Higham 1986, "Computing
// the polar decomposition - with applications", SISC 7(4); Higham 2008, "Functions of Matrices", sec. 8.6),
// unscaled (a scaling needs a square root, whose errno branch stops GCC vectorizing the loop; MPM's F is
// close to a rotation, where scaling gains nothing). The iteration acts on the singular values alone,
// s <- (s + 1/s) / 2, converges quadratically for any rotation part, and is forward stable. Every lane takes
// the same kSteps steps, straight-line code that the compiler vectorizes across the L lanes. A lane is done
// when the last step moved X by at most kAccept (the error after it is about half its square: below the unit
// round-off); a lane that is not takes further steps of its own (a rare, strongly deformed F), up to
// kMaxSteps. A lane with det F <= 0 (inverted), or still not done (nearly singular, not finite), takes
// polar_rotation(svd(F)). The lanes are independent, so a particle's R does not depend on which batch it is
// in or on the batch size: one matrix (L = 1) gives the same bits.
// In 2D every lane takes the SVD, so 2D results are those of the SVD path bit for bit.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/math.h"
#include "core/svd.h"

namespace ductile {

// Newton steps of every lane, the most steps of one lane, and the largest accepted last step |X_N -
// X_(N-1)|_F (about the largest |sigma - 1| before it). Three steps take singular values within about
// [0.8, 1.25] (float) or [0.985, 1.015] (double) to round-off, so MPM's elastic F rarely needs a fourth; ten
// take any within about [0.01, 100].
template <class T>
struct PolarParams;
template <>
struct PolarParams<float> {
  static constexpr int kSteps = 3, kMaxSteps = 10;
  static constexpr float kAccept = 2e-4f;
};
template <>
struct PolarParams<double> {
  static constexpr int kSteps = 3, kMaxSteps = 10;
  static constexpr double kAccept = 1e-8;
};

namespace detail {

// One Newton step X <- X / 2 + C / (2 det X) on lane j (C = det X * X^-T, the cofactors); d: det X before
// it; moved (where kMoved): |X_new - X|_F^2.
template <class T, int L, bool kMoved>
DUCTILE_HD DUCTILE_INLINE void newton_polar_step(T (&X)[9][L], int j, T& d, T& moved) {
  const T x0 = X[0][j], x1 = X[1][j], x2 = X[2][j], x3 = X[3][j], x4 = X[4][j], x5 = X[5][j], x6 = X[6][j],
          x7 = X[7][j], x8 = X[8][j];
  const T c0 = x4 * x8 - x5 * x7, c1 = x5 * x6 - x3 * x8, c2 = x3 * x7 - x4 * x6;
  const T c3 = x2 * x7 - x1 * x8, c4 = x0 * x8 - x2 * x6, c5 = x1 * x6 - x0 * x7;
  const T c6 = x1 * x5 - x2 * x4, c7 = x2 * x3 - x0 * x5, c8 = x0 * x4 - x1 * x3;
  d = x0 * c0 + x1 * c1 + x2 * c2;
  const T h = T(0.5) / d, g = T(0.5);
  const T y0 = g * x0 + h * c0, y1 = g * x1 + h * c1, y2 = g * x2 + h * c2;
  const T y3 = g * x3 + h * c3, y4 = g * x4 + h * c4, y5 = g * x5 + h * c5;
  const T y6 = g * x6 + h * c6, y7 = g * x7 + h * c7, y8 = g * x8 + h * c8;
  if constexpr (kMoved) {
    const T e0 = y0 - x0, e1 = y1 - x1, e2 = y2 - x2, e3 = y3 - x3, e4 = y4 - x4, e5 = y5 - x5, e6 = y6 - x6,
            e7 = y7 - x7, e8 = y8 - x8;
    moved = e0 * e0 + e1 * e1 + e2 * e2 + e3 * e3 + e4 * e4 + e5 * e5 + e6 * e6 + e7 * e7 + e8 * e8;
  }
  X[0][j] = y0, X[1][j] = y1, X[2][j] = y2, X[3][j] = y3, X[4][j] = y4, X[5][j] = y5;
  X[6][j] = y6, X[7][j] = y7, X[8][j] = y8;
}

}  // namespace detail

// R (row-major components c = i * D + j, lane j of R[c]) of the L matrices F; returns bit j set where lane
// j took the SVD. L <= 32.
template <class T, int D, int L>
DUCTILE_HD inline uint32_t nearest_rotation_lanes(const T (&F)[D * D][L], T (&R)[D * D][L]) {
  static_assert(L >= 1 && L <= 32, "lanes in a 32-bit mask");
  uint32_t slow = 0;
  if constexpr (D == 2) {
    // every lane takes the SVD (2D is cheap; a closed form, (F00 + F11, F10 - F01) normalized, differs from
    // it by round-off, which moved a finite-difference gradient check past its tolerance at its noise floor)
    slow = L == 32 ? ~0u : (1u << L) - 1u;
  } else {
    constexpr int kSteps = PolarParams<T>::kSteps, kMaxSteps = PolarParams<T>::kMaxSteps;
    const T accept2 = PolarParams<T>::kAccept * PolarParams<T>::kAccept;
    T X[9][L], moved[L], d0[L], d[L];
    for (int c = 0; c < 9; ++c)
      for (int j = 0; j < L; ++j) X[c][j] = F[c][j];
    for (int j = 0; j < L; ++j) detail::newton_polar_step<T, L, false>(X, j, d0[j], moved[j]);
    for (int step = 1; step + 1 < kSteps; ++step)
      for (int j = 0; j < L; ++j) detail::newton_polar_step<T, L, false>(X, j, d[j], moved[j]);
    for (int j = 0; j < L; ++j) detail::newton_polar_step<T, L, true>(X, j, d[j], moved[j]);
    // lanes not converged yet take further steps (each lane's own, so its result does not depend on the
    // other lanes), up to kMaxSteps in all
    uint32_t pending = 0;
    for (int j = 0; j < L; ++j) pending |= d0[j] > T(0) && !(moved[j] <= accept2) ? (1u << j) : 0u;
    for (int step = kSteps; step < kMaxSteps && pending; ++step) {
      T Y[9][L], m[L];
      for (int c = 0; c < 9; ++c)
        for (int j = 0; j < L; ++j) Y[c][j] = X[c][j];
      for (int j = 0; j < L; ++j) detail::newton_polar_step<T, L, true>(Y, j, d[j], m[j]);
      for (int j = 0; j < L; ++j) {
        if (!(pending >> j & 1u)) continue;
        for (int c = 0; c < 9; ++c) X[c][j] = Y[c][j];
        moved[j] = m[j];
        if (moved[j] <= accept2) pending &= ~(1u << j);
      }
    }
    for (int c = 0; c < 9; ++c)
      for (int j = 0; j < L; ++j) R[c][j] = X[c][j];
    for (int j = 0; j < L; ++j) slow |= d0[j] > T(0) && moved[j] <= accept2 ? 0u : (1u << j);
  }
  // the rest: the SVD's R = U V^T
  for (int j = 0; j < L; ++j) {
    if (!(slow >> j & 1u)) continue;
    Mat<T, D> Fj;
    for (int c = 0; c < D * D; ++c) Fj.m[c / D][c % D] = F[c][j];
    const Mat<T, D> Rj = polar_rotation(svd(Fj));
    for (int c = 0; c < D * D; ++c) R[c][j] = Rj.m[c / D][c % D];
  }
  return slow;
}

// The same for one matrix.
template <class T, int D>
DUCTILE_HD inline Mat<T, D> nearest_rotation(const Mat<T, D>& F) {
  T f[D * D][1], r[D * D][1];
  for (int c = 0; c < D * D; ++c) f[c][0] = F.m[c / D][c % D];
  nearest_rotation_lanes<T, D, 1>(f, r);
  Mat<T, D> R;
  for (int c = 0; c < D * D; ++c) R.m[c / D][c % D] = r[c][0];
  return R;
}

}  // namespace ductile
