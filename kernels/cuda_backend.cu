// CUDA backend. Each P2G sorts the particles by grid block and cell (kernels/cuda_sort.cuh); one thread block
// per run of particles that share a grid block sums them into the block's tile of nodes (the block's cells
// and their stencil's reach) in shared memory, then adds the tile's non-zero nodes to the grid with global
// atomics (Gao et al. 2018, sec. 4.2; Hu et al. 2018, sec. 5). G2P writes the q-th sorted particle to slot q,
// so the particle arrays stay in block order and the loads of the next step are nearly sequential. (A G2P
// that first read each run's tile of velocities into shared memory measured slower on the H200, 483 against
// 374 us at 4.2 million particles: the gathers hit L1 and L2 anyway.) DUCTILE_CUDA_SORT=adaptive keeps the
// last sort's order while at most 1/64 of the particles left their sorted cells in the last P2G (those are
// scattered one by one). For comparison, DUCTILE_CUDA_SORT=0 runs the plain version (unsorted particles, one
// global atomic per node and value) and DUCTILE_CUDA_P2G selects the other scatters (below).
#include <cstdlib>
#include <cub/device/device_select.cuh>
#include <map>
#include <string>

#include "core/cuda_check.h"
#include "core/env.h"
#include "core/memory.h"
#include "kernels/backend.h"
#include "kernels/cuda_grid.h"
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

// Particle q of the sorted order (order null: slot q), scattered node by node with global atomics (listing
// its stencil's blocks where they are not its key's run's, and counting it in *strays where given).
template <class T, int D>
struct P2GSortedAtomic {
  P2G<T, D> k;
  const int32_t* order;
  const uint32_t* sorted_keys;
  CudaGrid<T, D> grid;
  uint32_t* strays;
  __device__ void operator()(long long q) const {
    const int i = order ? order[q] : int(q);
    const P2GParticle<T, D> pp = k.particle(i);
    if (!stencil_inside(k.g.spec, pp.base)) {
      if (k.status) raise_status(k.status, kStatusOutOfDomain, i, kStageP2G);
      return;
    }
    if (grid.set.flag || strays) {
      int kb[D];
      for (int d = 0; d < D; ++d) kb[d] = pp.base[d] / kCudaBlock<D>;
      if (grid.set.blocks.key(kb) != sorted_keys[q] >> kCudaCellBits) {
        if (grid.set.flag) grid.set.claim_stencil(pp.base, DeviceAtomics{});
        if (strays) atomicAdd(strays, 1u);
      }
    }
    grid.scatter(pp, AtomicAdd{}, DeviceAtomics{});
  }
};

