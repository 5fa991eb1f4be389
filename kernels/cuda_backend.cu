// CUDA backend. Each P2G sorts the particles by grid block and cell (kernels/cuda_sort.cuh); one thread block
// per run of particles that share a grid block sums them into the block's tile of nodes (the block's cells
// and their stencil's reach) in shared memory, then adds the tile's non-zero nodes to the grid with global
// atomics (Gao et al. 2018, sec. 4.2; Hu et al. 2018, sec. 5). G2P writes the q-th sorted particle to slot q,
// so the particle arrays stay in block order and the loads of the next step are nearly sequential. (A G2P
// that first read each run's tile of velocities into shared memory measured slower on the H200, 483 against
// 374 us at 4.2 million particles: the gathers hit L1 and L2 anyway.) For comparison, DUCTILE_CUDA_SORT=0
// runs the plain version (unsorted particles, one global atomic per node and value) and DUCTILE_CUDA_P2G
// selects the other scatters (below).
#include <cstdlib>
#include <cub/device/device_select.cuh>
#include <string>

#include "core/cuda_check.h"
#include "core/env.h"
#include "kernels/backend.h"
#include "kernels/cuda_p2g.cuh"
#include "kernels/cuda_sort.cuh"
#include "materials/fixed_corotated.h"
#include "materials/fluid.h"

namespace ductile {

namespace {

template <class T, int D>
struct P2GAtomic {
  P2G<T, D> k;
  __device__ void operator()(long long i) const { k(int(i), AtomicAdd{}); }
};

// Particle q of the sorted order, scattered node by node with global atomics (listing its stencil's blocks
// where they are not its key's run's).
template <class T, int D>
struct P2GSortedAtomic {
  P2G<T, D> k;
  const int32_t* order;
  const uint32_t* sorted_keys;
  ActiveBlocks<T, D> active;
  __device__ void operator()(long long q) const {
    const int i = order[q];
    const P2GParticle<T, D> pp = k.particle(i);
    if (!stencil_inside(k.g.spec, pp.base)) {
      if (k.status) raise_status(k.status, kStatusOutOfDomain, i, kStageP2G);
      return;
    }
    if (active.flag) {
      int kb[D];
      for (int d = 0; d < D; ++d) kb[d] = pp.base[d] / kCudaBlock<D>;
      if (active.blocks.key(kb) != sorted_keys[q] >> kCudaCellBits)
        active.claim_stencil(pp.base, DeviceAtomics{});
    }
    scatter_particle(pp, k.g.spec, k.g.mass, k.g.mv, AtomicAdd{});
  }
};

// Particle order[q] (or q) gathered and written to slot q, through the projection policy.
template <class T, int D, class Project = NoProjection>
struct G2PLaunch {
  G2P<T, D> k;
  const int32_t* order;  // null: slot i to slot i
  Project project = Project{};
  __device__ void operator()(long long q) const { k(order ? order[q] : int(q), int(q), project); }
};

// The grid update in place over every node, with 32-bit division for the node's coordinates.
template <class T, int D>
struct GridUpdateInPlace {
  GridUpdate<T, D> k;
  __device__ void operator()(long long i) const {
    const uint32_t idx = uint32_t(i);
    int c[D];
    uint32_t rest = idx;
    for (int d = D - 1; d >= 0; --d) {
      c[d] = int(rest % uint32_t(k.g.spec.res[d]));
      rest /= uint32_t(k.g.spec.res[d]);
    }
    grid_update_node_in_place(k, idx, c);
  }
};

// Slot q's index, and whether slot q holds material m (the selections of CudaBackend::partition).
struct Iota {
  int32_t* out;
  __device__ void operator()(long long q) const { out[q] = int32_t(q); }
};
struct HasMaterial {
  const int32_t* material;
  int32_t m;
  __device__ bool operator()(const int32_t& q) const { return material[q] == m; }
};

// fn(t) for every node t of the listed blocks (their number is read on the device), grid-stride.
template <class Fn>
__global__ void active_nodes_kernel(const uint32_t* count, int per_block, Fn fn) {
  const long long total = (long long)(*count) * per_block;
  for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
       t += (long long)gridDim.x * blockDim.x)
    fn(t);
}

template <class T, int D>
class CudaBackend final : public Backend<T, D> {
 public:
  CudaBackend() {
    sorted_ = env_choice("DUCTILE_CUDA_SORT", {"", "1", "0"}) != "0";
    const std::string mode =
        env_choice("DUCTILE_CUDA_P2G", {"", "cells", "slabs", "tile", "tile-contiguous", "global"});
    tiled_ = mode != "global";
    strided_ = mode != "tile-contiguous";
    cells_ = kCellsFit<T, D> && tiled_ && (mode.empty() || mode == "cells" || mode == "slabs");
    slabs_ = mode == "slabs";
    active_ = env_choice("DUCTILE_CUDA_GRID", {"", "dense", "active"}) == "active" && sorted_;
    fuse_ = env_choice("DUCTILE_CUDA_FUSE", {"", "0", "1"}) == "1";
    device_partition_ = env_choice("DUCTILE_CUDA_PARTITION", {"", "host", "device"}) == "device";
    int dev = 0;
    DUCTILE_CUDA_CHECK(cudaGetDevice(&dev));
    DUCTILE_CUDA_CHECK(cudaDeviceGetAttribute(&sms_, cudaDevAttrMultiProcessorCount, dev));
  }

