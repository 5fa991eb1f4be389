// 3DGS PLY splats: reading and checking, covariances Sigma = R S S R^T, deformation Sigma' = F Sigma F^T.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "core/io/gaussian_splats.h"
#include "core/io/ply.h"
#include "io/temp_dir.h"

using namespace ductile;

namespace {

// n random Gaussians with SH degree 1 (f_rest_0..8) in the 3DGS column order.
io::PointTable random_gaussians(int n, unsigned seed) {
  io::PointTable t;
  t.names = {"x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"};
  for (int i = 0; i < 9; ++i) t.names.push_back("f_rest_" + std::to_string(i));
  for (const char* c : {"opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"})
    t.names.push_back(c);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  t.count = size_t(n);
  for (int r = 0; r < n; ++r)
    for (const auto& name : t.names) {
      float v = u(rng);
      if (name.rfind("scale_", 0) == 0) v = -4 + 0.5f * v;  // standard deviations of about 1 cm
      t.values.push_back(v);
    }
  return t;
}

double max_abs(const io::Mat3d& a) {
  double m = 0;
  for (const auto& row : a)
    for (double v : row) m = std::max(m, std::fabs(v));
  return m;
}

}  // namespace

TEST_CASE("splats: read, deformed by F = I and written back, every Gaussian is identical") {
  test::TempDir dir;
  const io::PointTable src = random_gaussians(50, 1);
  io::write_ply(dir.file("in.ply"), src);
  const io::PointTable t = io::read_gaussians(dir.file("in.ply"));
  REQUIRE(t.count == 50);
  std::vector<int> rows;
  std::vector<float> x, F;
  for (int r = 0; r < 50; ++r) {
    rows.push_back(r);
    for (const char* c : {"x", "y", "z"}) x.push_back(t.at(size_t(r), t.column(c)));
    for (int e = 0; e < 9; ++e) F.push_back(e % 4 == 0 ? 1.0f : 0.0f);
  }
  io::Mat3d I{};
  for (int i = 0; i < 3; ++i) I[size_t(i)][size_t(i)] = 1;
  io::write_ply(dir.file("out.ply"), io::deform_gaussians(t, rows, I, x, F));
  const io::PointTable back = io::read_gaussians(dir.file("out.ply"));
  CHECK(back.names == src.names);
  CHECK(back.values == src.values);
}

TEST_CASE("splats: a known F gives the covariance F Sigma F^T to 1e-6, positions follow the particles") {
  const io::PointTable t = random_gaussians(40, 2);
  const double Fd[3][3] = {{1.3, 0.2, -0.1}, {0.05, 0.8, 0.3}, {-0.2, 0.1, 1.1}};
  io::Mat3d A{};  // a placement: scale 0.5 and a rotation about z
  const double c = std::cos(0.3), s = std::sin(0.3);
  A[0] = {0.5 * c, -0.5 * s, 0}, A[1] = {0.5 * s, 0.5 * c, 0}, A[2] = {0, 0, 0.5};
  std::vector<int> rows;
  std::vector<float> x, F;
  for (int r = 0; r < 40; r += 2) {  // every other Gaussian, as when later objects cover some
    rows.push_back(r);
    x.insert(x.end(), {0.1f * r, 0.2f, -0.3f});
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) F.push_back(float(Fd[i][j]));
  }
  const io::PointTable out = io::deform_gaussians(t, rows, A, x, F);
  REQUIRE(out.count == rows.size());
  for (size_t k = 0; k < rows.size(); ++k) {
    const io::Mat3d S = io::gaussian_covariance(t, size_t(rows[k]));
    const io::Mat3d D = io::gaussian_covariance(out, k);
    // expected M S M^T with M = F A (F as stored, in float)
    double M[3][3] = {}, E[3][3] = {};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        for (int l = 0; l < 3; ++l) M[i][j] += double(float(Fd[i][l])) * A[size_t(l)][size_t(j)];
    io::Mat3d diff{};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) {
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) E[i][j] += M[i][a] * S[size_t(a)][size_t(b)] * M[j][b];
        diff[size_t(i)][size_t(j)] = D[size_t(i)][size_t(j)] - E[i][j];
      }
    double scale = 0;
    for (int i = 0; i < 3; ++i) scale = std::max(scale, std::fabs(E[i][i]));
    CHECK(max_abs(diff) <= 1e-6 * scale);
    CHECK(out.at(k, out.column("x")) == x[3 * k]);
    CHECK(out.at(k, out.column("z")) == x[3 * k + 2]);
    // everything else carried through
    for (const char* col : {"f_dc_1", "f_rest_4", "opacity", "nx"})
      CHECK(out.at(k, out.column(col)) == t.at(size_t(rows[k]), t.column(col)));
  }
}

TEST_CASE("splats: decompose_covariance inverts covariance_of") {
  const double s[3] = {-3.0, -4.5, -2.2}, q[4] = {0.8, 0.1, -0.5, 0.3};
  const io::Mat3d S = io::covariance_of(s, q);
  double s2[3], q2[4];
  io::decompose_covariance(S, s2, q2);
  const io::Mat3d S2 = io::covariance_of(s2, q2);
  io::Mat3d d{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) d[size_t(i)][size_t(j)] = S2[size_t(i)][size_t(j)] - S[size_t(i)][size_t(j)];
  CHECK(max_abs(d) <= 1e-12 * max_abs(S));
}

TEST_CASE("splats: bad files are refused naming the file and what is wrong") {
  test::TempDir dir;
  io::PointTable t = random_gaussians(5, 3);
  // a missing property
  io::PointTable m = t;
  const int k = m.column("scale_1");
  m.names[size_t(k)] = "scale_x";
  io::write_ply(dir.file("missing.ply"), m);
  CHECK_THROWS_WITH(io::read_gaussians(dir.file("missing.ply")),
                    doctest::Contains("missing.ply: not a 3D Gaussian splat PLY: the vertex element has no "
                                      "'scale_1' property"));
  // a NaN
  io::PointTable n = t;
  n.values[2 * n.names.size() + 4] = std::nanf("");
  io::write_ply(dir.file("nan.ply"), n);
  CHECK_THROWS_WITH(io::read_gaussians(dir.file("nan.ply")), doctest::Contains("nan.ply: vertex 2: ny is"));
  // a zero quaternion
  io::PointTable z = t;
  for (const char* c : {"rot_0", "rot_1", "rot_2", "rot_3"})
    z.values[3 * z.names.size() + size_t(z.column(c))] = 0;
  io::write_ply(dir.file("zero.ply"), z);
  CHECK_THROWS_WITH(io::read_gaussians(dir.file("zero.ply")),
                    doctest::Contains("zero.ply: vertex 3: rot_0..3 is the zero quaternion"));
  // a huge log-scale
  io::PointTable h = t;
  h.values[1 * h.names.size() + size_t(h.column("scale_2"))] = 80;
  io::write_ply(dir.file("huge.ply"), h);
  CHECK_THROWS_WITH(io::read_gaussians(dir.file("huge.ply")),
                    doctest::Contains("huge.ply: vertex 1: scale_2"));
  // not a PLY, and an empty one
  test::write_text(dir.file("text.ply"), "hello\n");
  CHECK_THROWS_WITH(io::read_gaussians(dir.file("text.ply")), doctest::Contains("text.ply"));
  io::PointTable e = t;
  e.count = 0, e.values.clear();
  io::write_ply(dir.file("empty.ply"), e);
  CHECK_THROWS_WITH(io::read_gaussians(dir.file("empty.ply")),
                    doctest::Contains("empty.ply: holds no Gaussians"));
}
