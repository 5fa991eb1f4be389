// CPU backend: OpenMP loops. Particle-to-grid is race-free and deterministic: particles are ordered by cell,
// grouped into slabs of kSlab cells along x, and the even slabs then the odd slabs are scattered in parallel,
// each slab sequentially; slabs of one color never touch the same node, so no atomics are needed and the
// sums are the same for any thread count.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/parallel_for.h"
#include "kernels/backend.h"

namespace ductile {

namespace {

constexpr int kSlab = 4;  // cells per slab along x; >= 3 keeps same-colored slabs' stencils apart

template <class T, int D>
class CpuBackend final : public Backend<T, D> {
 public:
  Device device() const override { return Device::kCpu; }

  void p2g(const P2G<T, D>& k) override {
    const auto& spec = k.g.spec;
    const int64_t nodes = spec.num_nodes();
    // clear the grid
    std::memset(k.g.mass, 0, sizeof(T) * nodes);
    std::memset(k.g.mv, 0, sizeof(T) * nodes * D);
    sort_by_cell(k.p, spec);
    // scatter slab colors in turn
    const int slabs = int(slab_begin_.size()) - 1;
    auto add = [](T* dst, T val) { *dst += val; };
    for (int color = 0; color < 2; ++color) {
#pragma omp parallel for schedule(dynamic, 1)
      for (int s = color; s < slabs; s += 2)
        for (int q = slab_begin_[s]; q < slab_begin_[s + 1]; ++q) k(order_[q], add);
    }
  }

  void grid_update(const GridUpdate<T, D>& k) override { cpu_parallel_for(k.g.spec.num_nodes(), k); }

  void g2p(const G2P<T, D>& k) override {
    const int32_t* order = order_.data();
    const int n = k.in.n;
    if (int(order_.size()) != n) fail("cpu backend", "g2p called before p2g ordered the particles");
    cpu_parallel_for(n, [&](int64_t q) { k(order[q]); });
  }

  Status fetch_status(Status* s) override {
    Status r = *s;
    *s = Status{};
    return r;
  }

 private:
  // Orders particles by the cell of their stencil base (x slowest), ties by index, and finds slab ranges.
  void sort_by_cell(const ParticleView<T, D>& p, const GridSpec<T, D>& spec) {
    const int n = p.n;
    const int nx = spec.res[0];
    keys_.resize(n);
    cpu_parallel_for(n, [&](int64_t i) {
      int c[D];
      for (int d = 0; d < D; ++d) {
        int b = int(std::floor((p.x[d * n + i] - spec.origin[d]) * spec.inv_dx - T(0.5)));
        c[d] = std::min(std::max(b, 0), spec.res[d] - 1);
      }
      keys_[i] = spec.index(c);
    });
    // counting sort by x slice
    const int64_t slice = spec.num_nodes() / nx;
    counts_.assign(nx + 1, 0);
    for (int i = 0; i < n; ++i) ++counts_[keys_[i] / slice + 1];
    for (int s = 0; s < nx; ++s) counts_[s + 1] += counts_[s];
    order_.resize(n);
    fill_.assign(counts_.begin(), counts_.end() - 1);
    for (int i = 0; i < n; ++i) order_[fill_[keys_[i] / slice]++] = i;
    // within each slice, by full cell key (stable: index breaks ties)
#pragma omp parallel for schedule(dynamic, 4)
    for (int s = 0; s < nx; ++s)
      std::stable_sort(order_.begin() + counts_[s], order_.begin() + counts_[s + 1],
                       [&](int32_t a, int32_t b) { return keys_[a] < keys_[b]; });
    // slab boundaries
    const int slabs = (nx + kSlab - 1) / kSlab;
    slab_begin_.resize(slabs + 1);
    for (int s = 0; s <= slabs; ++s) slab_begin_[s] = int(counts_[std::min(s * kSlab, nx)]);
  }

  std::vector<int64_t> keys_;
  std::vector<int64_t> counts_, fill_;
  std::vector<int32_t> order_;
  std::vector<int> slab_begin_;
};

}  // namespace

template <class T, int D>
std::unique_ptr<Backend<T, D>> make_cpu_backend() {
  return std::make_unique<CpuBackend<T, D>>();
}

template std::unique_ptr<Backend<float, 2>> make_cpu_backend<float, 2>();
template std::unique_ptr<Backend<float, 3>> make_cpu_backend<float, 3>();
template std::unique_ptr<Backend<double, 2>> make_cpu_backend<double, 2>();
template std::unique_ptr<Backend<double, 3>> make_cpu_backend<double, 3>();

}  // namespace ductile
