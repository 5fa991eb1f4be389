// CPU half of the gradient engine: OpenMP loops; scatters ordered by slabs of two cells along x; grid work
// limited to the box of nodes the particles touch; the transfers and their adjoints move stencil rows as
// vectors (kernels/diff_rows.h).
//
// A particle whose stencil starts in slab s (base_x / 2) touches nodes [2s, 2s + 3] along x, so slabs s and
// s + 2 never share a node: the even slabs, then the odd slabs, are scattered in parallel, each slab's
// particles in index order. Every node adds its contributions in an order that does not depend on the number
// of threads.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"
#include "kernels/diff_backend.h"
#include "kernels/diff_rows.h"

namespace ductile {

namespace {

template <class T, int D>
class CpuDiffBackend final : public DiffBackend<T, D> {
 public:
  Device device() const override { return Device::kCpu; }

  void order(const T* x, int n, const GridSpec<T, D>& spec) override {
    spec_ = spec;
    // counting sort by slab (stable: index order within a slab), and the box of nodes the stencils touch
    const int slabs = (spec.res[0] + 1) / 2 + 1;
    slab_.resize(n);
    begin_.assign(slabs + 1, 0);
    for (int d = 0; d < D; ++d) box_.lo[d] = spec.res[d], box_.hi[d] = -1;
    for (int p = 0; p < n; ++p) {
      for (int d = 0; d < D; ++d) {
        const int b = floor_int((x[size_t(d) * n + p] - spec.origin[d]) * spec.inv_dx - T(0.5));
        box_.lo[d] = std::min(box_.lo[d], std::max(b, 0));
        box_.hi[d] = std::max(box_.hi[d], std::min(b + 2, spec.res[d] - 1));
      }
      int s = floor_int((x[p] - spec.origin[0]) * spec.inv_dx - T(0.5)) / 2;
      s = std::min(std::max(s, 0), slabs - 1);
      slab_[p] = s;
      ++begin_[s + 1];
    }
    for (int s = 0; s < slabs; ++s) begin_[s + 1] += begin_[s];
    order_.resize(n);
    std::vector<int> fill(begin_.begin(), begin_.end() - 1);
    for (int p = 0; p < n; ++p) order_[fill[slab_[p]]++] = p;
  }

  void p2g(const P2G<T, D>& k) override {
    clear_box(k.g.mass, 1);
    clear_box(k.g.mv, D);
    scatter([&](int i) {
      const P2GParticle<T, D> pp = k.particle(i);
      if (!stencil_inside(k.g.spec, pp.base)) {
        if (k.status) raise_status(k.status, kStatusOutOfDomain, i, kStageP2G);
        return;
      }
      rows::scatter(pp, k.g.spec, k.g.mass, k.g.mv);
    });
  }

  void grid_update(const GridUpdate<T, D>& k) override {
    for_box_rows([&](int64_t row, int z0, int z1) {
      const int64_t len = spec_.res[D - 1];
      for (int z = z0; z <= z1; ++z) k(row * len + z);
    });
  }

  void g2p(const G2P<T, D>& k) override {
    cpu_parallel_for(k.in.n, [&](int64_t i) { g2p_particle(k, int(i)); });
  }

  void trial_F(const TrialF<T, D>& k) override { cpu_parallel_for(k.n, k); }

  void g2p_adjoint(const G2PAdjoint<T, D>& k) override {
    clear_box(k.adj_grid_v, D);
    scatter([&](int i) { g2p_adjoint_particle(k, i); });
  }

  void grid_update_adjoint(const GridUpdateAdjoint<T, D>& k, int P, T* params) override {
    GridUpdateAdjoint<T, D> kb = k;
    kb.z_lo = box_.lo[D - 1], kb.z_hi = box_.hi[D - 1];
    for_box_rows([&](int64_t row, int, int) { kb(row); });
    // fixed-order sum of the box rows' partial sums
    std::vector<T> sum(size_t(P), T(0));
    for_box_rows_serial([&](int64_t row) {
      for (int j = 0; j < P; ++j) sum[size_t(j)] += k.row_params[row * P + j];
    });
    for (int j = 0; j < P; ++j) params[j] += sum[size_t(j)];
  }

  void p2g_adjoint(const P2GAdjoint<T, D>& k) override {
    cpu_parallel_for(k.fwd.p.n, [&](int64_t i) { p2g_adjoint_particle(k, int(i)); });
  }

  void actuation(const Actuation<T, D>& k) override {
    cpu_parallel_for(k.n, [&](int64_t i) { k(int(i)); });
  }
  void actuation_adjoint(const ActuationAdjoint<T, D>& k) override {
    cpu_parallel_for(k.fwd.n, [&](int64_t i) { k(int(i)); });
  }

