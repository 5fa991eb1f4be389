// CUDA half of the gradient engine: grid-stride launches of the same functors; scatters add atomically.
#include "core/cuda_check.h"
#include "kernels/diff_backend.h"

namespace ductile {

namespace {

struct AtomicAdd {
  template <class T>
  __device__ void operator()(T* dst, T val) const {
    atomicAdd(dst, val);
  }
};

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
  Device device() const override { return Device::kCuda; }
  void order(const T*, int, const GridSpec<T, D>&) override {}
  void p2g(const P2G<T, D>& k) override {
    const long long nodes = k.g.spec.num_nodes();
    DUCTILE_CUDA_CHECK(cudaMemsetAsync(k.g.mass, 0, sizeof(T) * nodes));
    DUCTILE_CUDA_CHECK(cudaMemsetAsync(k.g.mv, 0, sizeof(T) * nodes * D));
    cuda_parallel_for(k.p.n, Scatter<P2G<T, D>>{k});
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
  Status fetch_status(Status* s) override { return cuda_fetch_status(s, status_host_.get()); }

 private:
  CudaPinned<Status> status_host_;
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
