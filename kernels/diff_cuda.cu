// CUDA half of the gradient engine: grid-stride launches of the same functors; scatters add atomically. The
// forward P2G is the simulator's (kernels/cuda_p2g.cuh): particles sorted by block and cell (an order array;
// the tape's slots stay where they are) and summed per cell, or with DUCTILE_CUDA_SORT=0 the plain atomics.
#include "core/cuda_check.h"
#include "core/env.h"
#include "core/memory.h"
#include "kernels/cuda_grid.h"
#include "kernels/cuda_p2g.cuh"
#include "kernels/cuda_sort.cuh"
#include "kernels/diff_backend.h"

namespace ductile {

namespace {

// Launch wrappers: one functor call per index.
template <class K>
struct Scatter {
  K k;
  __device__ void operator()(long long i) const { k(int(i), AtomicAdd{}); }
};
template <class K>
struct PerParticle {
  K k;
  __device__ void operator()(long long i) const { k(int(i)); }
};
template <class T>
struct SumRows {
  const T* rows;
  long long count;
  int P;
  T* params;
  __device__ void operator()(long long j) const {
    T s = 0;
    for (long long r = 0; r < count; ++r) s += rows[r * P + j];
    params[j] += s;
  }
};
template <class T>
struct CheckFinite {
  const T* f[8];
  int w[8];
  int count, n;
  uint32_t stage;
  Status* status;
  __device__ void operator()(long long p) const {
    for (int a = 0; a < count; ++a)
      for (int c = 0; c < w[a]; ++c)
        if (!isfinite(f[a][(long long)c * n + p])) {
          raise_status(status, kStatusNonFinite, int32_t(p), stage);
          return;
        }
  }
};

template <class T, int D>
class CudaDiffBackend final : public DiffBackend<T, D> {
 public:
  // DUCTILE_CUDA_SORT=0: the forward P2G with plain atomics (adaptive sorts every time: the slots never move)
  CudaDiffBackend() {
    sorted_ = env_choice("DUCTILE_CUDA_SORT", {"", "1", "0", "adaptive"}) != "0";
    int dev = 0;
    DUCTILE_CUDA_CHECK(cudaGetDevice(&dev));
    DUCTILE_CUDA_CHECK(cudaDeviceGetAttribute(&sms_, cudaDevAttrMultiProcessorCount, dev));
  }

  Device device() const override { return Device::kCuda; }
  void order(const T*, int, const GridSpec<T, D>&) override {}
  double order_bytes(int n) const override { return sorted_ ? CudaCellSort<T, D>::bytes(n) : 0.0; }
  void p2g(const P2G<T, D>& k) override {
    const long long nodes = k.g.spec.num_nodes();
    DUCTILE_CUDA_CHECK(cudaMemsetAsync(k.g.mass, 0, sizeof(T) * nodes));
    DUCTILE_CUDA_CHECK(cudaMemsetAsync(k.g.mv, 0, sizeof(T) * nodes * D));
    const bool sortable = CudaBlocks<T, D>::of(k.g.spec).count() <= (int64_t(1) << (32 - kCudaCellBits));
    if (!sorted_ || !sortable || k.p.n == 0) return cuda_parallel_for(k.p.n, Scatter<P2G<T, D>>{k});
    // sorted by block and cell, one thread block per run of a grid block (the stress from the tape's tau)
    sort_.sort(k.g.spec, k.p.x, k.p.n);
    const CudaGrid<T, D> grid = CudaGrid<T, D>::dense(k.g, {sort_.blocks(), nullptr, nullptr, nullptr});
    if constexpr (kCellsFit<T, D>)
      launch_p2g_cells(k, StoredStress<T, D>{}, grid, sort_, sort_.order(), nullptr, sms_, CellsMode::kCells);
    else
      launch_p2g_tiled(k, grid, sort_, sort_.order(), nullptr, sms_, true);
  }
  void grid_update(const GridUpdate<T, D>& k) override { cuda_parallel_for(k.g.spec.num_nodes(), k); }
  void g2p(const G2P<T, D>& k) override { cuda_parallel_for(k.in.n, PerParticle<G2P<T, D>>{k}); }
  void trial_F(const TrialF<T, D>& k) override { cuda_parallel_for(k.n, PerParticle<TrialF<T, D>>{k}); }
  void g2p_adjoint(const G2PAdjoint<T, D>& k) override {
    DUCTILE_CUDA_CHECK(cudaMemsetAsync(k.adj_grid_v, 0, sizeof(T) * k.g.spec.num_nodes() * D));
    cuda_parallel_for(k.in.n, Scatter<G2PAdjoint<T, D>>{k});
  }
  void grid_update_adjoint(const GridUpdateAdjoint<T, D>& k, int P, T* params) override {
    cuda_parallel_for(k.rows(), k);
    cuda_parallel_for(P, SumRows<T>{k.row_params, (long long)k.rows(), P, params});
  }
  void p2g_adjoint(const P2GAdjoint<T, D>& k) override {
    cuda_parallel_for(k.fwd.p.n, PerParticle<P2GAdjoint<T, D>>{k});
  }
  void actuation(const Actuation<T, D>& k) override {
    cuda_parallel_for(k.n, PerParticle<Actuation<T, D>>{k});
  }
  void actuation_adjoint(const ActuationAdjoint<T, D>& k) override {
    cuda_parallel_for(k.fwd.n, PerParticle<ActuationAdjoint<T, D>>{k});
  }
  void check_finite(const T* const* fields, const int* widths, int count, int n, uint32_t stage,
                    Status* status) override {
    if (count > 8) fail("cuda diff backend", "check_finite takes at most 8 arrays");
    CheckFinite<T> k{};
    for (int a = 0; a < count; ++a) k.f[a] = fields[a], k.w[a] = widths[a];
    k.count = count, k.n = n, k.stage = stage, k.status = status;
    cuda_parallel_for(n, k);
  }
  Status fetch_status(Status* s) override {
    return cuda_fetch_status(s, status_host_.reserve(Device::kCuda, 1));
  }

 private:
  Staging<Status> status_host_;  // page-locked
  bool sorted_ = true;           // DUCTILE_CUDA_SORT=0: the forward P2G's plain atomics
  int sms_ = 1;
  CudaCellSort<T, D> sort_;
};

}  // namespace

template <class T, int D>
std::unique_ptr<DiffBackend<T, D>> make_cuda_diff_backend() {
  if (!cuda_available()) fail("cuda backend", "no GPU visible: " + cuda_device_description());
  return std::make_unique<CudaDiffBackend<T, D>>();
}

template std::unique_ptr<DiffBackend<float, 2>> make_cuda_diff_backend<float, 2>();
template std::unique_ptr<DiffBackend<float, 3>> make_cuda_diff_backend<float, 3>();
template std::unique_ptr<DiffBackend<double, 2>> make_cuda_diff_backend<double, 2>();
template std::unique_ptr<DiffBackend<double, 3>> make_cuda_diff_backend<double, 3>();

}  // namespace ductile
