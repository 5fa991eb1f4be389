// The CUDA backend's per-cell particle-to-grid (kernels/cuda_cell_sums.h) run on the CPU: each phase of the
// block program for every thread in turn, with plain adds for the atomics, against the dense scatter of
// kernels/p2g.h. Both versions (a thread per cell, three threads per cell) must give the same bits, and a
// particle sorted into the wrong cell must reach the grid exactly once.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "core/status.h"
#include "kernels/cuda_cell_sums.h"

using namespace ductile;

namespace {

struct Lcg {
  uint64_t s = 11;
  double operator()() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return double(s >> 11) * (1.0 / 9007199254740992.0);
  }
};

template <class T, int D>
struct Particles {
  std::vector<T> x;                     // SoA positions
  std::vector<P2GParticle<T, D>> what;  // what each scatters
  int n = 0;
};

// n random particles inside the grid, plus two outside it (their stencils leave the grid).
template <class T, int D>
Particles<T, D> random_particles(const GridSpec<T, D>& spec, int n) {
  Particles<T, D> p;
  p.n = n + 2;
  p.x.resize(size_t(p.n) * D);
  Lcg u;
  for (int i = 0; i < p.n; ++i) {
    Vec<T, D> xi, v;
    Mat<T, D> C, tau;
    for (int d = 0; d < D; ++d) {
      const T extent = spec.dx * (spec.res[d] - 1);
      xi[d] = extent * T(0.05 + 0.9 * u());
      if (i >= n) xi[d] = i == n ? T(-0.3) * spec.dx : extent + T(0.2) * spec.dx;
      v[d] = T(u() - 0.5);
      for (int e = 0; e < D; ++e) C(d, e) = T(u() - 0.5), tau(d, e) = T(100 * (u() - 0.5));
      p.x[size_t(d) * p.n + i] = xi[d];
    }
    p.what.push_back(p2g_particle(spec, T(1e-4), xi, v, C, tau, T(1e-3 * (1 + u())), T(1e-6)));
  }
  return p;
}

// The block program over every run of the sorted particles, thread by thread (threads per block: 64 for a
// thread per cell, 192 for three); wrong_cell moves that sorted particle's key to another cell of its block.
template <class T, int D>
void run_cell_sums(const GridSpec<T, D>& spec, const Particles<T, D>& p, bool slabs, int wrong_cell,
                   std::vector<T>& mass, std::vector<T>& mv, Status& status) {
  using Sums = CellSums<T, D>;
  const CudaBlocks<T, D> blocks = CudaBlocks<T, D>::of(spec);
  std::vector<uint32_t> keys(p.n);
  for (int i = 0; i < p.n; ++i) keys[i] = cuda_block_key(spec, blocks, p.x.data() + i, size_t(p.n));
  std::vector<int32_t> order(p.n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return keys[a] < keys[b]; });
  std::vector<uint32_t> sorted(p.n);
  for (int q = 0; q < p.n; ++q) sorted[q] = keys[order[q]];
  if (wrong_cell >= 0) {
    // another cell of the same block, the run kept in cell order
    uint32_t& k = sorted[wrong_cell];
    k = (k & ~uint32_t(Sums::kCells - 1)) | ((k + 1) & uint32_t(Sums::kCells - 1));
    const uint32_t block = k >> kCudaCellBits;
    int lo = wrong_cell, hi = wrong_cell;
    while (lo > 0 && sorted[lo - 1] >> kCudaCellBits == block) --lo;
    while (hi + 1 < p.n && sorted[hi + 1] >> kCudaCellBits == block) ++hi;
    std::vector<int> idx(hi - lo + 1);
    std::iota(idx.begin(), idx.end(), lo);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return sorted[a] < sorted[b]; });
    std::vector<uint32_t> ks;
    std::vector<int32_t> os;
    for (int q : idx) ks.push_back(sorted[q]), os.push_back(order[q]);
    std::copy(ks.begin(), ks.end(), sorted.begin() + lo);
    std::copy(os.begin(), os.end(), order.begin() + lo);
  }
  const int64_t nodes = spec.num_nodes();
  mass.assign(nodes, T(0)), mv.assign(nodes * D, T(0));
  const GridView<T, D> g{spec, mass.data(), mv.data()};
  auto add = [](T* ptr, T v) { *ptr += v; };
  const int threads = slabs ? 3 * Sums::kCells : Sums::kCells;
  std::vector<T> part(Sums::kPart);
  int cell_start[Sums::kCells + 1];
  for (int start = 0; start < p.n;) {
    int count = 0;
    while (start + count < p.n && sorted[start + count] >> kCudaCellBits == sorted[start] >> kCudaCellBits)
      ++count;
    int lo[D];
    blocks.corner(sorted[start] >> kCudaCellBits, lo);
    // phase 1, with fewer threads than particles where the run is long
    for (int tid = 0; tid < threads; ++tid)
      Sums::cell_starts(tid, threads, sorted.data() + start, count, cell_start);
    // phase 2
    for (int tid = 0; tid < threads; ++tid) {
      const int c = tid % Sums::kCells;
      int cell[D];
      Sums::cell_of(c, lo, cell);
      auto load = [&](int j, P2GParticle<T, D>& pp, bool primary) {
        const int i = order[start + j];
        pp = p.what[i];
        if (!stencil_inside(spec, pp.base)) {
          if (primary) raise_status(&status, kStatusOutOfDomain, i, kStageP2G);
          return false;
        }
        bool same = true;
        for (int d = 0; d < D; ++d) same = same && pp.base[d] == cell[d];
        if (!same && primary) scatter_particle(pp, spec, mass.data(), mv.data(), add);
        return same;
      };
      if (slabs)
        Sums::sum_slab(c, tid / Sums::kCells, cell_start, load, part.data());
      else
        Sums::sum_cell(c, cell_start, load, part.data());
    }
    // phase 3
    for (int tid = 0; tid < threads; ++tid) Sums::flush_tile(tid, threads, lo, part.data(), g, add);
    start += count;
  }
}