  Device device() const override { return Device::kCuda; }

  // The fluid and fixed-corotated stresses inside p2g_cells, their projections inside G2P
  // (DUCTILE_CUDA_FUSE=1).
  bool fuses(const std::string& model) const override {
    return fuse_ && sorted_ && cells_ && (model == Fluid::kName || model == FixedCorotated::kName);
  }

  void p2g(const P2G<T, D>& k) override {
    clear_grid(k.g);
    if (!sorted_) return cuda_parallel_for(k.p.n, P2GAtomic<T, D>{k});
    sort_.sort(k.g.spec, k.p.x, k.p.n);
    ActiveBlocks<T, D> act = active_set();
    if (k.p.n == 0) return;
    // the blocks each run writes (before the kernels, which list only what lies outside their runs)
    if (active_)
      cuda_parallel_for(sort_.max_runs(), ClaimRuns<T, D, DeviceAtomics>{act, sort_.run_keys(),
                                                                         sort_.num_runs(), DeviceAtomics{}});
    if (!tiled_)
      return cuda_parallel_for(k.p.n, P2GSortedAtomic<T, D>{k, sort_.order(), sort_.sorted_keys(), act});
    if constexpr (kCellsFit<T, D>) {
      if (cells_) {
        if (!k.lanes) return launch_cells(k, StoredStress<T, D>{}, act);
        const std::string model = k.lanes->model ? k.lanes->model : "";
        if (model == Fluid::kName) return launch_cells(k, ModelStress<Fluid, T, D>{pack(*k.lanes)}, act);
        if (model == FixedCorotated::kName)
          return launch_cells(k, ModelStress<FixedCorotated, T, D>{pack(*k.lanes)}, act);
        fail("cuda backend", "no fused stress for material model '" + model + "'");
      }
    }
    if (k.lanes) fail("cuda backend", "fused stress needs the per-cell particle-to-grid");
    // enough thread blocks to fill the GPU several times over; each loops over runs
    const int grid = std::max(1, std::min(sort_.max_runs(), sms_ * 16));
    p2g_tiled<T, D><<<grid, kTileThreads>>>(k, StoredStress<T, D>{}, act, sort_.order(), sort_.run_keys(),
                                            sort_.run_start(), sort_.run_count(), sort_.num_runs(), strided_);
    DUCTILE_CUDA_CHECK(cudaGetLastError());
  }

  void grid_update(const GridUpdate<T, D>& k) override {
    const int64_t nodes = k.g.spec.num_nodes();
    if (listed_ && k.g.mass == grid_mass_ && !k.v_out) {
      // the listed blocks' nodes only; the rest of the grid holds zeros
      launch_active(UpdateActiveNodes<T, D>{active_set(), k});
    } else if (nodes < (int64_t(1) << 32) && !k.v_out) {
      cuda_parallel_for(nodes, GridUpdateInPlace<T, D>{k});
    } else {
      cuda_parallel_for(nodes, k);
    }
  }

  void g2p(const G2P<T, D>& k) override {
    if (sorted_ && sort_.size() != k.in.n)
      fail("cuda backend", "g2p called before p2g ordered the particles");
    const int32_t* order = sorted_ ? sort_.order() : nullptr;
    if (!k.lanes) return cuda_parallel_for(k.in.n, G2PLaunch<T, D>{k, order});
    const std::string model = k.lanes->model ? k.lanes->model : "";
    if (model == Fluid::kName)
      return cuda_parallel_for(
          k.in.n, G2PLaunch<T, D, ModelProjection<Fluid, T, D>>{k, order, {pack(*k.lanes), k.dt, k.status}});
    if (model == FixedCorotated::kName)
      return cuda_parallel_for(k.in.n, G2PLaunch<T, D, ModelProjection<FixedCorotated, T, D>>{
                                           k, order, {pack(*k.lanes), k.dt, k.status}});
    fail("cuda backend", "no fused projection for material model '" + model + "'");
  }

  // DUCTILE_CUDA_PARTITION=device: CUB's stable selection of the slots of each material, on the device.
  bool partition(const int32_t* material, int n, int32_t* const* batch, int materials) override {
    if (!device_partition_) return false;
    if (iota_.size() < size_t(n)) {
      iota_.resize(Device::kCuda, size_t(n));
      cuda_parallel_for(n, Iota{iota_.data()});
    }
    if (selected_.size() == 0) selected_.resize(Device::kCuda, 1);
    for (int m = 0; m < materials; ++m) {
      size_t bytes = 0;
      DUCTILE_CUDA_CHECK(cub::DeviceSelect::If(nullptr, bytes, iota_.data(), batch[m], selected_.data(), n,
                                               HasMaterial{material, m}));
      if (select_temp_.size() < bytes) select_temp_.resize(Device::kCuda, bytes);
      bytes = select_temp_.size();
      DUCTILE_CUDA_CHECK(cub::DeviceSelect::If(select_temp_.data(), bytes, iota_.data(), batch[m],
                                               selected_.data(), n, HasMaterial{material, m}));
    }
    return true;
  }

