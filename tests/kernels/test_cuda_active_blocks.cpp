// The CUDA backend's active-block grid (kernels/cuda_active_blocks.h) run on the CPU: its functors are plain
// host-device code, so the index arithmetic that the GPU runs is checked here with plain stand-ins for the
// atomics, against the dense grid update over every node.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "kernels/cuda_active_blocks.h"
#include "kernels/cuda_grid.h"
#include "kernels/p2g.h"
#include "tests/kernels/cuda_block_program.h"

using namespace ductile;

namespace {

using test::SerialAtomics;

// Scatters n random particles (positions in [lo, hi)^D of the domain) densely, lists the blocks of their runs
// as the backend does, and checks the listed blocks against the dense grid: every written node listed, the
// update over listed nodes equal to the update over all nodes, and the clearing leaving zeros everywhere.
template <int D>
void check_active_blocks(const int (&res)[D], int n, double lo, double hi) {
  using T = double;
  GridSpec<T, D> spec;
  spec.dx = 0.05, spec.inv_dx = 20;
  for (int d = 0; d < D; ++d) spec.origin[d] = 0, spec.res[d] = res[d];
  const int64_t nodes = spec.num_nodes();
  std::vector<T> mass(nodes, 0), mv(nodes * D, 0);
  const CudaBlocks<T, D> blocks = CudaBlocks<T, D>::of(spec);
  std::vector<T> x(size_t(n) * D);
  std::vector<uint32_t> run_keys;
  test::Lcg u{7};
  for (int i = 0; i < n; ++i) {
    Vec<T, D> xi, v;
    Mat<T, D> C, tau;
    for (int d = 0; d < D; ++d) {
      const T extent = spec.dx * (spec.res[d] - 1);
      xi[d] = extent * (lo + (hi - lo) * u()), v[d] = u() - 0.5;
      x[size_t(d) * n + i] = xi[d];
      for (int e = 0; e < D; ++e) C(d, e) = u() - 0.5, tau(d, e) = 100 * (u() - 0.5);
    }
    const P2GParticle<T, D> pp = p2g_particle(spec, T(1e-4), xi, v, C, tau, T(1e-3), T(1e-6));
    if (!stencil_inside(spec, pp.base)) continue;
    scatter_particle(pp, spec, mass.data(), mv.data(), [](T* p, T val) { *p += val; });
    run_keys.push_back(cuda_block_key(spec, blocks, x.data() + i, size_t(n)) >> kCudaCellBits);
  }
  std::sort(run_keys.begin(), run_keys.end());
  run_keys.erase(std::unique(run_keys.begin(), run_keys.end()), run_keys.end());
  const int32_t num_runs = int32_t(run_keys.size());
  REQUIRE(num_runs > 0);

  // list the runs' blocks (the claim kernel, one call per run and a few beyond the count)
  const int64_t nblocks = blocks.count();
  std::vector<uint32_t> flag(nblocks, 0), list(nblocks, 0xffffffffu);
  uint32_t count = 0;
  const ActiveBlocks<T, D> set{blocks, flag.data(), list.data(), &count};
  const ClaimRuns<T, D, SerialAtomics> claim{set, run_keys.data(), &num_runs, SerialAtomics{}};
  for (long long r = 0; r < num_runs + 5 && r < nblocks; ++r) claim(r);
  REQUIRE(count > 0);
  REQUIRE(count <= uint32_t(nblocks));
  // each block listed once, and flagged with its list position + 1 exactly when listed
  const std::set<uint32_t> listed(list.begin(), list.begin() + count);
  CHECK(listed.size() == count);
  std::vector<uint32_t> want(nblocks, ActiveBlocks<T, D>::kFree);
  for (uint32_t pos = 0; pos < count; ++pos) want[list[pos]] = pos + 1;
  CHECK(flag == want);
  // every node that received mass or momentum lies in a listed block
  int64_t written = 0, missed = 0;
  for (int64_t idx = 0; idx < nodes; ++idx) {
    bool any = mass[idx] != 0;
    for (int d = 0; d < D; ++d) any = any || mv[d * nodes + idx] != 0;
    if (!any) continue;
    ++written;
    int kb[D];
    int64_t rest = idx;
    for (int d = D - 1; d >= 0; --d) kb[d] = int(rest % spec.res[d]) / kCudaBlock<D>, rest /= spec.res[d];
    missed += listed.count(blocks.key(kb)) ? 0 : 1;
  }
  CHECK(written > 0);
  CHECK(missed == 0);

  // the update over the listed nodes equals the dense one (walls three cells in, gravity)
  std::vector<T> mass_b = mass, mv_b = mv;
  GridUpdate<T, D> dense{{spec, mass.data(), mv.data()}, Vec<T, D>::zero(), T(1e-4), {}, nullptr, 0};
  for (int d = 0; d < D; ++d) dense.gravity[d] = d == 1 ? -9.8 : 0, dense.walls.lo[d] = 3;
  for (int d = 0; d < D; ++d) dense.walls.hi[d] = spec.res[d] - 4;
  for (int64_t idx = 0; idx < nodes; ++idx) {
    int c[D];
    int64_t rest = idx;
    for (int d = D - 1; d >= 0; --d) c[d] = int(rest % spec.res[d]), rest /= spec.res[d];
    grid_update_node_in_place(dense, uint32_t(idx), c, size_t(nodes));
  }
  GridUpdate<T, D> active = dense;
  active.g.mass = mass_b.data(), active.g.mv = mv_b.data();
  const UpdateListedNodes<T, D> update{CudaGrid<T, D>::dense(active.g, set), active};
  for (long long t = 0; t < (long long)count * ActiveBlocks<T, D>::kNodes; ++t) update(t);
  CHECK(std::memcmp(mv.data(), mv_b.data(), sizeof(T) * mv.size()) == 0);

  // clearing the listed nodes leaves the grid and the flags zero
  const ClearListedNodes<T, D> clear{CudaGrid<T, D>::dense(active.g, set)};
  for (long long t = 0; t < (long long)count * ActiveBlocks<T, D>::kNodes; ++t) clear(t);
  CHECK(std::all_of(mass_b.begin(), mass_b.end(), [](T m) { return m == 0; }));
  CHECK(std::all_of(mv_b.begin(), mv_b.end(), [](T m) { return m == 0; }));
  CHECK(std::all_of(flag.begin(), flag.end(), [](uint32_t f) { return f == 0; }));
}

}  // namespace