// Particle order[q] (or q) gathered (the stencil's nodes as Nodes visits them) and written to slot q, through
// the projection policy.
template <class T, int D, class Project = NoProjection, class Nodes = DenseStencil>
struct G2PLaunch {
  G2P<T, D> k;
  const int32_t* order;  // null: slot i to slot i
  Project project = Project{};
  Nodes nodes = Nodes{};
  __device__ void operator()(long long q) const { k(order ? order[q] : int(q), int(q), project, nodes); }
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
    grid_update_node_in_place(k, idx, c, size_t(k.g.spec.num_nodes()));
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

// fn(t) for every node t of the listed blocks (their number is read on the device; at most `capacity` are
// listed), grid-stride.
template <class Fn>
__global__ void active_nodes_kernel(const uint32_t* count, uint32_t capacity, int per_block, Fn fn) {
  const long long total = (long long)(*count < capacity ? *count : capacity) * per_block;
  for (long long t = blockIdx.x * (long long)blockDim.x + threadIdx.x; t < total;
       t += (long long)gridDim.x * blockDim.x)
    fn(t);
}

// The largest dense grid (mass and momentum) that the backend keeps by default: above it, the sparse pool
// (DUCTILE_CUDA_GRID unset; a 400^3 float grid in 3D takes 0.95 GiB).
constexpr double kDenseGridBytes = 1024.0 * 1024 * 1024;

template <class T, int D>
class CudaBackend final : public Backend<T, D> {
 public:
  CudaBackend() {
    const std::string sort = env_choice("DUCTILE_CUDA_SORT", {"", "1", "0", "adaptive"});
    sorted_ = sort != "0";
    adaptive_ = sort == "adaptive";
    const std::string mode =
        env_choice("DUCTILE_CUDA_P2G", {"", "cells", "slabs", "staged", "tile", "tile-contiguous", "global"});
    tiled_ = mode != "global";
    strided_ = mode != "tile-contiguous";
    cells_ =
        kCellsFit<T, D> && tiled_ && (mode.empty() || mode == "cells" || mode == "slabs" || mode == "staged");
    cells_mode_ = mode == "slabs"    ? CellsMode::kSlabs
                  : mode == "staged" ? CellsMode::kStaged
                                     : CellsMode::kCells;
    // particles of each cell staged at a time (DUCTILE_CUDA_P2G=staged)
    const std::string rows = env_choice("DUCTILE_CUDA_STAGED_ROWS", {"", "2", "4", "6", "8", "12", "16"});
    staged_rows_ = rows.empty() ? CellSums<T, D>::kRows : std::stoi(rows);
    // unset: the active-block grid, the sparse one for a large grid (sparse_grid)
    grid_ = env_choice("DUCTILE_CUDA_GRID", {"", "dense", "active", "sparse"});
    sparse_ = grid_ == "sparse";
    if (sparse_ && !sorted_)
      fail("DUCTILE_CUDA_GRID",
           "'sparse' lists the blocks of the sorted particles: it does not run with "
           "DUCTILE_CUDA_SORT=0");
    active_ = grid_ != "dense" && sorted_;
    // unset: the projection inside G2P, the stress separate (docs/BENCHMARKS.md, the second GPU session)
    const std::string fuse = env_choice("DUCTILE_CUDA_FUSE", {"", "0", "1", "project"});
    fuse_ = fuse == "1" ? kFuseBoth : fuse == "0" ? kFuseNone : kFuseProjection;
    device_partition_ = env_choice("DUCTILE_CUDA_PARTITION", {"", "host", "device"}) == "device";
    int dev = 0;
    DUCTILE_CUDA_CHECK(cudaGetDevice(&dev));
    DUCTILE_CUDA_CHECK(cudaDeviceGetAttribute(&sms_, cudaDevAttrMultiProcessorCount, dev));
    if (adaptive_) strays_.resize(Device::kCuda, 1);
  }

  Device device() const override { return Device::kCuda; }

  // DUCTILE_CUDA_GRID=sparse, or unset and a dense grid `spec` of more than kDenseGridBytes: the simulator
  // passes grids without storage and this backend keeps the pool.
  bool sparse_grid(const GridSpec<T, D>& spec) override {
    if (grid_.empty() && sorted_)
      sparse_ = double(spec.num_nodes()) * (D + 1) * sizeof(T) > double(kDenseGridBytes);
    return sparse_;
  }

  // The fluid and fixed-corotated projections inside G2P (DUCTILE_CUDA_FUSE unset, project or 1), their
  // stresses inside p2g_cells (=1).
  unsigned fuses(const std::string& model) const override {
    if (model != Fluid::kName && model != FixedCorotated::kName) return kFuseNone;
    return sorted_ && cells_ ? fuse_ : fuse_ & kFuseProjection;
  }

