// Transfers of the CPU backend in double precision: P2G conserves mass and linear momentum, G2P reproduces an
// affine grid velocity field exactly (APIC), P2G -> G2P conserves angular momentum (Jiang et al. 2015, "The
// affine particle-in-cell method", sec. 5.3), and the backend's vectorized rows agree with the node-by-node
// functors the GPU runs.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <type_traits>
#include <vector>

#include "kernels/backend.h"

using namespace ductile;

namespace {

// Random particles (positions, velocities, affine fields, masses) in the middle of a small grid.
template <int D>
struct Setup {
  GridSpec<double, D> spec;
  int n = 0;
  std::vector<double> x, v, C, F, plastic, mass, vol0, tau;
  std::vector<int32_t> material, id;
  std::vector<double> gm, gmv;  // grid mass and momentum / velocity

  explicit Setup(int count, int res = 20, unsigned seed = 3) : n(count) {
    spec.dx = 0.05;
    spec.inv_dx = 1 / spec.dx;
    for (int d = 0; d < D; ++d) spec.origin[d] = -0.1 * (d + 1), spec.res[d] = res;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0, 1), s(-1, 1);
    x.resize(D * n), v.resize(D * n), C.resize(D * D * n), F.assign(D * D * n, 0.0);
    plastic.assign(n, 1.0), mass.resize(n), vol0.assign(n, 1e-4), tau.assign(D * D * n, 0.0);
    material.assign(n, 0), id.resize(n);
    const double lo = 3 * spec.dx, hi = (res - 4) * spec.dx;  // keep stencils inside the grid
    for (int p = 0; p < n; ++p) {
      for (int d = 0; d < D; ++d) x[d * n + p] = spec.origin[d] + lo + (hi - lo) * u(rng);
      for (int d = 0; d < D; ++d) v[d * n + p] = s(rng);
      for (int k = 0; k < D * D; ++k) C[k * n + p] = 10 * s(rng);
      for (int d = 0; d < D; ++d) F[(d * D + d) * n + p] = 1;
      mass[p] = 0.5 + u(rng);
      id[p] = p;
    }
    gm.assign(spec.num_nodes(), 0.0);
    gmv.assign(spec.num_nodes() * D, 0.0);
  }
  ParticleView<double, D> view() {
    return {n,           x.data(),    v.data(),       C.data(), F.data(), plastic.data(),
            mass.data(), vol0.data(), material.data()};
  }
  GridView<double, D> grid() { return {spec, gm.data(), gmv.data()}; }
  Vec<double, D> node(int64_t idx) const {
    int c[D];
    for (int d = D - 1; d >= 0; --d) c[d] = int(idx % spec.res[d]), idx /= spec.res[d];
    return spec.node_position(c);
  }
};

// Output particle arrays for G2P.
template <int D>
struct Out {
  std::vector<double> x, v, C, F, plastic, mass, vol0;
  std::vector<int32_t> material, id;
  explicit Out(int n)
      : x(D * n),
        v(D * n),
        C(D * D * n),
        F(D * D * n),
        plastic(n),
        mass(n),
        vol0(n),
        material(n),
        id(n, -1) {}
  ParticleView<double, D> view(int n) {
    return {n,           x.data(),    v.data(),       C.data(), F.data(), plastic.data(),
            mass.data(), vol0.data(), material.data()};
  }
};

// Angular momentum of a particle with affine field C: m (x cross v) + m dx^2/4 eps_abc C_cb (in 2D the z
// part).
template <int D>
std::vector<double> angular(const double* x, const double* v, const double* C, int n, int p, double m,
                            double dx) {
  auto at = [&](const double* a, int k) { return a[k * n + p]; };
  const double q = m * dx * dx / 4;
  if (D == 2) return {m * (at(x, 0) * at(v, 1) - at(x, 1) * at(v, 0)) + q * (at(C, 2) - at(C, 1))};
  auto c = [&](int i, int j) { return at(C, i * 3 + j); };
  return {m * (at(x, 1) * at(v, 2) - at(x, 2) * at(v, 1)) + q * (c(2, 1) - c(1, 2)),
          m * (at(x, 2) * at(v, 0) - at(x, 0) * at(v, 2)) + q * (c(0, 2) - c(2, 0)),
          m * (at(x, 0) * at(v, 1) - at(x, 1) * at(v, 0)) + q * (c(1, 0) - c(0, 1))};
}

}  // namespace

