// Adjoints of the polar rotation and singular values against central finite differences (double).
#include <doctest/doctest.h>

#include <random>

#include "core/svd.h"

using namespace ductile;

namespace {

template <int D>
Mat<double, D> random_mat(std::mt19937& rng, double spread) {
  std::uniform_real_distribution<double> u(-spread, spread);
  Mat<double, D> m;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) m(i, j) = u(rng);
  return m;
}

// Checks <adj_R, dR/dF [dF]> = <adj_F, dF> for random directions by central differences.
template <int D>
void check_polar(const Mat<double, D>& F, std::mt19937& rng) {
  Mat<double, D> adj_R = random_mat<D>(rng, 1.0), dF = random_mat<D>(rng, 1.0);
  Mat<double, D> adj_F = Mat<double, D>::zero();
  adj_polar_rotation(svd(F), adj_R, adj_F);
  const double h = 1e-6;
  double fd =
      (ddot(adj_R, polar_rotation(svd(F + h * dF))) - ddot(adj_R, polar_rotation(svd(F - h * dF)))) / (2 * h);
  double an = ddot(adj_F, dF);
  CHECK(an == doctest::Approx(fd).epsilon(1e-6).scale(1.0));
}

template <int D>
void check_sigma(const Mat<double, D>& F, std::mt19937& rng) {
  Vec<double, D> adj_s;
  for (int d = 0; d < D; ++d) adj_s[d] = std::uniform_real_distribution<double>(-1, 1)(rng);
  Mat<double, D> dF = random_mat<D>(rng, 1.0), adj_F = Mat<double, D>::zero();
  adj_singular_values(svd(F), adj_s, adj_F);
  const double h = 1e-6;
  Vec<double, D> sp = svd(F + h * dF).sigma, sm = svd(F - h * dF).sigma;
  double fd = 0;
  for (int d = 0; d < D; ++d) fd += adj_s[d] * (sp[d] - sm[d]) / (2 * h);
  CHECK(ddot(adj_F, dF) == doctest::Approx(fd).epsilon(1e-6).scale(1.0));
}

}  // namespace

TEST_CASE("svd adjoint: polar rotation matches finite differences (random, stretched, compressed)") {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    Mat<double, 3> F3 = Mat<double, 3>::identity() + random_mat<3>(rng, 0.6);
    Mat<double, 2> F2 = Mat<double, 2>::identity() + random_mat<2>(rng, 0.6);
    if (det(F3) > 0.05) check_polar<3>(F3, rng);
    if (det(F2) > 0.05) check_polar<2>(F2, rng);
    check_sigma<3>(Mat<double, 3>::identity() + random_mat<3>(rng, 0.6), rng);
    check_sigma<2>(Mat<double, 2>::identity() + random_mat<2>(rng, 0.6), rng);
  }
  // strongly stretched and compressed
  check_polar<3>(Mat<double, 3>::diag({{3.0, 0.2, 1.5}}), rng);
  check_polar<2>(Mat<double, 2>::diag({{0.1, 4.0}}), rng);
}

TEST_CASE("svd adjoint: finite and exact at repeated singular values, F = I included") {
  std::mt19937 rng(5);
  // at F = I the polar derivative is the skew part: dR = (dF - dF^T) / 2
  Mat<double, 3> adj_R = random_mat<3>(rng, 1.0), adj_F = Mat<double, 3>::zero();
  adj_polar_rotation(svd(Mat<double, 3>::identity()), adj_R, adj_F);
  Mat<double, 3> expect = 0.5 * (adj_R - transpose(adj_R));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) CHECK(adj_F(i, j) == doctest::Approx(expect(i, j)).epsilon(1e-12));
  // repeated pair with a rotation applied
  Mat<double, 3> Q = polar_rotation(svd(Mat<double, 3>::identity() + random_mat<3>(rng, 0.5)));
  check_polar<3>(Q * Mat<double, 3>::diag({{2.0, 2.0, 0.5}}), rng);
  check_polar<3>(Q * Mat<double, 3>::identity(), rng);
}
