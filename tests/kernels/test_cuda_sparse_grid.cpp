// The CUDA backend's sparse grid (kernels/cuda_grid.h: a pool of the listed blocks) run on the CPU against
// the dense grid, through the grid's part of a step: the per-cell particle-to-grid, the grid update over the
// listed nodes, G2P's gather and the clearing, bit for bit. And a pool too small for the step's claims: the
// claims past it are counted but not listed, their nodes have no storage, and nothing is written outside the
// pool (the backend then grows the pool and runs the step again).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cuda_grid.h"
#include "kernels/g2p.h"
#include "tests/kernels/cuda_block_program.h"

using namespace ductile;

namespace {

using test::SerialAtomics;

// Host storage of a sparse grid with room for `capacity` blocks.
template <class T, int D>
struct Pool {
  static constexpr int kNodes = CudaGrid<T, D>::kNodes;
  std::vector<uint32_t> flag, list;
  uint32_t count = 0;
  std::vector<T> mass, mv;
  CudaGrid<T, D> grid;
  Pool(const GridSpec<T, D>& spec, uint32_t capacity) {
    const CudaBlocks<T, D> blocks = CudaBlocks<T, D>::of(spec);
    flag.assign(size_t(blocks.count()), ActiveBlocks<T, D>::kFree);
    list.assign(capacity, 0xffffffffu);
    mass.assign(size_t(capacity) * kNodes, T(0));
    mv.assign(size_t(D) * capacity * kNodes, T(0));
    ActiveBlocks<T, D> set{blocks, flag.data(), list.data(), &count};
    set.capacity = capacity;
    grid = CudaGrid<T, D>::pooled(spec, mass.data(), mv.data(), set);
  }
  Pool(const Pool&) = delete;
  // The claim kernel: one call per run.
  void claim_runs(const std::vector<uint32_t>& run_keys) {
    const int32_t runs = int32_t(run_keys.size());
    const ClaimRuns<T, D, SerialAtomics> claim{grid.set, run_keys.data(), &runs, SerialAtomics{}};
    for (long long r = 0; r < runs; ++r) claim(r);
  }
  // Blocks listed (what the device's node loops visit: at most the capacity).
  long long listed_nodes() const { return (long long)std::min<uint32_t>(count, grid.set.capacity) * kNodes; }
  // An add that counts writes outside the pool instead of making them.
  auto checked_add(int64_t& outside) {
    return [this, &outside](T* p, T v) {
      const bool in_mass = p >= mass.data() && p < mass.data() + mass.size();
      const bool in_mv = p >= mv.data() && p < mv.data() + mv.size();
      if (in_mass || in_mv)
        *p += v;
      else
        ++outside;
    };
  }
};

// The cell of dense node idx.
template <class T, int D>
void cell_of_node(const GridSpec<T, D>& spec, int64_t idx, int* c) {
  for (int d = D - 1; d >= 0; --d) c[d] = int(idx % spec.res[d]), idx /= spec.res[d];
}

// Every node of the dense grid against the pool: equal bits where the pool has the node, zero where not;
// returns the nodes that hold mass.
template <class T, int D>
int64_t check_same_grid(const GridSpec<T, D>& spec, const std::vector<T>& mass, const std::vector<T>& mv,
                        const Pool<T, D>& pool) {
  const int64_t nodes = spec.num_nodes();
  int64_t massive = 0, differ = 0, lost = 0;
  for (int64_t idx = 0; idx < nodes; ++idx) {
    int c[D];
    cell_of_node(spec, idx, c);
    const int64_t pi = pool.grid.index(c);
    if (pi < 0) {
      bool zero = mass[idx] == T(0);
      for (int d = 0; d < D; ++d) zero = zero && mv[d * nodes + idx] == T(0);
      lost += zero ? 0 : 1;
      continue;
    }
    massive += mass[idx] > T(0) ? 1 : 0;
    bool same = std::memcmp(&mass[idx], &pool.mass[pi], sizeof(T)) == 0;
    for (int d = 0; d < D; ++d)
      same = same && std::memcmp(&mv[d * nodes + idx], &pool.mv[d * pool.grid.stride + pi], sizeof(T)) == 0;
    differ += same ? 0 : 1;
  }
  CHECK(lost == 0);
  CHECK(differ == 0);
  return massive;
}

template <class T, int D>
GridSpec<T, D> make_spec(const int (&res)[D]) {
  GridSpec<T, D> spec;
  spec.dx = T(0.05), spec.inv_dx = T(20);
  for (int d = 0; d < D; ++d) spec.origin[d] = T(0), spec.res[d] = res[d];
  return spec;
}

// P2G, grid update, G2P and clearing on the dense grid and on the pool; particles in [lo, hi] of the grid.
template <class T, int D>
void check_sparse_grid(const int (&res)[D], int n, double lo, double hi) {
  const GridSpec<T, D> spec = make_spec<T, D>(res);
  const test::Particles<T, D> p = test::random_particles(spec, n, lo, hi);
  const test::Sorted<T, D> s = test::sort_particles(spec, p, n / 3);
  const int64_t nodes = spec.num_nodes();
  auto add = [](T* ptr, T v) { *ptr += v; };
  // dense
  std::vector<T> mass(nodes, T(0)), mv(nodes * D, T(0));
  Status dense_status;
  test::run_cell_sums(spec, p, s, CellsMode::kCells,
                      CudaGrid<T, D>::dense({spec, mass.data(), mv.data()}, {}), add, dense_status);
  // the pool, with room for every block
  const uint32_t nblocks = uint32_t(CudaBlocks<T, D>::of(spec).count());
  Pool<T, D> pool(spec, nblocks);
  pool.claim_runs(s.run_keys);
  Status status;
  int64_t outside = 0;
  test::run_cell_sums(spec, p, s, CellsMode::kCells, pool.grid, pool.checked_add(outside), status);
  CHECK(outside == 0);
  CHECK(status.bits == dense_status.bits);
  if (hi - lo < 0.7) CHECK(pool.count < nblocks);
  CHECK(check_same_grid(spec, mass, mv, pool) > 0);

  // the grid update: every dense node, against the pool's listed nodes (walls three cells in, gravity)
  GridUpdate<T, D> up{{spec, mass.data(), mv.data()}, Vec<T, D>::zero(), T(1e-4), {}, nullptr, 0};
  for (int d = 0; d < D; ++d) up.gravity[d] = d == 1 ? T(-9.8) : T(0), up.walls.lo[d] = 3;
  for (int d = 0; d < D; ++d) up.walls.hi[d] = spec.res[d] - 4;
  for (int64_t idx = 0; idx < nodes; ++idx) {
    int c[D];
    cell_of_node(spec, idx, c);
    grid_update_node_in_place(up, uint32_t(idx), c, size_t(nodes));
  }
  GridUpdate<T, D> up_pool = up;
  up_pool.g.mass = pool.mass.data(), up_pool.g.mv = pool.mv.data();
  const UpdateListedNodes<T, D> update{pool.grid, up_pool};
  for (long long t = 0; t < pool.listed_nodes(); ++t) update(t);
  check_same_grid(spec, mass, mv, pool);

  // G2P's gather: the dense stencil against the pool's, every particle (those outside raise the status)
  std::vector<T> F(size_t(D * D) * p.n), plastic(p.n, T(1));
  test::Lcg u;
  for (int i = 0; i < p.n; ++i)
    for (int a = 0; a < D; ++a)
      for (int b = 0; b < D; ++b) F[size_t(a * D + b) * p.n + i] = T(a == b) + T(0.1 * (u() - 0.5));
  std::vector<T> x = p.x;
  ParticleView<T, D> in{p.n, x.data(), nullptr, nullptr, F.data(), plastic.data(), nullptr, nullptr, nullptr};
  struct Out {
    std::vector<T> x, v, C, F, plastic;
    ParticleView<T, D> view(int n) {
      x.assign(size_t(D) * n, T(0)), v.assign(size_t(D) * n, T(0));
      C.assign(size_t(D * D) * n, T(0)), F.assign(size_t(D * D) * n, T(0)), plastic.assign(n, T(0));
      return {n, x.data(), v.data(), C.data(), F.data(), plastic.data(), nullptr, nullptr, nullptr};
    }
  } out_dense, out_pool;
  Vec<T, D> dlo, dhi;
  for (int d = 0; d < D; ++d) dlo[d] = T(0), dhi[d] = spec.dx * T(spec.res[d] - 1);
  Status g2p_dense, g2p_pool;
  const G2P<T, D> gd{{spec, mass.data(), mv.data()}, in, out_dense.view(p.n), T(1e-4), dlo, dhi, &g2p_dense};
  const G2P<T, D> gp{
      {spec, pool.mass.data(), pool.mv.data()}, in, out_pool.view(p.n), T(1e-4), dlo, dhi, &g2p_pool};
  for (int i = 0; i < p.n; ++i) {
    gd(i, i);
    gp(i, i, NoProjection{}, PoolStencil<T, D>{pool.grid});
  }
  CHECK(g2p_dense.bits == kStatusOutOfDomain);
  CHECK(g2p_pool.bits == g2p_dense.bits);
  CHECK(out_pool.x == out_dense.x);
  CHECK(out_pool.v == out_dense.v);
  CHECK(out_pool.C == out_dense.C);
  CHECK(out_pool.F == out_dense.F);
  CHECK(std::any_of(out_dense.v.begin(), out_dense.v.end(), [](T v) { return v != T(0); }));

  // clearing the listed nodes leaves the pool zero and every block free
  const ClearListedNodes<T, D> clear{pool.grid};
  for (long long t = 0; t < pool.listed_nodes(); ++t) clear(t);
  CHECK(std::all_of(pool.mass.begin(), pool.mass.end(), [](T v) { return v == T(0); }));
  CHECK(std::all_of(pool.mv.begin(), pool.mv.end(), [](T v) { return v == T(0); }));
  CHECK(std::all_of(pool.flag.begin(), pool.flag.end(),
                    [](uint32_t f) { return f == ActiveBlocks<T, D>::kFree; }));
}

// A pool with room for half the blocks the step claims.
template <class T, int D>
void check_pool_overflow(const int (&res)[D], int n) {
  const GridSpec<T, D> spec = make_spec<T, D>(res);
  const test::Particles<T, D> p = test::random_particles(spec, n, 0.1, 0.6);
  const test::Sorted<T, D> s = test::sort_particles(spec, p, n / 3);
  auto run = [&](Pool<T, D>& pool, int64_t& outside) {
    pool.claim_runs(s.run_keys);
    Status status;
    test::run_cell_sums(spec, p, s, CellsMode::kCells, pool.grid, pool.checked_add(outside), status);
  };
  Pool<T, D> full(spec, uint32_t(CudaBlocks<T, D>::of(spec).count()));
  int64_t outside = 0;
  run(full, outside);
  REQUIRE(full.count > 8);
  const uint32_t capacity = full.count / 2;
  Pool<T, D> small(spec, capacity);
  run(small, outside);
  CHECK(outside == 0);
  // every claim counted, the first `capacity` listed with their positions, the rest marked overflowed
  CHECK(small.count == full.count);
  int64_t overflowed = 0;
  for (uint32_t pos = 0; pos < capacity; ++pos) CHECK(small.flag[small.list[pos]] == pos + 1);
  for (size_t b = 0; b < small.flag.size(); ++b) overflowed += small.flag[b] == ActiveBlocks<T, D>::kOverflow;
  CHECK(overflowed == small.count - capacity);
  // a node the small pool holds got what the full pool's got, bit for bit; the others have no storage
  const int64_t nodes = spec.num_nodes();
  int64_t held = 0, missing = 0, differ = 0;
  for (int64_t idx = 0; idx < nodes; ++idx) {
    int c[D];
    cell_of_node(spec, idx, c);
    const int64_t fi = full.grid.index(c), si = small.grid.index(c);
    if (fi < 0) continue;
    if (si < 0) {
      ++missing;
      continue;
    }
    ++held;
    differ += std::memcmp(&full.mass[fi], &small.mass[si], sizeof(T)) != 0;
  }
  CHECK(held > 0);
  CHECK(missing > 0);
  CHECK(differ == 0);
  // the node loops stop at the capacity; clearing frees the listed blocks, the overflowed ones wait for the
  // backend's full reset
  const ClearListedNodes<T, D> clear{small.grid};
  for (long long t = 0; t < small.listed_nodes(); ++t) clear(t);
  CHECK(std::all_of(small.mass.begin(), small.mass.end(), [](T v) { return v == T(0); }));
  int64_t left = 0;
  for (uint32_t f : small.flag) left += f != ActiveBlocks<T, D>::kFree;
  CHECK(left == overflowed);
}

// Keys and runs of an earlier sort (DUCTILE_CUDA_SORT=adaptive): every particle (in [lo, 0.7] of the grid)
// moved by up to `shift` cells per axis since, so many are off their sorted cells (some off their blocks).
// The particles off their cells go to the grid one by one and list their own blocks (staged: those still in
// their run's block, up to 64 a run, go to their cells' sums instead); the pool's grid must equal the dense
// scatter of the moved particles, with a thread per cell or the staged records (`mode`).
template <class T, int D>
void check_stale_keys(const int (&res)[D], int n, double lo, double shift, CellsMode mode) {
  const GridSpec<T, D> spec = make_spec<T, D>(res);
  const CudaBlocks<T, D> blocks = CudaBlocks<T, D>::of(spec);
  const test::Particles<T, D> before = test::random_particles(spec, n, lo, 0.7);
  const test::Sorted<T, D> s = test::sort_particles(spec, before);
  test::Particles<T, D> after = before;
  test::Lcg u{23};
  for (int i = 0; i < n; ++i) {
    Vec<T, D> xi, v;
    const Mat<T, D> C = Mat<T, D>::zero(), tau = Mat<T, D>::zero();
    for (int d = 0; d < D; ++d) {
      T& x = after.x[size_t(d) * after.n + i];
      x += T(shift * (2 * u() - 1)) * spec.dx;
      xi[d] = x, v[d] = T(u() - 0.5);
    }
    after.what[i] = p2g_particle(spec, T(1e-4), xi, v, C, tau, T(1e-3), T(1e-6));
  }
  // the moved particles off their sorted cells, counted here
  int64_t moved = 0;
  for (int q = 0; q < after.n; ++q) {
    const int i = s.order[q];
    if (!stencil_inside(spec, after.what[i].base)) continue;
    moved += cuda_block_key(spec, blocks, after.x.data() + i, size_t(after.n)) != s.sorted[q];
  }
  // the dense scatter of the moved particles
  const int64_t nodes = spec.num_nodes();
  std::vector<T> ref_m(nodes, T(0)), ref_mv(nodes * D, T(0));
  for (const auto& pp : after.what)
    if (stencil_inside(spec, pp.base))
      scatter_particle(pp, spec, ref_m.data(), ref_mv.data(), [](T* ptr, T v) { *ptr += v; });
  // the block program over the old runs, into a pool listed from them
  Pool<T, D> pool(spec, uint32_t(blocks.count()));
  pool.claim_runs(s.run_keys);
  Status status;
  int64_t outside = 0, strays = 0;
  test::run_cell_sums(spec, after, s, mode, pool.grid, pool.checked_add(outside), status, &strays);
  CHECK(outside == 0);
  CHECK(strays == moved);
  CHECK(strays > n / 10);
  T scale_m = 0, scale_mv = 0;
  for (T m : ref_m) scale_m = std::max(scale_m, std::fabs(m));
  for (T m : ref_mv) scale_mv = std::max(scale_mv, std::fabs(m));
  int64_t lost = 0;
  double dm = 0, dmv = 0;
  for (int64_t idx = 0; idx < nodes; ++idx) {
    int c[D];
    cell_of_node(spec, idx, c);
    const int64_t pi = pool.grid.index(c);
    if (pi < 0) {
      lost += ref_m[idx] != T(0);
      continue;
    }
    dm = std::max(dm, double(std::fabs(pool.mass[pi] - ref_m[idx])));
    for (int d = 0; d < D; ++d)
      dmv = std::max(dmv, double(std::fabs(pool.mv[d * pool.grid.stride + pi] - ref_mv[d * nodes + idx])));
  }
  CHECK(lost == 0);
  CHECK(dm <= 1e-13 * scale_m);
  CHECK(dmv <= 1e-13 * scale_mv);
}

}  // namespace