TEST_CASE_TEMPLATE("transfer: P2G conserves mass and linear momentum", Dim, std::integral_constant<int, 2>,
                   std::integral_constant<int, 3>) {
  constexpr int D = Dim::value;
  Setup<D> s(500);
  auto backend = make_cpu_backend<double, D>();
  backend->p2g(P2G<double, D>{s.view(), s.tau.data(), s.grid(), 1e-3});
  double m_p = 0, m_g = 0;
  for (int p = 0; p < s.n; ++p) m_p += s.mass[p];
  for (double m : s.gm) m_g += m;
  CHECK(m_g == doctest::Approx(m_p).epsilon(1e-13));
  // the affine term adds nothing: sum_i w_ip (x_i - x_p) = 0
  for (int d = 0; d < D; ++d) {
    double p_p = 0, p_g = 0, scale = 0;
    for (int p = 0; p < s.n; ++p) p_p += s.mass[p] * s.v[d * s.n + p], scale += s.mass[p];
    for (int64_t i = 0; i < s.spec.num_nodes(); ++i) p_g += s.gmv[d * s.spec.num_nodes() + i];
    CHECK(std::fabs(p_g - p_p) <= 1e-12 * scale);
  }
}

TEST_CASE_TEMPLATE("transfer: G2P reproduces an affine velocity field (APIC)", Dim,
                   std::integral_constant<int, 2>, std::integral_constant<int, 3>) {
  constexpr int D = Dim::value;
  Setup<D> s(300);
  auto backend = make_cpu_backend<double, D>();
  backend->p2g(P2G<double, D>{s.view(), s.tau.data(), s.grid(), 1e-3});  // orders the particles
  // grid velocity v(x) = b + M x at every node
  double b[D], M[D][D];
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(-2, 2);
  for (int i = 0; i < D; ++i) {
    b[i] = u(rng);
    for (int j = 0; j < D; ++j) M[i][j] = u(rng);
  }
  const int64_t nodes = s.spec.num_nodes();
  for (int64_t i = 0; i < nodes; ++i) {
    Vec<double, D> xi = s.node(i);
    for (int a = 0; a < D; ++a) {
      double va = b[a];
      for (int c = 0; c < D; ++c) va += M[a][c] * xi[c];
      s.gmv[a * nodes + i] = va;
    }
  }
  Out<D> o(s.n);
  Status status;
  G2P<double, D> k{
      s.grid(), s.view(), o.view(s.n), 0.0, Vec<double, D>::constant(-10), Vec<double, D>::constant(10),
      &status};
  k.out_mass = o.mass.data(), k.out_vol0 = o.vol0.data(), k.out_material = o.material.data();
  k.in_id = s.id.data(), k.out_id = o.id.data();
  backend->g2p(k);
  CHECK(status.bits == 0);
  std::vector<int> seen(s.n, 0);
  for (int q = 0; q < s.n; ++q) {
    const int p = o.id[q];
    REQUIRE(p >= 0);
    REQUIRE(p < s.n);
    ++seen[p];
    CHECK(o.mass[q] == s.mass[p]);
    for (int a = 0; a < D; ++a) {
      double va = b[a];
      for (int c = 0; c < D; ++c) va += M[a][c] * s.x[c * s.n + p];
      CHECK(o.v[a * s.n + q] == doctest::Approx(va).epsilon(1e-12).scale(1));
      CHECK(o.x[a * s.n + q] == s.x[a * s.n + p]);  // dt = 0: no motion
      for (int c = 0; c < D; ++c)
        CHECK(o.C[(a * D + c) * s.n + q] == doctest::Approx(M[a][c]).epsilon(1e-10));
    }
  }
  for (int p = 0; p < s.n; ++p) CHECK(seen[p] == 1);  // a permutation
}

