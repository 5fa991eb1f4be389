// Singular value and polar decompositions of small matrices, host and device.
//
// F = U diag(sigma) V^T with U, V rotations (det = +1), sigma sorted by decreasing magnitude and only the
// last one allowed to be negative (det F < 0), the convention of Irving et al. 2004 used by MPM codes.
// Computed by one-sided (Hestenes) Jacobi on the columns of F, which never forms F^T F and so keeps float
// accuracy for well-separated and repeated singular values alike.
#pragma once

#include <cmath>

#include "core/math.h"

namespace ductile {

template <class T, int D>
struct Svd {
  Mat<T, D> U;
  Vec<T, D> sigma;
  Mat<T, D> V;
};

namespace detail {

// Swaps columns p and q of A and V and negates the new column q of both, keeping det V = +1 and A = F V.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE void swap_columns(Mat<T, D>& A, Mat<T, D>& V, Vec<T, D>& n2, int p, int q) {
  for (int i = 0; i < D; ++i) {
    T a = A(i, p), v = V(i, p);
    A(i, p) = A(i, q);
    V(i, p) = V(i, q);
    A(i, q) = -a;
    V(i, q) = -v;
  }
  T t = n2[p];
  n2[p] = n2[q];
  n2[q] = t;
}

// A unit vector orthogonal to the unit vector u (3D).
template <class T>
DUCTILE_HD DUCTILE_INLINE Vec<T, 3> any_orthogonal(const Vec<T, 3>& u) {
  Vec<T, 3> a = std::fabs(u[0]) < T(0.6) ? Vec<T, 3>{{T(1), T(0), T(0)}} : Vec<T, 3>{{T(0), T(1), T(0)}};
  Vec<T, 3> r = a - dot(a, u) * u;
  return T(1) / norm(r) * r;
}

}  // namespace detail

// One-sided Jacobi SVD.
template <class T, int D>
DUCTILE_HD inline Svd<T, D> svd(const Mat<T, D>& F) {
  Mat<T, D> A = F;
  Mat<T, D> V = Mat<T, D>::identity();
  const T eps = sizeof(T) == 4 ? T(1e-7) : T(1e-15);
  // Jacobi sweeps: rotate column pairs until they are mutually orthogonal.
  for (int sweep = 0; sweep < 12; ++sweep) {
    bool rotated = false;
    for (int p = 0; p < D - 1; ++p)
      for (int q = p + 1; q < D; ++q) {
        T alpha = 0, beta = 0, gamma = 0;
        for (int i = 0; i < D; ++i) {
          alpha += A(i, p) * A(i, p);
          beta += A(i, q) * A(i, q);
          gamma += A(i, p) * A(i, q);
        }
        if (std::fabs(gamma) <= eps * std::sqrt(alpha * beta) || gamma == T(0)) continue;
        rotated = true;
        T zeta = (beta - alpha) / (T(2) * gamma);
        T t = (zeta >= 0 ? T(1) : T(-1)) / (std::fabs(zeta) + std::sqrt(T(1) + zeta * zeta));
        T c = T(1) / std::sqrt(T(1) + t * t), s = c * t;
        for (int i = 0; i < D; ++i) {
          T ap = A(i, p), aq = A(i, q);
          A(i, p) = c * ap - s * aq;
          A(i, q) = s * ap + c * aq;
          T vp = V(i, p), vq = V(i, q);
          V(i, p) = c * vp - s * vq;
          V(i, q) = s * vp + c * vq;
        }
      }
    if (!rotated) break;
  }
  // Sort columns by decreasing norm (selection sort; each swap keeps det V = +1).
  Vec<T, D> n2;
  for (int j = 0; j < D; ++j) {
    n2[j] = 0;
    for (int i = 0; i < D; ++i) n2[j] += A(i, j) * A(i, j);
  }
  for (int p = 0; p < D - 1; ++p) {
    int best = p;
    for (int q = p + 1; q < D; ++q)
      if (n2[q] > n2[best]) best = q;
    if (best != p) detail::swap_columns(A, V, n2, p, best);
  }
  // U from the normalized columns, completed to a rotation; the last singular value carries the sign.
  Svd<T, D> r;
  r.V = V;
  Vec<T, D> u0;
  T s0 = std::sqrt(n2[0]);
  for (int i = 0; i < D; ++i) u0[i] = s0 > T(0) ? A(i, 0) / s0 : (i == 0 ? T(1) : T(0));
  if constexpr (D == 2) {
    Vec<T, 2> u1{{-u0[1], u0[0]}};
    for (int i = 0; i < 2; ++i) {
      r.U(i, 0) = u0[i];
      r.U(i, 1) = u1[i];
    }
    r.sigma[0] = s0;
    r.sigma[1] = u1[0] * A(0, 1) + u1[1] * A(1, 1);
  } else {
    Vec<T, 3> a1{{A(0, 1), A(1, 1), A(2, 1)}};
    Vec<T, 3> u1 = a1 - dot(a1, u0) * u0;
    T n1 = norm(u1);
    u1 = n1 > eps * (s0 + T(1e-30)) * T(16) ? (T(1) / n1) * u1 : detail::any_orthogonal(u0);
    Vec<T, 3> u2{
        {u0[1] * u1[2] - u0[2] * u1[1], u0[2] * u1[0] - u0[0] * u1[2], u0[0] * u1[1] - u0[1] * u1[0]}};
    for (int i = 0; i < 3; ++i) {
      r.U(i, 0) = u0[i];
      r.U(i, 1) = u1[i];
      r.U(i, 2) = u2[i];
    }
    r.sigma[0] = s0;
    r.sigma[1] = dot(u1, a1);
    r.sigma[2] = u2[0] * A(0, 2) + u2[1] * A(1, 2) + u2[2] * A(2, 2);
  }
  return r;
}