TEST_CASE(
    "cuda sparse grid: the pool of listed blocks gives the dense grid's P2G, update and G2P bit for bit") {
  // grid sides that are not multiples of the block; particles over all of the grid and in part of it, the
  // highest stencils reaching into the next block up (which only the runs' neighbour claims list)
  const int res3[3] = {30, 21, 17};
  check_sparse_grid<double, 3>(res3, 6000, 0.1, 0.55);
  check_sparse_grid<float, 3>(res3, 6000, 0.3, 0.8);
  check_sparse_grid<double, 3>(res3, 12000, 0.0, 1.0);
  const int res2[2] = {45, 37};
  check_sparse_grid<double, 2>(res2, 3000, 0.2, 0.55);
  check_sparse_grid<float, 2>(res2, 5000, 0.0, 1.0);
}

TEST_CASE("cuda sparse grid: a pool too small for the claims lists what fits and writes nothing outside") {
  const int res3[3] = {30, 21, 17};
  check_pool_overflow<double, 3>(res3, 6000);
  const int res2[2] = {45, 37};
  check_pool_overflow<float, 2>(res2, 3000);
}

TEST_CASE(
    "cuda sparse grid: keys of an earlier sort (the adaptive sort) still put every particle on the grid") {
  // the lowest particles sit in the lowest cells of a block (along x, and z in 3D), so some move into the
  // block below, which no run lists: only their own claims give it storage
  for (CellsMode mode : {CellsMode::kCells, CellsMode::kStaged}) {
    INFO("mode " << int(mode) << " (cells, slabs, staged)");
    const int res3[3] = {30, 21, 17};
    check_stale_keys<double, 3>(res3, 6000, 0.2935, 0.6, mode);
    const int res2[2] = {45, 37};
    check_stale_keys<double, 2>(res2, 3000, 0.1935, 1.5, mode);
  }
}