  void check_finite(const T* const* fields, const int* widths, int count, int n, uint32_t stage,
                    Status* status) override {
    cpu_parallel_for(n, [&](int64_t p) {
      for (int f = 0; f < count; ++f)
        for (int c = 0; c < widths[f]; ++c)
          if (!std::isfinite(fields[f][int64_t(c) * n + p])) {
            raise_status(status, kStatusNonFinite, int32_t(p), stage);
            return;
          }
    });
  }

  Status fetch_status(Status* s) override {
    Status r = *s;
    *s = Status{};
    return r;
  }

 private:
  // G2P of particle i (kernels/g2p.h, G2P::operator()) with the gather by rows.
  static void g2p_particle(const G2P<T, D>& k, int i) {
    const Vec<T, D> x = load_vec<T, D>(k.in.x, k.in.n, i);
    const Stencil<T, D> st = bspline_stencil(k.g.spec, x);
    Vec<T, D> v = Vec<T, D>::zero();
    Mat<T, D> S = Mat<T, D>::zero();
    if (stencil_inside(k.g.spec, st.base))
      rows::gather(st, k.g.spec, k.g.mv, v, S);
    else
      raise_status(k.status, kStatusOutOfDomain, i, kStageG2P);
    k.finish(i, i, x, v, k.affine(v, S, st.fx));
    k.carry(i, i);
  }

  // Adjoint of G2P for particle i (kernels/g2p.h, G2PAdjoint::operator()) with the grid work by rows.
  static void g2p_adjoint_particle(const G2PAdjoint<T, D>& k, int i) {
    const int n = k.in.n;
    const GridSpec<T, D>& spec = k.g.spec;
    const Vec<T, D> x = load_vec<T, D>(k.in.x, n, i);
    const Stencil<T, D> st = bspline_stencil(spec, x);
    if (!stencil_inside(spec, st.base)) return;  // the forward pass raised kStatusOutOfDomain
    // the gathered v and C: kept by the forward pass, or gathered again
    Vec<T, D> v = Vec<T, D>::zero();
    Mat<T, D> C;
    if (k.fwd_v) {
      v = load_vec<T, D>(k.fwd_v, n, i);
      C = load_mat<T, D>(k.fwd_C, n, i);
    } else {
      Mat<T, D> S = Mat<T, D>::zero();
      rows::gather(st, spec, k.g.mv, v, S);
      C = g2p_affine(spec.inv_dx, v, S, st.fx);
    }
    const Mat<T, D> F = load_mat<T, D>(k.in.F, n, i);
    const Mat<T, D> aFn = load_mat<T, D>(k.adj_out.F, n, i);
    // advection and trial F
    Vec<T, D> ax = load_vec<T, D>(k.adj_out.x, n, i);
    Vec<T, D> av = load_vec<T, D>(k.adj_out.v, n, i) + k.dt * ax;
    const Mat<T, D> aC = load_mat<T, D>(k.adj_out.C, n, i) + k.dt * (aFn * transpose(F));
    const Mat<T, D> aF = aFn + k.dt * (transpose(C) * aFn);
    // C from v and S
    const T kk = T(4) * spec.inv_dx;
    const Mat<T, D> aS = kk * aC;
    T afx[D] = {};
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) {
        av[a] -= kk * aC(a, b) * (st.fx[b] - T(1));
        afx[b] -= kk * aC(a, b) * v[a];
      }
    // the node velocities' adjoints and the gather's weights
    rows::adj_gather(st, spec, k.g.mv, av, aS, k.adj_grid_v, afx);
    for (int d = 0; d < D; ++d) ax[d] += spec.inv_dx * afx[d];
    store_vec<T, D>(k.adj_x, n, i, load_vec<T, D>(k.adj_x, n, i) + ax);
    store_mat<T, D>(k.adj_F, n, i, load_mat<T, D>(k.adj_F, n, i) + aF);
  }

