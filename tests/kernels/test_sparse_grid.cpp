// The CPU backend's sparse grid (kernels/cpu_sparse_grid.h): the same particles in a domain 4 times wider per
// axis (64 times the volume in 3D) give bit-identical particle state and the same allocated blocks, the
// grid's memory follows the blocks the particles touch instead of the domain, and the sparse grid agrees with
// the dense grid (DUCTILE_CPU_GRID=dense) to round-off.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "core/simulator.h"
#include "materials/registry.h"
#include "random_block.h"

using namespace ductile;

namespace {

// A fixed-corotated block with random velocities in [0.05, 0.45]^D of the domain [0, S]^D: the walls at the
// low faces (the same nodes for every S) act on it, the far faces are never reached.
template <int D>
void make_scene(Model<float, D>& model, State<float, D>& state, float S) {
  const float dx = 1.0f / 32;
  model.set_grid(Vec<float, D>::zero(), Vec<float, D>::constant(S), dx);
  model.walls.surface = Surface::kSlip;
  model.dt = 2e-4f;
  model.gravity = Vec<float, D>::zero();
  model.gravity[1] = -9.8f;
  auto mat = MaterialRegistry::instance().make<float, D>("fixed_corotated");
  mat->values()[0] = 1000;  // density
  mat->values()[1] = 5e3f;  // E
  mat->values()[2] = 0.3f;  // nu
  model.material_names.push_back("jelly");
  model.materials.push_back(std::move(mat));
  test::RandomBlock<float> block;
  block.n = D == 3 ? 4000 : 3000, block.seed = 777, block.lo = 0.05f, block.size = 0.4f;
  test::fill_random_block(state, dx, block);
}

struct Run {
  int64_t grid_bytes = 0, grid_blocks = 0, nodes = 0, table_bytes = 0;
  bool sparse = false;
};

// Runs `steps` steps in the domain [0, S]^D with the grid named by DUCTILE_CPU_GRID ("" = the default).
template <int D>
State<float, D> run(float S, int steps, const char* grid, Run& info) {
  const char* saved = std::getenv("DUCTILE_CPU_GRID");
  const std::string restore = saved ? saved : "";
  if (*grid)
    setenv("DUCTILE_CPU_GRID", grid, 1);
  else
    unsetenv("DUCTILE_CPU_GRID");
  Model<float, D> model;
  State<float, D> state;
  make_scene<D>(model, state, S);
  Simulator<float, D> sim(model, Device::kCpu);
  sim.set_state(state);
  for (int s = 0; s < steps; ++s) sim.step();
  State<float, D> out;
  sim.get_state(out);
  info.grid_bytes = sim.grid_bytes();
  info.grid_blocks = sim.grid_blocks();
  info.nodes = model.grid.num_nodes();
  info.sparse = sim.sparse_grid();
  int64_t blocks = 1;
  for (int d = 0; d < D; ++d) blocks *= (model.grid.res[d] + 7) / 8;  // blocks of 8^D nodes
  info.table_bytes = blocks * int64_t(sizeof(int32_t));
  if (saved)
    setenv("DUCTILE_CPU_GRID", restore.c_str(), 1);
  else
    unsetenv("DUCTILE_CPU_GRID");
  return out;
}

template <class V>
bool same_bits(const V& a, const V& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0;
}

}  // namespace

TEST_CASE_TEMPLATE("sparse grid: a domain 4 times wider per axis gives bit-identical particles", Dim,
                   std::integral_constant<int, 2>, std::integral_constant<int, 3>) {
  constexpr int D = Dim::value;
  Run small, big;
  const State<float, D> a = run<D>(1, 100, "", small);
  const State<float, D> b = run<D>(4, 100, "", big);
  REQUIRE(small.sparse);
  REQUIRE(big.sparse);
  CHECK(same_bits(a.x, b.x));
  CHECK(same_bits(a.v, b.v));
  CHECK(same_bits(a.C, b.C));
  CHECK(same_bits(a.F, b.F));
  // the particles moved and some of them met the walls' nodes (the test is not vacuous)
  Model<float, D> model;
  State<float, D> init;
  make_scene<D>(model, init, 1);
  CHECK(!same_bits(a.x, init.x));
  // grid memory: the same blocks, and only the block table (4 bytes per 8^D nodes) grows with the domain
  CHECK(big.nodes > (D == 3 ? 40 : 10) * small.nodes);  // 4^D times the cells, plus the 2-node pads
  CHECK(small.grid_blocks > 0);
  CHECK(big.grid_blocks == small.grid_blocks);
  CHECK(big.grid_bytes - big.table_bytes == small.grid_bytes - small.table_bytes);
  // against a dense grid over the big domain (D + 1 floats per node): 20 (3D) or 10 (2D) times less
  CHECK(big.grid_bytes * (D == 3 ? 20 : 10) < big.nodes * (D + 1) * int64_t(sizeof(float)));
}

TEST_CASE_TEMPLATE("sparse grid: agrees with the dense grid to round-off", Dim,
                   std::integral_constant<int, 2>, std::integral_constant<int, 3>) {
  constexpr int D = Dim::value;
  Run sparse, dense;
  const State<float, D> a = run<D>(1, 100, "", sparse);
  const State<float, D> b = run<D>(1, 100, "dense", dense);
  REQUIRE(sparse.sparse);
  REQUIRE(!dense.sparse);
  // the two grids add each node's contributions in a different order (per block and colour, against per
  // slab), so the results differ in the last bits only: positions to 1e-6 m (the particles moved some mm)
  double dxmax = 0, dvmax = 0, vmax = 0, moved = 0;
  Model<float, D> model;
  State<float, D> init;
  make_scene<D>(model, init, 1);
  for (size_t i = 0; i < a.x.size(); ++i) {
    dxmax = std::max(dxmax, double(std::fabs(a.x[i] - b.x[i])));
    dvmax = std::max(dvmax, double(std::fabs(a.v[i] - b.v[i])));
    vmax = std::max(vmax, double(std::fabs(b.v[i])));
    moved = std::max(moved, double(std::fabs(b.x[i] - init.x[i])));
  }
  CAPTURE(dxmax);
  CAPTURE(dvmax);
  CHECK(moved > 1e-3);
  CHECK(dxmax < 1e-6);
  CHECK(dvmax < 1e-4 * vmax);
}