  void p2g(const P2G<T, D>& k) override {
    if (!k.g.mass && !sparse_) fail("cuda backend", "a grid without storage needs DUCTILE_CUDA_GRID=sparse");
    clear_grid(k.g);
    if (!sorted_) return cuda_parallel_for(k.p.n, P2GAtomic<T, D>{k});
    order_particles(k);
    const CudaGrid<T, D> grid = cuda_grid(k.g);
    if (k.p.n == 0) return;
    const int32_t* order = reordered_ ? sort_.order() : nullptr;
    uint32_t* strays = adaptive_ ? strays_.data() : nullptr;
    // the blocks each run writes (before the kernels, which list only what lies outside their runs)
    if (grid.set.flag)
      cuda_parallel_for(sort_.max_runs(), ClaimRuns<T, D, DeviceAtomics>{grid.set, sort_.run_keys(),
                                                                         sort_.num_runs(), DeviceAtomics{}});
    if (!tiled_)
      return cuda_parallel_for(k.p.n, P2GSortedAtomic<T, D>{k, order, sort_.sorted_keys(), grid, strays});
    if constexpr (kCellsFit<T, D>) {
      if (cells_) {
        if (!k.lanes) return launch_cells(k, StoredStress<T, D>{}, grid, order, strays);
        const std::string model = k.lanes->model ? k.lanes->model : "";
        if (model == Fluid::kName)
          return launch_cells(k, ModelStress<Fluid, T, D>{pack(*k.lanes)}, grid, order, strays);
        if (model == FixedCorotated::kName)
          return launch_cells(k, ModelStress<FixedCorotated, T, D>{pack(*k.lanes)}, grid, order, strays);
        fail("cuda backend", "no fused stress for material model '" + model + "'");
      }
    }
    if (k.lanes) fail("cuda backend", "fused stress needs the per-cell particle-to-grid");
    launch_p2g_tiled(k, grid, sort_, order, strays, sms_, strided_);
  }

  void grid_update(const GridUpdate<T, D>& k) override {
    const int64_t nodes = k.g.spec.num_nodes();
    if (!k.g.mass) {
      // the pool's listed blocks
      if (!pool_ready_) fail("cuda backend", "grid update before particle-to-grid filled the sparse grid");
      if (k.v_out) fail("cuda backend", "the sparse grid updates in place");
      const CudaGrid<T, D> grid = cuda_grid(k.g);
      GridUpdate<T, D> kp = k;
      kp.g.mass = grid.mass, kp.g.mv = grid.mv;
      launch_active(UpdateListedNodes<T, D>{grid, kp});
    } else if (listed_ && k.g.mass == grid_mass_ && !k.v_out) {
      // the listed blocks' nodes only; the rest of the grid holds zeros
      launch_active(UpdateListedNodes<T, D>{cuda_grid(k.g), k});
    } else if (nodes < (int64_t(1) << 32) && !k.v_out) {
      cuda_parallel_for(nodes, GridUpdateInPlace<T, D>{k});
    } else {
      cuda_parallel_for(nodes, k);
    }
  }

  void g2p(const G2P<T, D>& k) override {
    if (sorted_ && sort_.size() != k.in.n)
      fail("cuda backend", "g2p called before p2g ordered the particles");
    // the outputs are in the order of the keys (the next step may keep them)
    last_out_x_ = k.out.x, keys_valid_ = sorted_;
    G2P<T, D> kp = k;
    // the constants stay where they are when the order is kept and the output buffer already holds them in
    // this order (DUCTILE_CUDA_SORT=adaptive: from the second step in a row without a sort)
    if (k.out_mass) {
      uint64_t& gen = carried_.try_emplace(k.out_mass, ~uint64_t(0)).first->second;
      if (sorted_ && !reordered_ && gen == order_gen_)
        kp.out_mass = kp.out_vol0 = nullptr, kp.out_material = kp.out_id = nullptr;
      gen = order_gen_;
    }
    if (!k.g.mass) {
      if (!pool_ready_) fail("cuda backend", "g2p before particle-to-grid filled the sparse grid");
      const CudaGrid<T, D> grid = cuda_grid(k.g);
      kp.g.mass = grid.mass, kp.g.mv = grid.mv;
      return g2p_with(kp, PoolStencil<T, D>{grid});
    }
    g2p_with(kp, DenseStencil{});
  }

  void particles_changed() override { keys_valid_ = false, ++order_gen_; }

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

