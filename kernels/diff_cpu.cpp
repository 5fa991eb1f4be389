// CPU half of the gradient engine: OpenMP loops; scatters ordered by slabs of two cells along x.
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

namespace ductile {

namespace {

struct PlainAdd {
  template <class T>
  void operator()(T* p, T v) const {
    *p += v;
  }
};

template <class T, int D>
class CpuDiffBackend final : public DiffBackend<T, D> {
 public:
  Device device() const override { return Device::kCpu; }

  void order(const T* x, int n, const GridSpec<T, D>& spec) override {
    // counting sort by slab (stable: index order within a slab)
    const int slabs = (spec.res[0] + 1) / 2 + 1;
    slab_.resize(n);
    begin_.assign(slabs + 1, 0);
    for (int p = 0; p < n; ++p) {
      const T xr = (x[p] - spec.origin[0]) * spec.inv_dx;
      int s = floor_int(xr - T(0.5)) / 2;
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
    const int64_t nodes = k.g.spec.num_nodes();
    std::fill(k.g.mass, k.g.mass + nodes, T(0));
    std::fill(k.g.mv, k.g.mv + nodes * D, T(0));
    scatter([&](int i) { k(i, PlainAdd{}); });
  }

  void grid_update(const GridUpdate<T, D>& k) override { cpu_parallel_for(k.g.spec.num_nodes(), k); }

  void g2p(const G2P<T, D>& k) override {
    cpu_parallel_for(k.in.n, [&](int64_t i) { k(int(i)); });
  }

  void g2p_adjoint(const G2PAdjoint<T, D>& k) override {
    std::fill(k.adj_grid_v, k.adj_grid_v + k.g.spec.num_nodes() * D, T(0));
    scatter([&](int i) { k(i, PlainAdd{}); });
  }

  void grid_update_adjoint(const GridUpdateAdjoint<T, D>& k, int P, T* params) override {
    const int64_t rows = k.rows();
    cpu_parallel_for(rows, k);
    // fixed-order sum of the rows' partial sums
    for (int j = 0; j < P; ++j) {
      T s = 0;
      for (int64_t r = 0; r < rows; ++r) s += k.row_params[r * P + j];
      params[j] += s;
    }
  }

  void p2g_adjoint(const P2GAdjoint<T, D>& k) override {
    cpu_parallel_for(k.fwd.p.n, [&](int64_t i) { k(int(i)); });
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