TEST_CASE_TEMPLATE("transfer: APIC P2G -> G2P conserves angular momentum", Dim,
                   std::integral_constant<int, 2>, std::integral_constant<int, 3>) {
  constexpr int D = Dim::value;
  Setup<D> s(400);
  auto backend = make_cpu_backend<double, D>();
  const double dx = s.spec.dx;
  const int na = D == 3 ? 3 : 1;
  std::vector<double> before(na, 0.0), grid(na, 0.0), after(na, 0.0);
  for (int p = 0; p < s.n; ++p) {
    auto l = angular<D>(s.x.data(), s.v.data(), s.C.data(), s.n, p, s.mass[p], dx);
    for (int a = 0; a < na; ++a) before[a] += l[a];
  }
  backend->p2g(P2G<double, D>{s.view(), s.tau.data(), s.grid(), 1e-3});
  // grid angular momentum sum_i x_i x (m v)_i, then velocities v_i = (m v)_i / m_i
  const int64_t nodes = s.spec.num_nodes();
  for (int64_t i = 0; i < nodes; ++i) {
    Vec<double, D> xi = s.node(i);
    double p[3] = {0, 0, 0};
    for (int d = 0; d < D; ++d) p[d] = s.gmv[d * nodes + i];
    if (D == 2)
      grid[0] += xi[0] * p[1] - xi[1] * p[0];
    else {
      grid[0] += xi[1] * p[2] - xi[D - 1] * p[1];
      grid[1] += xi[D - 1] * p[0] - xi[0] * p[2];
      grid[2] += xi[0] * p[1] - xi[1] * p[0];
    }
    for (int d = 0; d < D; ++d) s.gmv[d * nodes + i] = s.gm[i] > 0 ? p[d] / s.gm[i] : 0.0;
  }
  Out<D> o(s.n);
  Status status;
  G2P<double, D> k{
      s.grid(), s.view(), o.view(s.n), 0.0, Vec<double, D>::constant(-10), Vec<double, D>::constant(10),
      &status};
  k.out_mass = o.mass.data(), k.in_id = s.id.data(), k.out_id = o.id.data();
  backend->g2p(k);
  for (int q = 0; q < s.n; ++q) {
    auto l = angular<D>(o.x.data(), o.v.data(), o.C.data(), s.n, q, o.mass[q], dx);
    for (int a = 0; a < na; ++a) after[a] += l[a];
  }
  double scale = 0;
  for (int p = 0; p < s.n; ++p) scale += s.mass[p] * 2;  // |x| |v| <= ~2 per unit mass
  for (int a = 0; a < na; ++a) {
    CAPTURE(a);
    CHECK(std::fabs(grid[a] - before[a]) <= 1e-12 * scale);
    CHECK(std::fabs(after[a] - grid[a]) <= 1e-12 * scale);
  }
}

TEST_CASE_TEMPLATE("transfer: the CPU backend's rows match the node-by-node functors", Dim,
                   std::integral_constant<int, 2>, std::integral_constant<int, 3>) {
  constexpr int D = Dim::value;
  // particles also in the grid's last cells along the fast axis (the rows read and written lane by lane
  // there)
  Setup<D> s(600, 12, 5);
  for (int p = 0; p < s.n; p += 5)
    s.x[(D - 1) * s.n + p] = s.spec.origin[D - 1] + (s.spec.res[D - 1] - 2.0) * s.spec.dx;
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> u(-1e3, 1e3);
  for (double& t : s.tau) t = u(rng);
  auto backend = make_cpu_backend<double, D>();
  P2G<double, D> k{s.view(), s.tau.data(), s.grid(), 1e-3};
  backend->p2g(k);
  std::vector<double> gm(s.gm.size(), 0.0), gmv(s.gmv.size(), 0.0);
  P2G<double, D> ref{s.view(), s.tau.data(), {s.spec, gm.data(), gmv.data()}, 1e-3};
  for (int p = 0; p < s.n; ++p) ref(p, [](double* dst, double val) { *dst += val; });
  double mscale = 0, pscale = 0;
  for (size_t i = 0; i < gm.size(); ++i) mscale = std::max(mscale, std::fabs(gm[i]));
  for (size_t i = 0; i < gmv.size(); ++i) pscale = std::max(pscale, std::fabs(gmv[i]));
  for (size_t i = 0; i < gm.size(); ++i) CHECK(std::fabs(s.gm[i] - gm[i]) <= 1e-13 * mscale);
  for (size_t i = 0; i < gmv.size(); ++i) CHECK(std::fabs(s.gmv[i] - gmv[i]) <= 1e-13 * pscale);
  // G2P on that momentum field (any field will do)
  Out<D> o(s.n), r(s.n);
  Status status;
  const auto lo = Vec<double, D>::constant(-10), hi = Vec<double, D>::constant(10);
  G2P<double, D> g{s.grid(), s.view(), o.view(s.n), 1e-3, lo, hi, &status};
  g.out_id = o.id.data(), g.in_id = s.id.data();
  backend->g2p(g);
  G2P<double, D> gr{s.grid(), s.view(), r.view(s.n), 1e-3, lo, hi, &status};
  for (int p = 0; p < s.n; ++p) gr(p);
  double vscale = 0, cscale = 0;
  for (double x : r.v) vscale = std::max(vscale, std::fabs(x));
  for (double x : r.C) cscale = std::max(cscale, std::fabs(x));
  for (int q = 0; q < s.n; ++q) {
    const int p = o.id[q];
    for (int a = 0; a < D; ++a) {
      CHECK(std::fabs(o.v[a * s.n + q] - r.v[a * s.n + p]) <= 1e-13 * vscale);
      CHECK(std::fabs(o.x[a * s.n + q] - r.x[a * s.n + p]) <= 1e-13);
      for (int c = 0; c < D; ++c)
        CHECK(std::fabs(o.C[(a * D + c) * s.n + q] - r.C[(a * D + c) * s.n + p]) <= 1e-12 * cscale);
    }
  }
}
