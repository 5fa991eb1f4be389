// Small fixed-size vectors and matrices usable on host and device (D = 2 or 3), row-major.
#pragma once

#include <cmath>

#include "core/hd.h"

namespace ductile {

template <class T, int D>
struct Vec {
  T v[D];
  DUCTILE_HD T& operator[](int i) { return v[i]; }
  DUCTILE_HD const T& operator[](int i) const { return v[i]; }
  DUCTILE_HD static Vec zero() {
    Vec r;
    for (int i = 0; i < D; ++i) r.v[i] = T(0);
    return r;
  }
  DUCTILE_HD static Vec constant(T c) {
    Vec r;
    for (int i = 0; i < D; ++i) r.v[i] = c;
    return r;
  }
};

template <class T, int D>
struct Mat {
  T m[D][D];
  DUCTILE_HD T& operator()(int i, int j) { return m[i][j]; }
  DUCTILE_HD const T& operator()(int i, int j) const { return m[i][j]; }
  DUCTILE_HD static Mat zero() {
    Mat r;
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) r.m[i][j] = T(0);
    return r;
  }
  DUCTILE_HD static Mat identity() { return diag(Vec<T, D>::constant(T(1))); }
  DUCTILE_HD static Mat diag(const Vec<T, D>& d) {
    Mat r = zero();
    for (int i = 0; i < D; ++i) r.m[i][i] = d[i];
    return r;
  }
};

// Element-wise arithmetic on vectors.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, D> operator+(const Vec<T, D>& a, const Vec<T, D>& b) {
  Vec<T, D> r;
  for (int i = 0; i < D; ++i) r[i] = a[i] + b[i];
  return r;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, D> operator-(const Vec<T, D>& a, const Vec<T, D>& b) {
  Vec<T, D> r;
  for (int i = 0; i < D; ++i) r[i] = a[i] - b[i];
  return r;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, D> operator*(T s, const Vec<T, D>& a) {
  Vec<T, D> r;
  for (int i = 0; i < D; ++i) r[i] = s * a[i];
  return r;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE T dot(const Vec<T, D>& a, const Vec<T, D>& b) {
  T s = 0;
  for (int i = 0; i < D; ++i) s += a[i] * b[i];
  return s;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE T norm(const Vec<T, D>& a) {
  return std::sqrt(dot(a, a));
}

// Element-wise arithmetic on matrices.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Mat<T, D> operator+(const Mat<T, D>& a, const Mat<T, D>& b) {
  Mat<T, D> r;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) r(i, j) = a(i, j) + b(i, j);
  return r;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Mat<T, D> operator-(const Mat<T, D>& a, const Mat<T, D>& b) {
  Mat<T, D> r;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) r(i, j) = a(i, j) - b(i, j);
  return r;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Mat<T, D> operator*(T s, const Mat<T, D>& a) {
  Mat<T, D> r;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) r(i, j) = s * a(i, j);
  return r;
}

// Products: matrix-matrix, matrix-vector, outer product.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Mat<T, D> operator*(const Mat<T, D>& a, const Mat<T, D>& b) {
  Mat<T, D> r;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      T s = 0;
      for (int k = 0; k < D; ++k) s += a(i, k) * b(k, j);
      r(i, j) = s;
    }
  return r;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, D> operator*(const Mat<T, D>& a, const Vec<T, D>& x) {
  Vec<T, D> r;
  for (int i = 0; i < D; ++i) {
    T s = 0;
    for (int k = 0; k < D; ++k) s += a(i, k) * x[k];
    r[i] = s;
  }
  return r;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Mat<T, D> outer(const Vec<T, D>& a, const Vec<T, D>& b) {
  Mat<T, D> r;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) r(i, j) = a[i] * b[j];
  return r;
}

// Transpose, trace, Frobenius inner product, symmetric part.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Mat<T, D> transpose(const Mat<T, D>& a) {
  Mat<T, D> r;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) r(i, j) = a(j, i);
  return r;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE T trace(const Mat<T, D>& a) {
  T s = 0;
  for (int i = 0; i < D; ++i) s += a(i, i);
  return s;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE T ddot(const Mat<T, D>& a, const Mat<T, D>& b) {
  T s = 0;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) s += a(i, j) * b(i, j);
  return s;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Mat<T, D> sym(const Mat<T, D>& a) {
  return T(0.5) * (a + transpose(a));
}

// Determinant and its adjoint (d det / dA = cof(A)).
template <class T>
DUCTILE_HD DUCTILE_INLINE T det(const Mat<T, 2>& a) {
  return a(0, 0) * a(1, 1) - a(0, 1) * a(1, 0);
}
template <class T>
DUCTILE_HD DUCTILE_INLINE T det(const Mat<T, 3>& a) {
  return a(0, 0) * (a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1)) -
         a(0, 1) * (a(1, 0) * a(2, 2) - a(1, 2) * a(2, 0)) +
         a(0, 2) * (a(1, 0) * a(2, 1) - a(1, 1) * a(2, 0));
}
template <class T>
DUCTILE_HD DUCTILE_INLINE Mat<T, 2> cofactor(const Mat<T, 2>& a) {
  Mat<T, 2> c;
  c(0, 0) = a(1, 1);
  c(0, 1) = -a(1, 0);
  c(1, 0) = -a(0, 1);
  c(1, 1) = a(0, 0);
  return c;
}
template <class T>
DUCTILE_HD DUCTILE_INLINE Mat<T, 3> cofactor(const Mat<T, 3>& a) {
  Mat<T, 3> c;
  c(0, 0) = a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1);
  c(0, 1) = a(1, 2) * a(2, 0) - a(1, 0) * a(2, 2);
  c(0, 2) = a(1, 0) * a(2, 1) - a(1, 1) * a(2, 0);
  c(1, 0) = a(0, 2) * a(2, 1) - a(0, 1) * a(2, 2);
  c(1, 1) = a(0, 0) * a(2, 2) - a(0, 2) * a(2, 0);
  c(1, 2) = a(0, 1) * a(2, 0) - a(0, 0) * a(2, 1);
  c(2, 0) = a(0, 1) * a(1, 2) - a(0, 2) * a(1, 1);
  c(2, 1) = a(0, 2) * a(1, 0) - a(0, 0) * a(1, 2);
  c(2, 2) = a(0, 0) * a(1, 1) - a(0, 1) * a(1, 0);
  return c;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE void adj_det(const Mat<T, D>& a, T adj_ret, Mat<T, D>& adj_a) {
  adj_a = adj_a + adj_ret * cofactor(a);
}

}  // namespace ductile
