// The CPU backend's particle order: particles sorted by the cell of their stencil base, deterministically for
// any thread count (kernels/cpu_backend.cpp).
//
// Order. x slowest, ties by slot index: dense grid, by (x cell, y cell, z cell); sparse grid
// (kernels/cpu_sparse_grid.h), by (block, cell within the block). Both are one total order on (key, slot), so
// the result is unique and does not depend on how the work is split.
//
// Method. A stable counting sort by slice (per-thread histograms over contiguous chunks of slots), then an
// insertion sort by the rest of the key within each slice: cheap because the particles are stored in last
// step's order, so only the few that changed cell move. A slice is an x cell (dense grid) or a column of
// blocks (x block, y block) of the sparse grid: 8 times as many slices as x blocks, so that the slices' work
// (one per task, largest first) spreads evenly over the threads even when the particles span few blocks.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/bspline.h"
#include "kernels/cpu_sparse_grid.h"

namespace ductile::cpu {

// Nodes [lo, hi] per axis (inclusive).
template <int D>
struct Box {
  int lo[D], hi[D];
};

template <class T, int D>
class CellSort {
 public:
  static constexpr int kBits = kBlockBits;  // sparse grid: block edge 2^kBits nodes
  static constexpr int kBlock = 1 << kBits;

  // Sorts the particles of p on the grid spec: nb = the sparse grid's blocks per axis, or null for the dense
  // grid, whose slabs are `slab` cells thick along x.
  void sort(const ParticleView<T, D>& p, const GridSpec<T, D>& spec, const int* nb, int slab) {
    const bool sparse = nb != nullptr;
    const int n = p.n;
    const int nx = sparse ? nb[0] * (D == 3 ? nb[1] : 1) : spec.res[0];
    const int threads = omp_get_max_threads();
    slice_.resize(n);
    entry_.resize(n);
    hist_.assign(size_t(threads) * nx, 0);
    boxes_.resize(threads);
    sorted_.resize(n);
    slice_begin_.assign(nx + 1, 0);
    int used = 1;
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int begin = int(int64_t(n) * t / nt), end = int(int64_t(n) * (t + 1) / nt);
      int* hist = hist_.data() + size_t(t) * nx;
      // cell of every particle and box of this thread's contiguous chunk, then the chunk's slice histogram
      Box<D> b;
      if (sparse)
        b = cells<true>(p, spec, nb, begin, end, slice_.data(), entry_.data());
      else
        b = cells<false>(p, spec, nb, begin, end, slice_.data(), entry_.data());
      const int32_t* const slice = slice_.data();
      for (int i = begin; i < end; ++i) ++hist[slice[i]];
      boxes_[t] = b;
#pragma omp barrier
      // slice starts, and each chunk's first position within every slice (chunks in index order)
#pragma omp single
      {
        used = nt;
        for (int s = 0; s < nx; ++s) {
          int total = 0;
          for (int u = 0; u < nt; ++u) {
            const int c = hist_[size_t(u) * nx + s];
            hist_[size_t(u) * nx + s] = slice_begin_[s] + total;
            total += c;
          }
          slice_begin_[s + 1] = slice_begin_[s] + total;
        }
      }
      // scatter the (cell, index) entries by slice, stable
      for (int i = begin; i < end; ++i) sorted_[hist[slice_[i]]++] = entry_[i];
    }
    // the non-empty slices, largest first (ties by index)
    tasks_.clear();
    for (int s = 0; s < nx; ++s)
      if (slice_begin_[s + 1] > slice_begin_[s]) tasks_.push_back(s);
    std::stable_sort(tasks_.begin(), tasks_.end(), [&](int a, int b) {
      return slice_begin_[a + 1] - slice_begin_[a] > slice_begin_[b + 1] - slice_begin_[b];
    });
    // within each slice by cell, then by index (the entries compare as (cell, index))
    order_.resize(n);
    if (sparse) slice_runs_.resize(nx);
    int64_t per_slice = 1;  // sparse grid: blocks per x block
    if (sparse)
      for (int d = 1; d < D; ++d) per_slice *= nb[d];
    const int count = int(tasks_.size());
#pragma omp parallel for schedule(dynamic, 1)
    for (int j = 0; j < count; ++j) {
      const int s = tasks_[j];
      uint64_t* a = sorted_.data();
      const int lo = slice_begin_[s], hi = slice_begin_[s + 1];
      int64_t moves = 0, budget = 8 * int64_t(hi - lo) + 64;
      for (int i = lo + 1; i < hi && moves <= budget; ++i) {
        const uint64_t e = a[i];
        int m = i;
        for (; m > lo && a[m - 1] > e; --m) a[m] = a[m - 1];
        a[m] = e;
        moves += i - m;
      }
      // far from sorted (the first step of a shuffled state): a full sort gives the same unique order
      if (moves > budget) std::sort(a + lo, a + hi);
      for (int q = lo; q < hi; ++q) order_[q] = int32_t(uint32_t(a[q]) & 0x7fffffffu);
      if (!sparse) continue;
      // runs of particles in one block (the key holds the block's (y, z) coordinates, the slice its x)
      const int64_t xb = D == 3 ? s / nb[1] : s;
      auto& runs = slice_runs_[s];
      runs.clear();
      for (int q = lo; q < hi; ++q) {
        const int64_t block = xb * per_slice + int64_t(a[q] >> (32 + kBits * D));
        if (runs.empty() || runs.back().block != block)
          runs.push_back({q, q + 1, block});
        else
          runs.back().end = q + 1;
      }
    }
    if (sparse) {
      runs_.clear();
      for (int s = 0; s < nx; ++s)
        if (slice_begin_[s + 1] > slice_begin_[s])
          runs_.insert(runs_.end(), slice_runs_[s].begin(), slice_runs_[s].end());
      return;
    }
    // slab ranges
    const int slabs = (nx + slab - 1) / slab;
    slab_begin_.resize(slabs + 1);
    for (int s = 0; s <= slabs; ++s) slab_begin_[s] = slice_begin_[std::min(s * slab, nx)];
    // the box of stencil nodes
    Box<D> b = boxes_[0];
    for (int t = 1; t < used; ++t)
      for (int d = 0; d < D; ++d) {
        b.lo[d] = std::min(b.lo[d], boxes_[t].lo[d]);
        b.hi[d] = std::max(b.hi[d], boxes_[t].hi[d]);
      }
    for (int d = 0; d < D; ++d) b.hi[d] = std::min(b.hi[d] + 2, spec.res[d] - 1);
    if (n == 0)
      for (int d = 0; d < D; ++d) b.lo[d] = 0, b.hi[d] = -1;
    box_ = b;
  }