TEST_CASE("cuda active blocks: the listed blocks hold every written node and update like the dense grid") {
  // grids whose sides are not multiples of the block (blocks overhang the last cells); particles up to the
  // upper edge and across the whole grid
  const int res3[3] = {30, 21, 17};
  check_active_blocks<3>(res3, 4000, 0.1, 0.6);
  check_active_blocks<3>(res3, 20000, 0.0, 1.0);
  const int res2[2] = {45, 37};
  check_active_blocks<2>(res2, 3000, 0.2, 0.5);
  check_active_blocks<2>(res2, 8000, 0.0, 1.0);
}

TEST_CASE("cuda active blocks: a stencil off its run lists the blocks of its corners") {
  using T = float;
  GridSpec<T, 3> spec;
  spec.dx = 0.1f, spec.inv_dx = 10;
  for (int d = 0; d < 3; ++d) spec.res[d] = 13;
  const CudaBlocks<T, 3> blocks = CudaBlocks<T, 3>::of(spec);
  std::vector<uint32_t> flag(blocks.count(), 0), list(blocks.count(), 0);
  uint32_t count = 0;
  const ActiveBlocks<T, 3> set{blocks, flag.data(), list.data(), &count};
  // a stencil at nodes 3..5 (blocks 0 and 1 along each axis) and one at 8..10 (block 2 only)
  const int base[3] = {3, 8, 3};
  set.claim_stencil(base, SerialAtomics{});
  std::set<uint32_t> got(list.begin(), list.begin() + count), want;
  for (int a = 0; a < 2; ++a)
    for (int c = 0; c < 2; ++c) {
      const int kb[3] = {a, 2, c};
      want.insert(blocks.key(kb));
    }
  CHECK(got == want);
  CHECK(count == 4);
  // claiming again lists nothing new
  set.claim_stencil(base, SerialAtomics{});
  CHECK(count == 4);
}
