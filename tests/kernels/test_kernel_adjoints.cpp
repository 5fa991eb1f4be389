// Adjoints of the particle-to-grid and grid-to-particle transfers (kernels/p2g.h, kernels/g2p.h) against
// central finite differences in double precision, in 2D and 3D:
//   - stencil_weight's weight and its gradient in fx;
//   - P2GAdjoint (which gathers through adj_p2g_particle) in x, v, C, tau, mass and the external force, with
//     and without a force: adj_x, adj_v, adj_C, adj_force and adj_mass accumulate, adj_tau is overwritten;
//   - dot-product identities between scatter_particle and adj_p2g_particle: the scattered momentum is linear
//     in (v, C, tau, e) and everything scattered is homogeneous of degree one in (m, tau, e), so the adjoint
//     paired with those inputs must reproduce <grid cotangent, scatter> to round-off;
//   - G2PAdjoint (whose node scatter is scatter_particle) in the input x, F and the node velocities, for all
//     of its outputs x, v, C and trial F.
// Particles sit at least 0.05 cells from the knots of the quadratic B-spline (fx = 0.5, 1.5), where the
// weights are only C1; between knots everything is polynomial in x and a central difference is exact up to
// round-off, so every group is held to a relative error of 1e-6 (fd_error in adjoint_fd.h).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "adjoint_fd.h"
#include "kernels/g2p.h"
#include "kernels/p2g.h"

using namespace ductile;
using namespace ductile::kadj;

namespace {

const auto add = [](double* p, double v) { *p += v; };

// 12^D nodes spaced 0.1 from the origin.
template <int D>
GridSpec<double, D> small_grid() {
  GridSpec<double, D> g;
  g.origin = Vec<double, D>::zero();
  g.dx = 0.1;
  g.inv_dx = 10;
  for (int d = 0; d < D; ++d) g.res[d] = 12;
  return g;
}

// Random particles whose stencils overlap (base nodes 4..6 per axis) with fx in [0.55, 1.45]: v ~ 1 m/s,
// C ~ 1/s, F near I, a stress whose affine momentum matches m C, a force giving about 1 m/s per step.
template <int D>
struct Particles {
  GridSpec<double, D> spec = small_grid<D>();
  int n = 0;
  std::vector<double> x, v, C, F, plastic, mass, vol0, tau, force;

