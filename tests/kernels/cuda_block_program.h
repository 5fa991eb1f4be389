// CPU stand-ins for the CUDA backend's block programs (kernels/cuda_cell_sums.h, kernels/cuda_grid.h): the
// device's atomics one thread at a time, random particles, their sort into runs, and the per-cell
// particle-to-grid run thread by thread between its barriers. Shared by the tests of the cell sums and of the
// sparse grid.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "core/status.h"
#include "kernels/cuda_cell_sums.h"
#include "kernels/cuda_grid.h"

namespace ductile::test {

// What the device's atomicCAS, atomicAdd, atomicExch and a volatile load do, one thread at a time.
struct SerialAtomics {
  uint32_t cas(uint32_t* p, uint32_t expected, uint32_t desired) const {
    const uint32_t old = *p;
    if (old == expected) *p = desired;
    return old;
  }
  uint32_t add(uint32_t* p, uint32_t v) const {
    const uint32_t old = *p;
    *p += v;
    return old;
  }
  void exch(uint32_t* p, uint32_t v) const { *p = v; }
  uint32_t load(const uint32_t* p) const { return *p; }
};

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

// n random particles in [lo, hi] of the grid's extent, plus two outside it (their stencils leave the grid).
template <class T, int D>
Particles<T, D> random_particles(const GridSpec<T, D>& spec, int n, double lo = 0.05, double hi = 0.95) {
  Particles<T, D> p;
  p.n = n + 2;
  p.x.resize(size_t(p.n) * D);
  Lcg u;
  for (int i = 0; i < p.n; ++i) {
    Vec<T, D> xi, v;
    Mat<T, D> C, tau;
    for (int d = 0; d < D; ++d) {
      const T extent = spec.dx * (spec.res[d] - 1);
      xi[d] = extent * T(lo + (hi - lo) * u());
      if (i >= n) xi[d] = i == n ? T(-0.3) * spec.dx : extent + T(0.2) * spec.dx;
      v[d] = T(u() - 0.5);
      for (int e = 0; e < D; ++e) C(d, e) = T(u() - 0.5), tau(d, e) = T(100 * (u() - 0.5));
      p.x[size_t(d) * p.n + i] = xi[d];
    }
    p.what.push_back(p2g_particle(spec, T(1e-4), xi, v, C, tau, T(1e-3 * (1 + u())), T(1e-6)));
  }
  return p;
}

// The particles sorted by key as the CUDA sort leaves them: order[q] is the q-th particle, sorted[q] its key.
template <class T, int D>
struct Sorted {
  std::vector<int32_t> order;
  std::vector<uint32_t> sorted;
  std::vector<uint32_t> run_keys;  // the block of each run, in order
};

// wrong_cell moves that sorted particle's key to another cell of its block (the run kept in cell order).
template <class T, int D>
Sorted<T, D> sort_particles(const GridSpec<T, D>& spec, const Particles<T, D>& p, int wrong_cell = -1) {
  using Sums = CellSums<T, D>;
  const CudaBlocks<T, D> blocks = CudaBlocks<T, D>::of(spec);
  Sorted<T, D> s;
  std::vector<uint32_t> keys(p.n);
  for (int i = 0; i < p.n; ++i) keys[i] = cuda_block_key(spec, blocks, p.x.data() + i, size_t(p.n));
  s.order.resize(p.n);
  std::iota(s.order.begin(), s.order.end(), 0);
  std::stable_sort(s.order.begin(), s.order.end(), [&](int a, int b) { return keys[a] < keys[b]; });
  s.sorted.resize(p.n);
  for (int q = 0; q < p.n; ++q) s.sorted[q] = keys[s.order[q]];
  if (wrong_cell >= 0) {
    uint32_t& k = s.sorted[wrong_cell];
    k = (k & ~uint32_t(Sums::kCells - 1)) | ((k + 1) & uint32_t(Sums::kCells - 1));
    const uint32_t block = k >> kCudaCellBits;
    int lo = wrong_cell, hi = wrong_cell;
    while (lo > 0 && s.sorted[lo - 1] >> kCudaCellBits == block) --lo;
    while (hi + 1 < p.n && s.sorted[hi + 1] >> kCudaCellBits == block) ++hi;
    std::vector<int> idx(hi - lo + 1);
    std::iota(idx.begin(), idx.end(), lo);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return s.sorted[a] < s.sorted[b]; });
    std::vector<uint32_t> ks;
    std::vector<int32_t> os;
    for (int q : idx) ks.push_back(s.sorted[q]), os.push_back(s.order[q]);
    std::copy(ks.begin(), ks.end(), s.sorted.begin() + lo);
    std::copy(os.begin(), os.end(), s.order.begin() + lo);
  }
  for (int q = 0; q < p.n; ++q)
    if (q == 0 || s.sorted[q] >> kCudaCellBits != s.sorted[q - 1] >> kCudaCellBits)
      s.run_keys.push_back(s.sorted[q] >> kCudaCellBits);
  return s;
}

