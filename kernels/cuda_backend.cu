// CUDA backend: grid-stride launches of the same kernel functors; particle-to-grid scatters with atomicAdd.
#include "core/cuda_check.h"
#include "kernels/backend.h"

namespace ductile {

namespace {

struct AtomicAdd {
  template <class T>
  __device__ void operator()(T* dst, T val) const {
    atomicAdd(dst, val);
  }
};

template <class T, int D>
struct P2GAtomic {
  P2G<T, D> k;
  __device__ void operator()(long long i) const { k(int(i), AtomicAdd{}); }
};

template <class T, int D>
struct G2PLaunch {
  G2P<T, D> k;
  __device__ void operator()(long long i) const { k(int(i)); }
};

template <class T, int D>
class CudaBackend final : public Backend<T, D> {
 public:
  Device device() const override { return Device::kCuda; }

  void p2g(const P2G<T, D>& k) override {
    const long long nodes = k.g.spec.num_nodes();
    DUCTILE_CUDA_CHECK(cudaMemsetAsync(k.g.mass, 0, sizeof(T) * nodes));
    DUCTILE_CUDA_CHECK(cudaMemsetAsync(k.g.mv, 0, sizeof(T) * nodes * D));
    cuda_parallel_for(k.p.n, P2GAtomic<T, D>{k});
  }
  void grid_update(const GridUpdate<T, D>& k) override { cuda_parallel_for(k.g.spec.num_nodes(), k); }
  void g2p(const G2P<T, D>& k) override { cuda_parallel_for(k.in.n, G2PLaunch<T, D>{k}); }

  Status fetch_status(Status* s) override { return cuda_fetch_status(s); }
};

}  // namespace

template <class T, int D>
std::unique_ptr<Backend<T, D>> make_cuda_backend() {
  if (!cuda_available()) fail("cuda backend", "no GPU visible: " + cuda_device_description());
  return std::make_unique<CudaBackend<T, D>>();
}

template std::unique_ptr<Backend<float, 2>> make_cuda_backend<float, 2>();
template std::unique_ptr<Backend<float, 3>> make_cuda_backend<float, 3>();
template std::unique_ptr<Backend<double, 2>> make_cuda_backend<double, 2>();
template std::unique_ptr<Backend<double, 3>> make_cuda_backend<double, 3>();

}  // namespace ductile