  // Adjoint of P2G for particle i (kernels/p2g.h, P2GAdjoint and adj_p2g_particle) with the gather by rows.
  static void p2g_adjoint_particle(const P2GAdjoint<T, D>& k, int i) {
    const P2G<T, D>& fwd = k.fwd;
    const GridSpec<T, D>& g = fwd.g.spec;
    const int n = fwd.p.n;
    const Vec<T, D> x = load_vec<T, D>(fwd.p.x, n, i), v = load_vec<T, D>(fwd.p.v, n, i);
    const Stencil<T, D> st = bspline_stencil(g, x);
    if (!stencil_inside(g, st.base)) return;  // the forward pass raised kStatusOutOfDomain
    const Mat<T, D> C = load_mat<T, D>(fwd.p.C, n, i);
    const T m = fwd.p.mass[i], vol0 = fwd.p.vol0[i];
    const P2GParticle<T, D> pp = fwd.particle(i);  // q includes dt times the external force
    const T scale = -fwd.dt * vol0 * T(4) * g.inv_dx * g.inv_dx;
    const Mat<T, D> affine = g.inv_dx * pp.A;
    // gather the node adjoints over the stencil's rows
    Vec<T, D> adj_q;
    Mat<T, D> adj_A;
    T adj_mass = 0, adj_fx[D] = {};
    rows::adj_scatter(pp, st, g, k.adj_grid_mass, k.adj_grid_mv, adj_q, adj_A, adj_mass, adj_fx);
    // q = m v + e + affine (1 - fx) dx, A = affine dx
    Vec<T, D> av = load_vec<T, D>(k.adj_v, n, i);
    Mat<T, D> adj_affine = g.dx * adj_A;
    for (int a = 0; a < D; ++a) {
      av[a] += m * adj_q[a];
      adj_mass += v[a] * adj_q[a];
      for (int b = 0; b < D; ++b) {
        adj_affine(a, b) += adj_q[a] * (T(1) - st.fx[b]) * g.dx;
        adj_fx[b] -= adj_q[a] * affine(a, b) * g.dx;
      }
    }
    // affine = scale tau + m C; fx = (x - origin) / dx - base
    adj_mass += ddot(adj_affine, C);
    Vec<T, D> ax = load_vec<T, D>(k.adj_x, n, i);
    for (int d = 0; d < D; ++d) ax[d] += g.inv_dx * adj_fx[d];
    store_vec<T, D>(k.adj_x, n, i, ax);
    store_vec<T, D>(k.adj_v, n, i, av);
    store_mat<T, D>(k.adj_C, n, i, load_mat<T, D>(k.adj_C, n, i) + m * adj_affine);
    store_mat<T, D>(k.adj_tau, n, i, scale * adj_affine);
    if (k.adj_force)
      for (int c = 0; c < D; ++c) k.adj_force[c * n + i] += fwd.dt * adj_q[c];
    k.adj_mass[i] += adj_mass;
  }

  // Runs fn(i) for every particle, even slabs then odd slabs, each slab in index order.
  template <class Fn>
  void scatter(const Fn& fn) {
    const int slabs = int(begin_.size()) - 1;
    for (int color = 0; color < 2; ++color) {
      const int count = (slabs - color + 1) / 2;
#pragma omp parallel for schedule(dynamic, 1) if (begin_.back() >= 256)
      for (int j = 0; j < count; ++j) {
        const int s = color + 2 * j;
        for (int q = begin_[s]; q < begin_[s + 1]; ++q) fn(order_[q]);
      }
    }
  }

  // Rows of the box along the last axis: fn(row index in the whole grid, first z, last z), in parallel over
  // x.
  template <class Fn>
  void for_box_rows(const Fn& fn) const {
    const int x0 = box_.lo[0], x1 = box_.hi[0];
    if (x1 < x0) return;
    const int y0 = D == 3 ? box_.lo[1] : 0, y1 = D == 3 ? box_.hi[1] : 0;
#pragma omp parallel for schedule(static) if (x1 - x0 >= 8)
    for (int x = x0; x <= x1; ++x)
      for (int y = y0; y <= y1; ++y)
        fn(D == 3 ? int64_t(x) * spec_.res[1] + y : int64_t(x), box_.lo[D - 1], box_.hi[D - 1]);
  }
  template <class Fn>
  void for_box_rows_serial(const Fn& fn) const {
    const int y0 = D == 3 ? box_.lo[1] : 0, y1 = D == 3 ? box_.hi[1] : 0;
    for (int x = box_.lo[0]; x <= box_.hi[0]; ++x)
      for (int y = y0; y <= y1; ++y) fn(D == 3 ? int64_t(x) * spec_.res[1] + y : int64_t(x));
  }
  // Zeroes the box in each of `width` node arrays of a (component c at c * nodes).
  void clear_box(T* a, int width) const {
    const int64_t nodes = spec_.num_nodes(), len = spec_.res[D - 1];
    for_box_rows([&](int64_t row, int z0, int z1) {
      for (int c = 0; c < width; ++c)
        std::fill(a + c * nodes + row * len + z0, a + c * nodes + row * len + z1 + 1, T(0));
    });
  }

  // Nodes [lo, hi] per axis that this step's stencils touch: every node read this step lies inside, and
  // every array is written there before it is read, so what older steps left outside is never seen.
  struct Box {
    int lo[D], hi[D];
  };
  Box box_{};
  GridSpec<T, D> spec_{};
  std::vector<int> slab_, begin_, order_;
};

}  // namespace

template <class T, int D>
std::unique_ptr<DiffBackend<T, D>> make_cpu_diff_backend() {
  return std::make_unique<CpuDiffBackend<T, D>>();
}

template std::unique_ptr<DiffBackend<float, 2>> make_cpu_diff_backend<float, 2>();
template std::unique_ptr<DiffBackend<float, 3>> make_cpu_diff_backend<float, 3>();
template std::unique_ptr<DiffBackend<double, 2>> make_cpu_diff_backend<double, 2>();
template std::unique_ptr<DiffBackend<double, 3>> make_cpu_diff_backend<double, 3>();

}  // namespace ductile