// Rotation of the polar decomposition F = R S.
template <class T, int D>
DUCTILE_HD inline Mat<T, D> polar_rotation(const Svd<T, D>& s) {
  return s.U * transpose(s.V);
}

// Reassembles U diag(sigma) V^T.
template <class T, int D>
DUCTILE_HD inline Mat<T, D> compose(const Mat<T, D>& U, const Vec<T, D>& sigma, const Mat<T, D>& V) {
  Mat<T, D> r;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      T s = 0;
      for (int k = 0; k < D; ++k) s += U(i, k) * sigma[k] * V(j, k);
      r(i, j) = s;
    }
  return r;
}

}  // namespace ductile

namespace ductile {

// Adjoint of the polar rotation R = U V^T (Higham 2008, "Functions of Matrices", sec. 8.1; the form of
// McAdams et al. 2011, "Efficient elasticity for character skinning", sec. 4): with M = U^T dF V,
// dR = U W V^T with W_ij = (M_ij - M_ji) / (sigma_i + sigma_j) for i != j and W_ii = 0. Transposing gives
// adj_F = U A V^T with A_ij = (B_ij - B_ji) / (sigma_i + sigma_j), B = U^T adj_R V. Only sums of singular
// values appear, so repeated singular values (F = I included) are regular; a sum that vanishes (an inverted
// element folded flat) is clamped to +-kPolarEps and the adjoint stays finite.
template <class T, int D>
DUCTILE_HD inline void adj_polar_rotation(const Svd<T, D>& s, const Mat<T, D>& adj_R, Mat<T, D>& adj_F) {
  const T kPolarEps = sizeof(T) == 4 ? T(1e-6) : T(1e-12);
  Mat<T, D> B = transpose(s.U) * adj_R * s.V;
  Mat<T, D> A = Mat<T, D>::zero();
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) {
      if (i == j) continue;
      T den = s.sigma[i] + s.sigma[j];
      if (std::fabs(den) < kPolarEps) den = den < 0 ? -kPolarEps : kPolarEps;
      A(i, j) = (B(i, j) - B(j, i)) / den;
    }
  adj_F = adj_F + s.U * A * transpose(s.V);
}

// Adjoint of the singular values: d sigma_i = (U^T dF V)_ii, so adj_F = U diag(adj_sigma) V^T.
template <class T, int D>
DUCTILE_HD inline void adj_singular_values(const Svd<T, D>& s, const Vec<T, D>& adj_sigma, Mat<T, D>& adj_F) {
  adj_F = adj_F + compose(s.U, adj_sigma, s.V);
}

}  // namespace ductile