  // The status word, and in the same wait the number of blocks the step claimed (sparse grid) and of
  // particles off their sorted cells (adaptive sort), all copied to page-locked memory with the clearing of
  // the status queued behind: one wait per step. More blocks than the pool holds: the pool grows and the
  // status asks for the step again (kStatusGridFull); nearly full: it grows before the next step.
  Status fetch_status(Status* s) override {
    uint32_t* counts = counts_host_.reserve(Device::kCuda, 2);
    if (adaptive_)
      DUCTILE_CUDA_CHECK(
          cudaMemcpyAsync(counts + 1, strays_.data(), sizeof(uint32_t), cudaMemcpyDeviceToHost));
    if (pool_ready_)
      DUCTILE_CUDA_CHECK(cudaMemcpyAsync(counts, count_.data(), sizeof(uint32_t), cudaMemcpyDeviceToHost));
    Status r = cuda_fetch_status(s, status_host_.reserve(Device::kCuda, 1));
    if (adaptive_) strays_seen_ = counts[1];
    if (!pool_ready_) return r;
    claimed_ = counts[0];
    claims_seen_ = true;
    if (claimed_ > pool_capacity_) {
      r.bits |= kStatusGridFull;
      r.stages |= 1u << kStageP2G;
    }
    if (uint64_t(claimed_) * 8 > uint64_t(pool_capacity_) * 7) grow_pool(claimed_);
    return r;
  }

  // Bytes the backend holds for the grid (the pool, its table and list; the active-block flags), and the
  // blocks of kCudaBlock^D cells claimed at the last step.
  int64_t grid_bytes() const override {
    return int64_t(pool_mass_.size() + pool_mv_.size()) * int64_t(sizeof(T)) +
           int64_t(flag_.size() + list_.size() + count_.size()) * int64_t(sizeof(uint32_t));
  }
  int64_t grid_blocks() const override { return claimed_; }

 private:
  static ParamPack<T> pack(const MaterialLanes<T, D>& lanes) {
    ParamPack<T> p;
    for (int q = 0; q < kMaxMaterialParams; ++q) p.v[q] = lanes.prm[q];
    return p;
  }

  template <class Stress>
  void launch_cells(const P2G<T, D>& k, const Stress& stress, const CudaGrid<T, D>& grid,
                    const int32_t* order, uint32_t* strays) {
    launch_p2g_cells(k, stress, grid, sort_, order, strays, sms_, cells_mode_, staged_rows_);
  }

  // G2P with the node visit `nodes`, the projection fused where the lanes ask for it.
  template <class Nodes>
  void g2p_with(const G2P<T, D>& k, const Nodes& nodes) {
    const int32_t* order = sorted_ && reordered_ ? sort_.order() : nullptr;
    if (!k.lanes) return cuda_parallel_for(k.in.n, G2PLaunch<T, D, NoProjection, Nodes>{k, order, {}, nodes});
    const std::string model = k.lanes->model ? k.lanes->model : "";
    if (model == Fluid::kName)
      return cuda_parallel_for(k.in.n, G2PLaunch<T, D, ModelProjection<Fluid, T, D>, Nodes>{
                                           k, order, {pack(*k.lanes), k.dt, k.status}, nodes});
    if (model == FixedCorotated::kName)
      return cuda_parallel_for(k.in.n, G2PLaunch<T, D, ModelProjection<FixedCorotated, T, D>, Nodes>{
                                           k, order, {pack(*k.lanes), k.dt, k.status}, nodes});
    fail("cuda backend", "no fused projection for material model '" + model + "'");
  }

  // The particles' order for this P2G: sorted anew (reordered_), or, with DUCTILE_CUDA_SORT=adaptive, the
  // last sort's keys and runs kept, where the particles are what the last G2P wrote in that order and at most
  // 1/64 of them were off their sorted cells in the last P2G (those go to the grid one by one,
  // scatter_outside).
  void order_particles(const P2G<T, D>& k) {
    bool same_grid = sorted_spec_.dx == k.g.spec.dx;
    for (int d = 0; d < D; ++d)
      same_grid =
          same_grid && sorted_spec_.origin[d] == k.g.spec.origin[d] && sorted_spec_.res[d] == k.g.spec.res[d];
    const bool keep = adaptive_ && keys_valid_ && same_grid && k.p.x == last_out_x_ &&
                      k.p.n == sort_.size() && uint64_t(strays_seen_) * 64 <= uint64_t(k.p.n);
    reordered_ = !keep;
    keys_valid_ = false;  // until this step's G2P writes the particles in the keys' order
    if (!keep) sort_.sort(k.g.spec, k.p.x, k.p.n), sorted_spec_ = k.g.spec, ++order_gen_;
    if (adaptive_) DUCTILE_CUDA_CHECK(cudaMemsetAsync(strays_.data(), 0, sizeof(uint32_t)));
  }