  Status fetch_status(Status* s) override { return cuda_fetch_status(s); }

 private:
  static ParamPack<T> pack(const MaterialLanes<T, D>& lanes) {
    ParamPack<T> p;
    for (int q = 0; q < kMaxMaterialParams; ++q) p.v[q] = lanes.prm[q];
    return p;
  }

  template <class Stress>
  void launch_cells(const P2G<T, D>& k, const Stress& stress, const ActiveBlocks<T, D>& act) {
    const int grid = std::max(1, std::min(sort_.max_runs(), sms_ * 8));
    const size_t shared = sizeof(T) * CellSums<T, D>::kPart;
    if (slabs_)
      p2g_cells<T, D, Stress, true><<<grid, kSlabThreads, shared>>>(
          k, stress, act, sort_.order(), sort_.sorted_keys(), sort_.run_keys(), sort_.run_start(),
          sort_.run_count(), sort_.num_runs());
    else
      p2g_cells<T, D, Stress, false><<<grid, kCellThreads, shared>>>(
          k, stress, act, sort_.order(), sort_.sorted_keys(), sort_.run_keys(), sort_.run_start(),
          sort_.run_count(), sort_.num_runs());
    DUCTILE_CUDA_CHECK(cudaGetLastError());
  }

  // The active-block set (its storage, when the active-block grid is on) with the sort's blocks.
  ActiveBlocks<T, D> active_set() {
    return {sort_.blocks(), active_ ? flag_.data() : nullptr, active_ ? list_.data() : nullptr,
            active_ ? count_.data() : nullptr};
  }

  template <class Fn>
  void launch_active(const Fn& fn) {
    active_nodes_kernel<<<sms_ * 16, 256>>>(count_.data(), ActiveBlocks<T, D>::kNodes, fn);
    DUCTILE_CUDA_CHECK(cudaGetLastError());
  }

  // Zero mass and momentum before a P2G: the listed blocks of the last step where the active-block grid
  // keeps them (and the list emptied), else every node.
  void clear_grid(const GridView<T, D>& g) {
    const int64_t nodes = g.spec.num_nodes();
    const bool same = listed_ && g.mass == grid_mass_ && nodes == grid_nodes_;
    listed_ = false;
    if (active_ && same) {
      launch_active(ClearActiveNodes<T, D>{active_set(), g});
      DUCTILE_CUDA_CHECK(cudaMemsetAsync(count_.data(), 0, sizeof(uint32_t)));
    } else {
      DUCTILE_CUDA_CHECK(cudaMemsetAsync(g.mass, 0, sizeof(T) * nodes));
      DUCTILE_CUDA_CHECK(cudaMemsetAsync(g.mv, 0, sizeof(T) * nodes * D));
      if (active_) {
        const size_t nblocks = size_t(CudaBlocks<T, D>::of(g.spec).count());
        if (flag_.size() != nblocks)
          flag_.resize(Device::kCuda, nblocks), list_.resize(Device::kCuda, nblocks);
        if (count_.size() == 0) count_.resize(Device::kCuda, 1);
        DUCTILE_CUDA_CHECK(cudaMemsetAsync(flag_.data(), 0, sizeof(uint32_t) * nblocks));
        DUCTILE_CUDA_CHECK(cudaMemsetAsync(count_.data(), 0, sizeof(uint32_t)));
      }
    }
    // from here on the grid is zero outside the listed blocks (which the P2G about to run lists)
    listed_ = active_ && nodes < (int64_t(1) << 32);
    grid_mass_ = g.mass, grid_nodes_ = nodes;
  }

  // DUCTILE_CUDA_P2G=cells (the default where its sums fit in registers), =slabs (the same with three threads
  // per cell), =tile (shared-memory atomics), =tile-contiguous (the same with lanes on consecutive
  // particles), =global (sorted, global atomics)
  bool sorted_ = true, tiled_ = true, strided_ = true, cells_ = true, slabs_ = false;
  // DUCTILE_CUDA_GRID=active: clear and update only the listed blocks; DUCTILE_CUDA_FUSE=1: see fuses()
  bool active_ = false, fuse_ = false, listed_ = false;
  // DUCTILE_CUDA_PARTITION=device: the materials' batches selected on the device (partition())
  bool device_partition_ = false;
  Buffer<int32_t> iota_, selected_;
  Buffer<unsigned char> select_temp_;
  const T* grid_mass_ = nullptr;
  int64_t grid_nodes_ = 0;
  int sms_ = 1;
  CudaCellSort<T, D> sort_;
  Buffer<uint32_t> flag_, list_, count_;
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
