// The CUDA backend's per-cell particle-to-grid (kernels/cuda_cell_sums.h) run on the CPU: each phase of the
// block program for every thread in turn, with plain adds for the atomics, against the dense scatter of
// kernels/p2g.h. The three versions (a thread per cell, three threads per cell, records staged a thread per
// particle) must give the same bits, and a particle sorted into the wrong cell must reach the grid exactly
// once (the staged version adds it after the sums of its cell, so there the bits may differ).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

#include "core/status.h"
#include "kernels/cuda_cell_sums.h"
#include "tests/kernels/cuda_block_program.h"

using namespace ductile;

namespace {

using test::Particles;

template <class T, int D>
void check_cell_sums(const int (&res)[D], int n) {
  GridSpec<T, D> spec;
  spec.dx = T(0.05), spec.inv_dx = T(20);
  for (int d = 0; d < D; ++d) spec.origin[d] = T(0), spec.res[d] = res[d];
  const Particles<T, D> p = test::random_particles(spec, n);
  // the dense scatter
  const int64_t nodes = spec.num_nodes();
  std::vector<T> ref_m(nodes, T(0)), ref_mv(nodes * D, T(0));
  int outside = 0;
  for (const auto& pp : p.what) {
    if (!stencil_inside(spec, pp.base)) {
      ++outside;
      continue;
    }
    scatter_particle(pp, spec, ref_m.data(), ref_mv.data(), [](T* ptr, T v) { *ptr += v; });
  }
  REQUIRE(outside == 2);
  T scale_m = 0, scale_mv = 0;
  for (T m : ref_m) scale_m = std::max(scale_m, std::fabs(m));
  for (T m : ref_mv) scale_mv = std::max(scale_mv, std::fabs(m));
  std::vector<T> m_cells, mv_cells;
  for (int wrong : {-1, n / 3}) {
    const test::Sorted<T, D> sorted = test::sort_particles(spec, p, wrong);
    // some cells have more particles than the staged rows of one chunk
    int fullest = 0;
    for (size_t q = 0, run = 0; q < sorted.sorted.size(); ++q) {
      run = q > 0 && sorted.sorted[q] == sorted.sorted[q - 1] ? run + 1 : 1;
      fullest = std::max(fullest, int(run));
    }
    REQUIRE(fullest > CellSums<T, D>::kRows);
    // the staged sums with the default rows per chunk and with 2 (most cells take several chunks)
    const std::pair<CellsMode, int> versions[] = {{CellsMode::kCells, 0},
                                                  {CellsMode::kSlabs, 0},
                                                  {CellsMode::kStaged, CellSums<T, D>::kRows},
                                                  {CellsMode::kStaged, 2}};
    for (const auto& version : versions) {
      const CellsMode mode = version.first;
      const int rows = version.second;
      INFO("mode " << int(mode) << " (cells, slabs, staged), rows " << rows
                   << ", particle sorted into the wrong cell " << wrong);
      std::vector<T> m(nodes, T(0)), mv(nodes * D, T(0));
      Status status;
      const CudaGrid<T, D> g = CudaGrid<T, D>::dense({spec, m.data(), mv.data()}, {});
      test::run_cell_sums(
          spec, p, sorted, mode, g, [](T* ptr, T v) { *ptr += v; }, status, nullptr,
          rows > 0 ? rows : CellSums<T, D>::kRows);
      // every node within round-off of the dense scatter (the sums run in another order)
      double dm = 0, dmv = 0;
      for (int64_t i = 0; i < nodes; ++i) dm = std::max(dm, double(std::fabs(m[i] - ref_m[i])));
      for (int64_t i = 0; i < nodes * D; ++i) dmv = std::max(dmv, double(std::fabs(mv[i] - ref_mv[i])));
      CHECK(dm <= 1e-13 * scale_m);
      CHECK(dmv <= 1e-13 * scale_mv);
      // the two particles outside reported once each (the lowest index kept), by the primary thread
      CHECK(status.bits == kStatusOutOfDomain);
      CHECK(status.stage_particle[kStageP2G] == n);
      // a thread per cell, three per cell and the staged records add in the same order (the staged version
      // adds the particle sorted into the wrong cell to its own cell's sums after them, the others to the
      // grid on its own)
      if (mode == CellsMode::kCells) m_cells = m, mv_cells = mv;
      if (mode == CellsMode::kSlabs || (mode == CellsMode::kStaged && wrong < 0)) {
        CHECK(m == m_cells);
        CHECK(mv == mv_cells);
      }
    }
  }
}

}  // namespace

TEST_CASE("cuda cell sums: a thread per cell, three, and staged records match the dense scatter (2D, 3D)") {
  // grid sides that are not multiples of the block; about 4 particles per cell in 3D, 9 in 2D (runs longer
  // than a thread block's threads)
  const int res3[3] = {25, 22, 19};
  check_cell_sums<double, 3>(res3, 30000);
  const int res2[2] = {41, 35};
  check_cell_sums<double, 2>(res2, 12000);
}