  Particles(Rng& rng, int count) : n(count) {
    for (int i = 0; i < D * n; ++i)
      x.push_back((4 + int(uniform(rng, 0, 3)) + uniform(rng, 0.55, 1.45)) * spec.dx);
    v = randn(rng, D * n);
    C = randn(rng, D * D * n);
    F = randn(rng, D * D * n, 0.1);
    for (int d = 0; d < D; ++d)
      for (int p = 0; p < n; ++p) F[(d * D + d) * n + p] += 1;
    plastic.assign(n, 1.0);
    vol0.assign(n, std::pow(0.5 * spec.dx, D));
    for (int p = 0; p < n; ++p) mass.push_back(1000 * vol0[p] * uniform(rng, 0.5, 1.5));
    tau = randn(rng, D * D * n, 2.5e3);
    force = randn(rng, D * n, 1e3 * mass[0]);
  }
  ParticleView<double, D> view() {
    return ParticleView<double, D>{n,           x.data(),    v.data(), C.data(), F.data(), plastic.data(),
                                   mass.data(), vol0.data(), nullptr};
  }
};

std::vector<double> concat(std::initializer_list<const std::vector<double>*> parts) {
  std::vector<double> r;
  for (const auto* p : parts) r.insert(r.end(), p->begin(), p->end());
  return r;
}

template <int D>
void check_stencil_weight(Rng& rng) {
  const GridSpec<double, D> spec = small_grid<D>();
  for (int trial = 0; trial < 4; ++trial) {
    Vec<double, D> x;
    for (int d = 0; d < D; ++d) x[d] = (5 + uniform(rng, 0.55, 1.45)) * spec.dx;
    const Stencil<double, D> st = bspline_stencil(spec, x);
    const double h = 1e-6;  // in cells
    for_each_stencil_node(st, spec.dx, [&](const int* o, double w_ref, const Vec<double, D>&) {
      double dw[D];
      const double w = stencil_weight<double, D>(st.w, st.dw, o, dw);
      CHECK(w == doctest::Approx(w_ref).epsilon(1e-14));
      for (int d = 0; d < D; ++d) {
        double wpm[2], unused[D];
        for (int s = 0; s < 2; ++s) {
          Vec<double, D> xs = x;
          xs[d] += (s ? -h : h) * spec.dx;
          const Stencil<double, D> ss = bspline_stencil(spec, xs);
          wpm[s] = stencil_weight<double, D>(ss.w, ss.dw, o, unused);
        }
        const double fd = (wpm[0] - wpm[1]) / (2 * h);
        CHECK(std::fabs(dw[d] - fd) <= 1e-6 * std::fmax(std::fabs(dw[d]), 1e-3));
      }
    });
  }
}

template <int D>
void check_p2g(bool with_force) {
  Rng rng(100 + 10 * D + with_force);
  Particles<D> p(rng, 6);
  const double dt = 1e-3;
  const int n = p.n;
  const int64_t nodes = p.spec.num_nodes();
  std::vector<double> gmass(nodes), gmv(D * nodes);
  auto kernel = [&] {
    P2G<double, D> k{p.view(), p.tau.data(), GridView<double, D>{p.spec, gmass.data(), gmv.data()}, dt};
    k.force = with_force ? p.force.data() : nullptr;
    return k;
  };
  const Forward fwd = [&] {
    std::fill(gmass.begin(), gmass.end(), 0.0);
    std::fill(gmv.begin(), gmv.end(), 0.0);
    const P2G<double, D> k = kernel();
    for (int i = 0; i < n; ++i) k(i, add);
    return concat({&gmass, &gmv});
  };
  const std::vector<double> cot = randn(rng, size_t((D + 1) * nodes));
  // accumulated adjoints start from random values (subtracted below); adj_tau is written, so it starts NaN
  const auto x0 = randn(rng, D * n), v0 = randn(rng, D * n), C0 = randn(rng, D * D * n);
  const auto f0 = randn(rng, D * n), m0 = randn(rng, n);
  std::vector<double> ax = x0, av = v0, aC = C0, af = f0, am = m0;
  std::vector<double> atau(D * D * n, std::numeric_limits<double>::quiet_NaN());
  const P2GAdjoint<double, D> adj{kernel(),  cot.data(), cot.data() + nodes, ax.data(),
                                  av.data(), aC.data(),  atau.data(),        with_force ? af.data() : nullptr,
                                  am.data()};
  for (int i = 0; i < n; ++i) adj(i);
  subtract(ax, x0), subtract(av, v0), subtract(aC, C0), subtract(af, f0), subtract(am, m0);
  if (!with_force)
    for (double a : af) CHECK(a == 0.0);

  const std::string tag = "p2g " + std::to_string(D) + "D" + (with_force ? " force" : "") + ": ";
  check_group(tag + "x", inputs(p.x), ax, 0.5 * p.spec.dx, cot, fwd, rng);
  check_group(tag + "v", inputs(p.v), av, 1, cot, fwd, rng);
  check_group(tag + "C", inputs(p.C), aC, 1, cot, fwd, rng);
  check_group(tag + "tau", inputs(p.tau), atau, 2.5e3, cot, fwd, rng);
  check_group(tag + "mass", inputs(p.mass), am, 0.3 * p.mass[0], cot, fwd, rng);
  if (with_force) check_group(tag + "force", inputs(p.force), af, 1e3 * p.mass[0], cot, fwd, rng);
}

// <grid cotangent, scatter(p2g_particle + e)> against the adjoints of adj_p2g_particle paired with the
// inputs in which the scatter is linear (v, C, tau, e for the momentum) or homogeneous (m, tau, e for all).
template <int D>
void check_scatter_gather(Rng& rng) {
  Particles<D> p(rng, 4);
  const double dt = 1e-3;
  const int n = p.n;
  const int64_t nodes = p.spec.num_nodes();
  for (int i = 0; i < n; ++i) {
    const auto x = load_vec<double, D>(p.x.data(), n, i), v = load_vec<double, D>(p.v.data(), n, i);
    const auto C = load_mat<double, D>(p.C.data(), n, i), tau = load_mat<double, D>(p.tau.data(), n, i);
    const auto e = load_vec<double, D>(p.force.data(), n, i);
    const double m = p.mass[i], vol0 = p.vol0[i];
    P2GParticle<double, D> pp = p2g_particle(p.spec, dt, x, v, C, tau, m, vol0);
    for (int k = 0; k < D; ++k) pp.q[k] += e[k];
    std::vector<double> gmass(nodes, 0.0), gmv(D * nodes, 0.0);
    scatter_particle(pp, p.spec, gmass.data(), gmv.data(), add);
    const auto cmass = randn(rng, nodes), cmv = randn(rng, D * nodes);
    Vec<double, D> ax = Vec<double, D>::zero(), av = ax, ae = ax;
    Mat<double, D> aC = Mat<double, D>::zero(), at = aC;
    double am = 0;
    adj_p2g_particle(
        p.spec, dt, x, v, C, tau, m, vol0, e,
        [&](const int* c, double& m_adj, Vec<double, D>& q_adj) {
          const int64_t idx = p.spec.index(c);
          m_adj = cmass[idx];
          for (int k = 0; k < D; ++k) q_adj[k] = cmv[k * nodes + idx];
        },
        ax, av, aC, at, ae, am);
    double size = 0;
    for (int64_t j = 0; j < nodes; ++j) {
      size += std::fabs(cmass[j] * gmass[j]);
      for (int k = 0; k < D; ++k) size += std::fabs(cmv[k * nodes + j] * gmv[k * nodes + j]);
    }
    const double f_mass = dot(cmass, gmass), f_mv = dot(cmv, gmv);
    const double linear = dot(av, v) + ddot(aC, C) + ddot(at, tau) + dot(ae, e);
    const double homogeneous = am * m + ddot(at, tau) + dot(ae, e);
    CHECK(std::fabs(f_mv - linear) <= 1e-12 * size);
    CHECK(std::fabs(f_mass + f_mv - homogeneous) <= 1e-12 * size);
  }
}

template <int D>
void check_g2p() {
  Rng rng(200 + D);
  Particles<D> p(rng, 6);
  const double dt = 5e-3;
  const int n = p.n;
  const int64_t nodes = p.spec.num_nodes();
  std::vector<double> gmass(nodes, 1.0), gv = randn(rng, D * nodes);
  std::vector<double> ox(D * n), ov(D * n), oC(D * D * n), oF(D * D * n), oplastic(n);
  Status status;
  auto kernel = [&] {
    G2P<double, D> k;
    k.g = GridView<double, D>{p.spec, gmass.data(), gv.data()};
    k.in = p.view();
    k.out = ParticleView<double, D>{n, ox.data(), ov.data(), oC.data(), oF.data(), oplastic.data()};
    k.dt = dt;
    k.lo = Vec<double, D>::zero();
    k.hi = Vec<double, D>::constant(1.1);
    k.status = &status;
    return k;
  };
  const Forward fwd = [&] {
    const G2P<double, D> k = kernel();
    for (int i = 0; i < n; ++i) k(i);
    return concat({&ox, &ov, &oC, &oF});
  };
  const auto cx = randn(rng, D * n), cv = randn(rng, D * n), cC = randn(rng, D * D * n, 0.1);
  const auto cF = randn(rng, D * D * n);
  std::vector<double> cxm = cx, cvm = cv, cCm = cC, cFm = cF;
  const ParticleView<double, D> adj_out{n, cxm.data(), cvm.data(), cCm.data(), cFm.data()};
  // the adjoints accumulate: they start from random values, subtracted below
  const auto x0 = randn(rng, D * n), F0 = randn(rng, D * D * n), gv0 = randn(rng, D * nodes);
  std::vector<double> ax = x0, aF = F0, agv = gv0;
  const G2P<double, D> k = kernel();
  const G2PAdjoint<double, D> adj{k.g, k.in, dt, adj_out, ax.data(), aF.data(), agv.data()};
  for (int i = 0; i < n; ++i) adj(i, add);
  subtract(ax, x0), subtract(aF, F0), subtract(agv, gv0);

  const std::vector<double> cot = concat({&cx, &cv, &cC, &cF});
  const std::string tag = "g2p " + std::to_string(D) + "D: ";
  check_group(tag + "x", inputs(p.x), ax, 0.5 * p.spec.dx, cot, fwd, rng);
  check_group(tag + "F", inputs(p.F), aF, 0.1, cot, fwd, rng);
  check_group(tag + "grid velocity", inputs(gv), agv, 1, cot, fwd, rng);
  CHECK(status.bits == 0u);
}

}  // namespace

TEST_CASE("kernel adjoints: stencil_weight's gradient in fx against finite differences") {
  Rng rng(1);
  check_stencil_weight<2>(rng);
  check_stencil_weight<3>(rng);
}

TEST_CASE("kernel adjoints: P2G adjoint against finite differences, without and with an external force") {
  for (bool with_force : {false, true}) {
    CAPTURE(with_force);
    check_p2g<2>(with_force);
    check_p2g<3>(with_force);
  }
}

TEST_CASE("kernel adjoints: scatter_particle and the gather of adj_p2g_particle are transposes") {
  Rng rng(2);
  check_scatter_gather<2>(rng);
  check_scatter_gather<3>(rng);
}

TEST_CASE("kernel adjoints: G2P adjoint against finite differences") {
  check_g2p<2>();
  check_g2p<3>();
}