  // Whether blocks are listed over a dense grid (DUCTILE_CUDA_GRID=active; with =sparse, a grid given with
  // storage is used as the plain dense one).
  bool dense_listed() const { return active_ && !sparse_; }

  // The grid as the kernels see it: the pool where g has no storage, else g's dense storage; with the
  // active-block set where blocks are listed.
  CudaGrid<T, D> cuda_grid(const GridView<T, D>& g) {
    ActiveBlocks<T, D> set{sort_.blocks(), nullptr, nullptr, nullptr};
    if (g.mass ? dense_listed() : true)
      set.flag = flag_.data(), set.list = list_.data(), set.count = count_.data();
    if (g.mass) return CudaGrid<T, D>::dense(g, set);
    set.capacity = uint32_t(pool_capacity_);
    return CudaGrid<T, D>::pooled(g.spec, pool_mass_.data(), pool_mv_.data(), set);
  }

  template <class Fn>
  void launch_active(const Fn& fn) {
    const uint32_t capacity = pool_ready_ ? uint32_t(pool_capacity_) : 0xffffffffu;
    active_nodes_kernel<<<sms_ * 16, 256>>>(count_.data(), capacity, ActiveBlocks<T, D>::kNodes, fn);
    DUCTILE_CUDA_CHECK(cudaGetLastError());
  }

  // The per-block flags, sized for g's blocks (true when they were made anew, all free).
  bool size_flags(const GridSpec<T, D>& spec) {
    const size_t nblocks = size_t(CudaBlocks<T, D>::of(spec).count());
    if (count_.size() == 0) count_.resize(Device::kCuda, 1);
    if (flag_.size() == nblocks) return false;
    flag_.resize(Device::kCuda, nblocks);
    if (!sparse_) list_.resize(Device::kCuda, nblocks);
    return true;
  }

  // Zero mass and momentum before a P2G: the listed blocks of the last step where they are known (and the
  // list emptied), else every node (dense) or the whole pool.
  void clear_grid(const GridView<T, D>& g) {
    if (!g.mass) return clear_pool(g.spec);
    const int64_t nodes = g.spec.num_nodes();
    const bool same = listed_ && g.mass == grid_mass_ && nodes == grid_nodes_;
    listed_ = false;
    if (dense_listed() && same) {
      launch_active(ClearListedNodes<T, D>{cuda_grid(g)});
      DUCTILE_CUDA_CHECK(cudaMemsetAsync(count_.data(), 0, sizeof(uint32_t)));
    } else {
      DUCTILE_CUDA_CHECK(cudaMemsetAsync(g.mass, 0, sizeof(T) * nodes));
      DUCTILE_CUDA_CHECK(cudaMemsetAsync(g.mv, 0, sizeof(T) * nodes * D));
      if (dense_listed()) {
        size_flags(g.spec);
        DUCTILE_CUDA_CHECK(cudaMemsetAsync(flag_.data(), 0, sizeof(uint32_t) * flag_.size()));
        DUCTILE_CUDA_CHECK(cudaMemsetAsync(count_.data(), 0, sizeof(uint32_t)));
      }
    }
    // from here on the grid is zero outside the listed blocks (which the P2G about to run lists)
    listed_ = dense_listed() && nodes < (int64_t(1) << 32);
    grid_mass_ = g.mass, grid_nodes_ = nodes;
  }