  // Slot q of the sorted order holds particle order()[q].
  const std::vector<int32_t>& order() const {
    return order_;
  }
  // Sorted keys: (rest of the cell key) << 32 | bit 31 (sparse: stencil leaves the grid) | particle index.
  const std::vector<uint64_t>& keys() const {
    return sorted_;
  }
  // Sparse grid: the runs of sorted slots per block, in block order.
  const std::vector<BlockRun>& runs() const {
    return runs_;
  }
  // Dense grid: the first sorted slot of every slab (and n at the end), and the box of stencil nodes.
  const std::vector<int>& slab_begin() const {
    return slab_begin_;
  }
  const Box<D>& box() const {
    return box_;
  }

 private:
  // Slots [begin, end): slice and (key, slot) entry of every particle, and the box of their stencil bases.
  // One loop per grid kind, without branches, so that the compiler vectorizes it (scalar reductions for the
  // box).
  template <bool Sparse>
  static Box<D> cells(const ParticleView<T, D>& p, const GridSpec<T, D>& spec, const int* nb_in, int begin,
                      int end, int32_t* __restrict slice, uint64_t* __restrict entry) {
    const int n = p.n;
    const T* const px = p.x;
    T origin[D], inv_dx = spec.inv_dx;
    int res[D], nb[D];
    for (int d = 0; d < D; ++d)
      origin[d] = spec.origin[d], res[d] = spec.res[d], nb[d] = Sparse ? nb_in[d] : 1;
    const int nb1 = D == 3 ? nb[1] : 1;
    int lo0 = res[0], lo1 = res[1], lo2 = res[D - 1], hi0 = -1, hi1 = -1, hi2 = -1;
    for (int i = begin; i < end; ++i) {
      int c[D];
      bool outside = false;
      for (int d = 0; d < D; ++d) {
        const int base = floor_int((px[d * n + i] - origin[d]) * inv_dx - T(0.5));
        c[d] = std::min(std::max(base, 0), res[d] - 1);
        outside = outside | (base < 0) | (base + 2 >= res[d]);
      }
      lo0 = std::min(lo0, c[0]), hi0 = std::max(hi0, c[0]);
      lo1 = std::min(lo1, c[1]), hi1 = std::max(hi1, c[1]);
      lo2 = std::min(lo2, c[D - 1]), hi2 = std::max(hi2, c[D - 1]);
      uint32_t rest;
      if constexpr (Sparse) {
        // (block y, block z) then the cell within the block, kBits bits per axis (x, y, z)
        uint32_t block = 0, local = 0;
        for (int d = 1; d < D; ++d) block = block * uint32_t(nb[d]) + uint32_t(c[d] >> kBits);
        for (int d = 0; d < D; ++d) local = local << kBits | uint32_t(c[d] & (kBlock - 1));
        slice[i] = (c[0] >> kBits) * nb1 + (D == 3 ? c[1] >> kBits : 0);
        rest = block << (kBits * D) | local;
      } else {
        slice[i] = c[0];
        rest = uint32_t(c[1]);
        if (D == 3) rest = rest * uint32_t(res[D - 1]) + uint32_t(c[D - 1]);
      }
      // bit 31: (sparse grid) the stencil leaves the grid, so the transfers skip the particle
      entry[i] = uint64_t(rest) << 32 | uint32_t(i) | uint32_t(Sparse && outside) << 31;
    }
    Box<D> b;
    b.lo[0] = lo0, b.hi[0] = hi0, b.lo[1] = lo1, b.hi[1] = hi1;
    b.lo[D - 1] = lo2, b.hi[D - 1] = hi2;
    return b;
  }

  std::vector<int32_t> slice_;
  std::vector<uint64_t> entry_, sorted_;  // (cell within slice) << 32 | particle index
  std::vector<int> hist_, slice_begin_, slab_begin_, tasks_;
  std::vector<int32_t> order_;
  std::vector<Box<D>> boxes_;
  std::vector<BlockRun> runs_;
  std::vector<std::vector<BlockRun>> slice_runs_;
  Box<D> box_;
};

}  // namespace ductile::cpu