// The block program of p2g_cells (mode kCells: 64 threads, a thread per cell; kSlabs: 192, three per cell)
// or p2g_staged (kStaged: 256, a thread per particle then three per cell, `rows` particles of each cell at a
// time) over every run, thread by thread, into grid g with add(pointer, value); a particle off its cell
// goes to the grid directly, listing its stencil's blocks where g lists blocks (staged: into its cell's sums
// after them where its stencil starts in the block and the run's list has room), and counted in *strays
// (where given).
template <class T, int D, class Add>
void run_cell_sums(const GridSpec<T, D>& spec, const Particles<T, D>& p, const Sorted<T, D>& s,
                   CellsMode mode, const CudaGrid<T, D>& g, Add&& add, Status& status,
                   int64_t* strays = nullptr, int rows = CellSums<T, D>::kRows) {
  using Sums = CellSums<T, D>;
  const CudaBlocks<T, D> blocks = CudaBlocks<T, D>::of(spec);
  const int threads = mode == CellsMode::kCells   ? Sums::kCells
                      : mode == CellsMode::kSlabs ? 3 * Sums::kCells
                                                  : 256;
  std::vector<T> part(Sums::kPart), rec(Sums::kRec * rows * Sums::kCells);
  int cell_start[Sums::kCells + 1];
  for (int start = 0; start < p.n;) {
    int count = 0;
    while (start + count < p.n &&
           s.sorted[start + count] >> kCudaCellBits == s.sorted[start] >> kCudaCellBits)
      ++count;
    int lo[D];
    blocks.corner(s.sorted[start] >> kCudaCellBits, lo);
    // the staged version's strays whose stencil starts in the block, listed for sum_strays while there is
    // room
    std::vector<int> stray_list;
    // particle j of the run if its stencil is inside the grid and starts at `cell` (primary: reports a
    // particle outside the grid, lists one outside its cell (staged) or scatters it)
    auto load_for = [&](const int* cell, int j, P2GParticle<T, D>& pp, bool primary) {
      const int i = s.order[start + j];
      pp = p.what[i];
      if (!stencil_inside(spec, pp.base)) {
        if (primary) raise_status(&status, kStatusOutOfDomain, i, kStageP2G);
        return false;
      }
      bool same = true;
      for (int d = 0; d < D; ++d) same = same && pp.base[d] == cell[d];
      if (!same && primary) {
        if (strays) ++*strays;
        if (mode == CellsMode::kStaged && Sums::in_block(pp.base, lo) &&
            int(stray_list.size()) < Sums::kStrayList) {
          stray_list.push_back(j);
          return false;
        }
        if (g.set.flag) g.set.claim_stencil(pp.base, SerialAtomics{});
        g.scatter(pp, add, SerialAtomics{});
      }
      return same;
    };
    // phase 1, with fewer threads than particles where the run is long
    for (int tid = 0; tid < threads; ++tid)
      Sums::cell_starts(tid, threads, s.sorted.data() + start, count, cell_start);
    // phase 2
    if (mode == CellsMode::kStaged) {
      for (int row0 = 0;; row0 += rows) {
        for (int tid = 0; tid < threads; ++tid)
          Sums::stage(
              tid, threads, row0, rows, s.sorted.data() + start, count, cell_start,
              [&](int j, int c, P2GParticle<T, D>& pp) {
                int cell[D];
                Sums::cell_of(c, lo, cell);
                return load_for(cell, j, pp, true);
              },
              rec.data());
        bool more = false;
        for (int tid = 0; tid < 3 * Sums::kCells; ++tid) {
          Sums::sum_staged(tid % Sums::kCells, tid / Sums::kCells, cell_start, row0, rows, rec.data(),
                           part.data());
          more = more || (tid < Sums::kCells && Sums::more_rows(tid, cell_start, row0, rows));
        }
        if (!more) break;
      }
      for (int tid = 0; tid < threads; ++tid)
        Sums::sum_strays(
            tid, threads, int(stray_list.size()), stray_list.data(),
            [&](int j, P2GParticle<T, D>& pp) { pp = p.what[s.order[start + j]]; }, lo, part.data(),
            [](T* ptr, T v) { *ptr += v; });
    }
    for (int tid = 0; tid < threads && mode != CellsMode::kStaged; ++tid) {
      const int c = tid % Sums::kCells;
      int cell[D];
      Sums::cell_of(c, lo, cell);
      auto load = [&](int j, P2GParticle<T, D>& pp, bool primary) { return load_for(cell, j, pp, primary); };
      if (mode == CellsMode::kSlabs)
        Sums::sum_slab(c, tid / Sums::kCells, cell_start, load, part.data());
      else
        Sums::sum_cell(c, cell_start, load, part.data());
    }
    // phase 3
    for (int tid = 0; tid < threads; ++tid) Sums::flush_tile(tid, threads, lo, part.data(), g, add);
    start += count;
  }
}

}  // namespace ductile::test