  // The sparse grid before a P2G: the last step's blocks zeroed and freed, or, for a new grid, a pool that
  // grew or a step whose claims fetch_status did not see (some may lie past the pool), everything zero and
  // free. The first pool holds 64 blocks; a step that claims more runs again with a pool that fits them.
  void clear_pool(const GridSpec<T, D>& spec) {
    if (size_flags(spec) || !pool_ready_ || !claims_seen_) pool_fresh_ = true;
    claims_seen_ = false;
    if (pool_capacity_ == 0) grow_pool(0);
    if (pool_fresh_) {
      DUCTILE_CUDA_CHECK(cudaMemsetAsync(pool_mass_.data(), 0, sizeof(T) * pool_mass_.size()));
      DUCTILE_CUDA_CHECK(cudaMemsetAsync(pool_mv_.data(), 0, sizeof(T) * pool_mv_.size()));
      DUCTILE_CUDA_CHECK(cudaMemsetAsync(flag_.data(), 0, sizeof(uint32_t) * flag_.size()));
      pool_fresh_ = false;
    } else {
      launch_active(ClearListedNodes<T, D>{cuda_grid(GridView<T, D>{spec, nullptr, nullptr})});
    }
    DUCTILE_CUDA_CHECK(cudaMemsetAsync(count_.data(), 0, sizeof(uint32_t)));
    pool_ready_ = true;
  }

  // A pool for `claimed` blocks and a quarter more (so that it is under 7/8 full), at least 64; everything
  // zeroed before the next P2G.
  void grow_pool(uint32_t claimed) {
    const uint64_t capacity = uint64_t(claimed) + claimed / 4 + 64;
    if (capacity * ActiveBlocks<T, D>::kNodes >= (uint64_t(1) << 32))
      fail("cuda backend", "the sparse grid needs " + std::to_string(claimed) + " blocks of " +
                               std::to_string(ActiveBlocks<T, D>::kNodes) + " nodes: more than 2^32 nodes");
    pool_capacity_ = capacity;
    const size_t nodes = size_t(capacity) * ActiveBlocks<T, D>::kNodes;
    pool_mass_.resize(Device::kCuda, nodes);
    pool_mv_.resize(Device::kCuda, nodes * D);
    list_.resize(Device::kCuda, size_t(capacity));
    pool_fresh_ = true;
  }

  // DUCTILE_CUDA_P2G=cells (the default where its sums fit in registers), =slabs (the same with three threads
  // per cell), =staged (the same over records staged a thread per particle), =tile (shared-memory atomics),
  // =tile-contiguous (the same with lanes on consecutive particles), =global (sorted, global atomics)
  bool sorted_ = true, tiled_ = true, strided_ = true, cells_ = true;
  CellsMode cells_mode_ = CellsMode::kCells;
  int staged_rows_ = CellSums<T, D>::kRows;  // DUCTILE_CUDA_STAGED_ROWS
  // DUCTILE_CUDA_GRID (grid_; unset: see sparse_grid()) =active: clear and update only the listed blocks;
  // =sparse: and store only them (the pool); DUCTILE_CUDA_FUSE: the FuseStage bits (see fuses())
  bool active_ = false, sparse_ = false, listed_ = false;
  std::string grid_;
  unsigned fuse_ = kFuseNone;
  // DUCTILE_CUDA_PARTITION=device: the materials' batches selected on the device (partition())
  bool device_partition_ = false;
  Buffer<int32_t> iota_, selected_;
  Buffer<unsigned char> select_temp_;
  const T* grid_mass_ = nullptr;
  int64_t grid_nodes_ = 0;
  int sms_ = 1;
  CudaCellSort<T, D> sort_;
  Buffer<uint32_t> flag_, list_, count_;
  // the sparse grid's pool: capacity blocks of kNodes nodes, mass then the D momentum components
  Buffer<T> pool_mass_, pool_mv_;
  uint64_t pool_capacity_ = 0;
  bool pool_ready_ = false, pool_fresh_ = true, claims_seen_ = false;
  // page-locked: the status word, and the step's claimed blocks and strays copied with it
  Staging<Status> status_host_;
  Staging<uint32_t> counts_host_;
  uint32_t claimed_ = 0;
  // DUCTILE_CUDA_SORT=adaptive: the last sort's keys and runs kept while few particles leave their cells
  bool adaptive_ = false, reordered_ = true, keys_valid_ = false;
  Buffer<uint32_t> strays_;
  uint32_t strays_seen_ = 0;
  // the particle order's generation (a new one at every sort and change of the particles), and the one whose
  // order each output buffer's constants follow (keyed by its mass array)
  uint64_t order_gen_ = 0;
  std::map<const T*, uint64_t> carried_;
  const T* last_out_x_ = nullptr;
  GridSpec<T, D> sorted_spec_{};
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