template <class T, int D>
void check_cell_sums(const int (&res)[D], int n) {
  GridSpec<T, D> spec;
  spec.dx = T(0.05), spec.inv_dx = T(20);
  for (int d = 0; d < D; ++d) spec.origin[d] = T(0), spec.res[d] = res[d];
  const Particles<T, D> p = random_particles(spec, n);
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
    for (bool slabs : {false, true}) {
      INFO("slabs " << slabs << ", particle sorted into the wrong cell " << wrong);
      std::vector<T> m, mv;
      Status status;
      run_cell_sums(spec, p, slabs, wrong, m, mv, status);
      // every node within round-off of the dense scatter (the sums run in another order)
      double dm = 0, dmv = 0;
      for (int64_t i = 0; i < nodes; ++i) dm = std::max(dm, double(std::fabs(m[i] - ref_m[i])));
      for (int64_t i = 0; i < nodes * D; ++i) dmv = std::max(dmv, double(std::fabs(mv[i] - ref_mv[i])));
      CHECK(dm <= 1e-13 * scale_m);
      CHECK(dmv <= 1e-13 * scale_mv);
      // the two particles outside reported once each (the lowest index kept), by the primary thread
      CHECK(status.bits == kStatusOutOfDomain);
      CHECK(status.stage_particle[kStageP2G] == n);
      // a thread per cell and three per cell add in the same order
      if (!slabs) m_cells = m, mv_cells = mv;
      if (slabs) {
        CHECK(m == m_cells);
        CHECK(mv == mv_cells);
      }
    }
  }
}

}  // namespace

TEST_CASE(
    "cuda cell sums: the per-cell and three-per-cell particle-to-grid match the dense scatter (2D, 3D)") {
  // grid sides that are not multiples of the block; about 4 particles per cell in 3D, 9 in 2D (runs longer
  // than a thread block's threads)
  const int res3[3] = {25, 22, 19};
  check_cell_sums<double, 3>(res3, 30000);
  const int res2[2] = {41, 35};
  check_cell_sums<double, 2>(res2, 12000);
}
