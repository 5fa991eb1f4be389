// The nearest rotation of core/polar.h (Newton's polar iteration with an SVD fallback), which the corotated
// stresses use: orthogonal with det +1, R^T F symmetric (so F = R S), and equal to the SVD's U V^T to float
// or double round-off, for F at rest, near a rotation, random, near-degenerate and inverted (2D takes the
// SVD, checked the same way); the batched form gives the same bits as one matrix at a time; which lanes took
// the SVD.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/polar.h"
#include "core/svd.h"
#include "materials/fixed_corotated.h"
#include "materials/snow.h"

using namespace ductile;

namespace {

template <class T>
constexpr double unit_roundoff() {
  return sizeof(T) == 4 ? 5.96e-8 : 1.11e-16;
}

template <class T, int D>
Mat<double, D> to_double(const Mat<T, D>& a) {
  Mat<double, D> r;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) r(i, j) = double(a(i, j));
  return r;
}

// A random rotation (QR of a Gaussian matrix through the SVD in double).
template <int D>
Mat<double, D> random_rotation(std::mt19937_64& rng) {
  std::normal_distribution<double> n;
  Mat<double, D> A;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) A(i, j) = n(rng);
  return polar_rotation(svd(A));
}

// Checks R = nearest_rotation(F) in precision T: orthogonality, det +1, symmetric R^T F, and agreement
// with the double-precision SVD's U V^T of the same (rounded) F within tol_factor unit round-offs scaled by
// the conditioning 1 / min(sigma_i + sigma_j) of the polar factor (signed singular values).
template <class T, int D>
void check_rotation(const Mat<double, D>& F64, double tol_factor) {
  Mat<T, D> F;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) F(i, j) = T(F64(i, j));
  const Mat<double, D> Fd = to_double(F);
  const Mat<double, D> R = to_double(nearest_rotation(F));
  T f[D * D][1], r[D * D][1];
  for (int c = 0; c < D * D; ++c) f[c][0] = F.m[c / D][c % D];
  const bool slow = nearest_rotation_lanes<T, D, 1>(f, r) != 0;
  const Svd<double, D> s = svd(Fd);
  const Mat<double, D> Rref = polar_rotation(s);
  const double u = unit_roundoff<T>();
  // orthogonal, det +1: Newton's lanes within 8 unit round-offs (measured: at most 6), the SVD's within 32
  // (its own level: up to 18 measured, and tests/core/test_svd.cpp allows 34 in float)
  const double orth = slow ? 32 * u : 8 * u;
  const Mat<double, D> O = transpose(R) * R;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) CHECK(std::fabs(O(i, j) - (i == j ? 1.0 : 0.0)) <= orth);
  CHECK(std::fabs(det(R) - 1) <= orth);
  // agreement with U V^T, relative to the polar factor's condition number
  double min_pair = 1e300, scale = 0;
  for (int i = 0; i < D; ++i) {
    scale = std::max(scale, std::fabs(s.sigma[i]));
    for (int j = i + 1; j < D; ++j) min_pair = std::min(min_pair, s.sigma[i] + s.sigma[j]);
  }
  const double cond = scale / min_pair;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) CHECK(std::fabs(R(i, j) - Rref(i, j)) <= tol_factor * u * cond);
  // R^T F symmetric: the polar factorization F = R S (S symmetric)
  const Mat<double, D> S = transpose(R) * Fd;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) CHECK(std::fabs(S(i, j) - S(j, i)) <= tol_factor * u * cond * scale);
}

template <class T, int D>
void check_many() {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> n;
  std::uniform_real_distribution<double> uni(-1.5, 1.5);
  const double tol = 16;
  // rest, and exact rotations
  check_rotation<T, D>(Mat<double, D>::identity(), tol);
  for (int t = 0; t < 20; ++t) check_rotation<T, D>(random_rotation<D>(rng), tol);
  for (int t = 0; t < 300; ++t) {
    const Mat<double, D> Q = random_rotation<D>(rng);
    // near a rotation (MPM's usual F): Newton's path
    for (double dev : {1e-6, 1e-3, 3e-2, 0.1}) {
      Mat<double, D> S;
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) S(i, j) = (i == j ? 1.0 : 0.0) + dev * n(rng);
      check_rotation<T, D>(Q * S, tol);
    }
    // random (many take the SVD)
    Mat<double, D> A;
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) A(i, j) = uni(rng) + (i == j ? 1.0 : 0.0);
    check_rotation<T, D>(A, tol);
    // repeated and nearly repeated singular values
    Vec<double, D> sg = Vec<double, D>::constant(1.0 + 0.2 * uni(rng));
    sg[0] += 1e-6 * n(rng);
    check_rotation<T, D>(Q * Mat<double, D>::diag(sg), tol);
    // inverted: one singular value negative (det < 0)
    Vec<double, D> inv = Vec<double, D>::constant(1);
    for (int d = 0; d < D; ++d) inv[d] = 1 + 0.1 * n(rng);
    inv[D - 1] = -std::fabs(inv[D - 1]) * 0.5;
    check_rotation<T, D>(Q * Mat<double, D>::diag(inv) * transpose(random_rotation<D>(rng)), tol);
    // nearly flat (one tiny singular value)
    Vec<double, D> flat = Vec<double, D>::constant(1);
    flat[D - 1] = 1e-3;
    check_rotation<T, D>(Q * Mat<double, D>::diag(flat) * transpose(random_rotation<D>(rng)), tol);
  }
}

}  // namespace

