// The gradient engine's CPU transfers (kernels/diff_cpu.cpp, stencil rows as vectors, kernels/diff_rows.h)
// against the per-node functors of kernels/p2g.h and kernels/g2p.h (which test_kernel_adjoints.cpp checks
// against finite differences and the GPU runs), in double precision, 2D and 3D: P2G with an external force,
// G2P, the G2P adjoint (with the kept v and C, and gathering again) and the P2G adjoint, on random
// particles, some of them with stencils ending at the grid's last node along the last axis (rows that
// cannot be moved as four lanes). Both compute the same sums in another order: relative error 1e-12.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "adjoint_fd.h"
#include "kernels/diff_backend.h"

using namespace ductile;
using namespace ductile::kadj;

namespace {

double max_rel_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double scale = 0, diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    scale = std::max(scale, std::fabs(b[i]));
    diff = std::max(diff, std::fabs(a[i] - b[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

template <int D>
void check_rows(Rng& rng) {
  GridSpec<double, D> g;
  g.origin = Vec<double, D>::zero();
  g.dx = 0.1, g.inv_dx = 10;
  for (int d = 0; d < D; ++d) g.res[d] = 10;
  const int64_t nodes = g.num_nodes();
  const int n = 300;
  // stencil bases 1..7 per axis (7 = res - 3: the last node of the last axis), fx in [0.55, 1.45]
  std::vector<double> x;
  for (int d = 0; d < D; ++d)
    for (int p = 0; p < n; ++p) {
      const int base = p % 5 == 0 && d == D - 1 ? 7 : 1 + int(uniform(rng, 0, 6.99));
      x.push_back((base + uniform(rng, 0.55, 1.45)) * g.dx);
    }
  std::vector<double> v = randn(rng, D * n), C = randn(rng, D * D * n), F = randn(rng, D * D * n, 0.1);
  for (int d = 0; d < D; ++d)
    for (int p = 0; p < n; ++p) F[(d * D + d) * n + p] += 1;
  std::vector<double> plastic(n, 1.0), vol0(n, std::pow(0.05, D)), mass, tau = randn(rng, D * D * n, 2e3);
  for (int p = 0; p < n; ++p) mass.push_back(1000 * vol0[p] * uniform(rng, 0.5, 1.5));
  std::vector<double> force = randn(rng, D * n, 10.0);
  ParticleView<double, D> pv{n,           x.data(),    v.data(), C.data(), F.data(), plastic.data(),
                             mass.data(), vol0.data(), nullptr};
  auto backend = make_cpu_diff_backend<double, D>();
  backend->order(x.data(), n, g);
  const auto add = [](double* p, double val) { *p += val; };

  // P2G with a force
  std::vector<double> gm(nodes), gmv(D * nodes), gm_ref(nodes), gmv_ref(D * nodes);
  P2G<double, D> p2g{pv, tau.data(), GridView<double, D>{g, gm.data(), gmv.data()}, 0.01, nullptr};
  p2g.force = force.data();
  backend->p2g(p2g);
  P2G<double, D> ref = p2g;
  ref.g = GridView<double, D>{g, gm_ref.data(), gmv_ref.data()};
  for (int i = 0; i < n; ++i) ref(i, add);
  CHECK(max_rel_diff(gm, gm_ref) < 1e-12);
  CHECK(max_rel_diff(gmv, gmv_ref) < 1e-12);

  // G2P on random node velocities
  const std::vector<double> node_v = randn(rng, D * nodes);
  GridView<double, D> gv{g, gm.data(), const_cast<double*>(node_v.data())};
  std::vector<double> out[2][4];
  std::vector<double> out_plastic[2];
  Vec<double, D> lo, hi;
  for (int d = 0; d < D; ++d) lo[d] = -1, hi[d] = 2;
  for (int k = 0; k < 2; ++k) {
    out[k][0].resize(D * n), out[k][1].resize(D * n), out[k][2].resize(D * D * n),
        out[k][3].resize(D * D * n);
    out_plastic[k].resize(n);
    ParticleView<double, D> po{n,
                               out[k][0].data(),
                               out[k][1].data(),
                               out[k][2].data(),
                               out[k][3].data(),
                               out_plastic[k].data(),
                               nullptr,
                               nullptr,
                               nullptr};
    G2P<double, D> g2p{gv, pv, po, 0.01, lo, hi, nullptr};
    if (k == 0)
      backend->g2p(g2p);
    else
      for (int i = 0; i < n; ++i) g2p(i);
  }
  for (int f = 0; f < 4; ++f) CHECK(max_rel_diff(out[0][f], out[1][f]) < 1e-12);

  // G2P adjoint, with the kept v and C and gathering again
  std::vector<double> ax_out = randn(rng, D * n), av_out = randn(rng, D * n), aC_out = randn(rng, D * D * n);
  std::vector<double> aF_out = randn(rng, D * D * n);
  ParticleView<double, D> adj_out{n,       ax_out.data(), av_out.data(), aC_out.data(), aF_out.data(),
                                  nullptr, nullptr,       nullptr,       nullptr};
  for (bool kept : {true, false}) {
    CAPTURE(kept);
    std::vector<double> ax[2], aF[2], agv[2];
    for (int k = 0; k < 2; ++k) {
      ax[k] = std::vector<double>(D * n, 0.5), aF[k] = std::vector<double>(D * D * n, 0.25);
      agv[k].assign(D * nodes, 0.0);
      G2PAdjoint<double, D> ga{gv, pv, 0.01, adj_out, ax[k].data(), aF[k].data(), agv[k].data()};
      if (kept) ga.fwd_v = out[1][1].data(), ga.fwd_C = out[1][2].data();
      if (k == 0)
        backend->g2p_adjoint(ga);
      else
        for (int i = 0; i < n; ++i) ga(i, add);
    }
    CHECK(max_rel_diff(ax[0], ax[1]) < 1e-12);
    CHECK(max_rel_diff(aF[0], aF[1]) < 1e-12);
    CHECK(max_rel_diff(agv[0], agv[1]) < 1e-12);
  }

  // P2G adjoint from random node adjoints, with the force
  const std::vector<double> agm = randn(rng, nodes), agmv = randn(rng, D * nodes);
  std::vector<double> res[2][6];
  for (int k = 0; k < 2; ++k) {
    res[k][0].assign(D * n, 0.5), res[k][1].assign(D * n, 0.5), res[k][2].assign(D * D * n, 0.5);
    res[k][3].assign(D * D * n, 0.5), res[k][4].assign(D * n, 0.5), res[k][5].assign(n, 0.5);
    P2GAdjoint<double, D> pa{p2g,
                             agm.data(),
                             agmv.data(),
                             res[k][0].data(),
                             res[k][1].data(),
                             res[k][2].data(),
                             res[k][3].data(),
                             res[k][4].data(),
                             res[k][5].data()};
    if (k == 0)
      backend->p2g_adjoint(pa);
    else
      for (int i = 0; i < n; ++i) pa(i);
  }
  for (int f = 0; f < 6; ++f) {
    CAPTURE(f);
    CHECK(max_rel_diff(res[0][f], res[1][f]) < 1e-12);
  }
}

}  // namespace

TEST_CASE("diff rows: the CPU gradient engine's row transfers and adjoints match the per-node functors") {
  Rng rng(11);
  check_rows<2>(rng);
  check_rows<3>(rng);
}