TEST_CASE_TEMPLATE("nearest rotation: orthogonal, F = R S, equal to the SVD's U V^T to round-off (3D)", T,
                   float, double) {
  check_many<T, 3>();
}

TEST_CASE_TEMPLATE("nearest rotation: orthogonal, F = R S, equal to the SVD's U V^T to round-off (2D)", T,
                   float, double) {
  check_many<T, 2>();
}

TEST_CASE_TEMPLATE(
    "nearest rotation: a batch gives the bits of one matrix at a time, which lanes take the SVD", T, float,
    double) {
  constexpr int L = 16;
  std::mt19937_64 rng(3);
  std::normal_distribution<double> n;
  T F[9][L], R[9][L];
  for (int j = 0; j < L; ++j) {
    const Mat<double, 3> Q = random_rotation<3>(rng);
    Mat<double, 3> S = Mat<double, 3>::identity();
    if (j % 5 == 1)
      for (int c = 0; c < 9; ++c) S.m[c / 3][c % 3] += 0.05 * n(rng);
    if (j % 5 == 2) S(2, 2) = -0.8;  // inverted
    if (j % 5 == 3) S(0, 0) = 1e3;   // stretched beyond kMaxSteps
    if (j % 5 == 4) S(0, 0) = 3;     // stretched: further Newton steps of its own
    const Mat<double, 3> A = Q * S;
    for (int c = 0; c < 9; ++c) F[c][j] = T(A.m[c / 3][c % 3]);
  }
  const uint32_t slow = nearest_rotation_lanes<T, 3, L>(F, R);
  for (int j = 0; j < L; ++j) {
    CAPTURE(j);
    Mat<T, 3> Fj;
    for (int c = 0; c < 9; ++c) Fj.m[c / 3][c % 3] = F[c][j];
    const Mat<T, 3> Rj = nearest_rotation(Fj);
    for (int c = 0; c < 9; ++c) CHECK(R[c][j] == Rj.m[c / 3][c % 3]);
    // rest, deformed and stretched lanes take Newton's path, inverted and extremely stretched ones the SVD
    CHECK(bool(slow >> j & 1u) == (j % 5 == 2 || j % 5 == 3));
  }
  // a NaN lane takes the SVD (and stays NaN), its neighbours do not
  F[0][5] = T(NAN);
  const uint32_t nan_slow = nearest_rotation_lanes<T, 3, L>(F, R);
  CHECK((nan_slow >> 5 & 1u) == 1u);
  CHECK((nan_slow >> 4 & 1u) == 0u);
  CHECK(std::isnan(R[0][5]));
}

TEST_CASE_TEMPLATE("corotated stresses: the batched stress gives the per-particle bits", T, float, double) {
  std::mt19937_64 rng(9);
  std::normal_distribution<double> n;
  const T* F[9];
  const T* C[9];
  T Fs[9][kLaneBatch], zero[kLaneBatch] = {}, plastic[kLaneBatch], tau[9][kLaneBatch];
  for (int c = 0; c < 9; ++c) {
    for (int j = 0; j < kLaneBatch; ++j) Fs[c][j] = T((c % 4 == 0 ? 1.0 : 0.0) + 0.05 * n(rng));
    F[c] = Fs[c];
    C[c] = zero;
  }
  Fs[8][3] = T(-0.5);  // an inverted lane
  for (int j = 0; j < kLaneBatch; ++j) plastic[j] = T(1 + 0.02 * n(rng));
  T prm[kMaxMaterialParams] = {T(1000), T(1e5), T(0.3), T(0.025), T(0.0045), T(10)};
  for (int model = 0; model < 2; ++model) {
    CAPTURE(model);
    if (model == 0)
      FixedCorotated::stress_lanes<T, 3>(prm, F, C, plastic, tau);
    else
      Snow::stress_lanes<T, 3>(prm, F, C, plastic, tau);
    for (int j = 0; j < kLaneBatch; ++j) {
      Mat<T, 3> Fj;
      for (int c = 0; c < 9; ++c) Fj.m[c / 3][c % 3] = Fs[c][j];
      const Mat<T, 3> t = model == 0 ? FixedCorotated::stress<T, 3>(prm, Fj, Mat<T, 3>::zero(), plastic[j])
                                     : Snow::stress<T, 3>(prm, Fj, Mat<T, 3>::zero(), plastic[j]);
      for (int c = 0; c < 9; ++c) CHECK(tau[c][j] == t.m[c / 3][c % 3]);
      // and it is the SVD-based stress to round-off: 2 mu (F - U V^T) F^T + lambda J (J - 1) I
      T mu, lambda;
      lame(prm[1], prm[2], mu, lambda);
      const double h = model == 0 ? 1.0 : double(Snow::hardening_factor(prm, plastic[j]));
      const Mat<double, 3> Fd = to_double(Fj), Rd = polar_rotation(svd(Fd));
      const double J = det(Fd);
      const Mat<double, 3> ref = (2 * double(mu) * h) * ((Fd - Rd) * transpose(Fd)) +
                                 (double(lambda) * h * J * (J - 1)) * Mat<double, 3>::identity();
      for (int c = 0; c < 9; ++c)
        CHECK(std::fabs(double(t.m[c / 3][c % 3]) - ref.m[c / 3][c % 3]) <=
              64 * unit_roundoff<T>() * double(lambda + 2 * mu) * h);
    }
  }
}
