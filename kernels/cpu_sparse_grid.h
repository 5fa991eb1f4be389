// The CPU backend's sparse grid: memory and time follow the blocks the particles touch, not the domain's box.
//
// Two levels (SPGrid/Claymore style, docs/ARCHITECTURE.md "Sparse grid"): the grid's nodes are cut into
// blocks of 8^D nodes (kBlockBits); a dense table over the blocks (4 bytes per 8^D nodes) holds each block's
// index in a pool, or -1. Each step the particles, sorted by block, name the blocks they touch: a particle
// whose stencil base lies in block B reaches nodes of B and B + 1 along each axis, so B + {0, 1}^D are
// allocated (in a fixed order), zeroed, scattered, updated and gathered, and nothing else. A pool block holds
// mass then the D momentum (then velocity) components, 8^D values each.
//
// The transfers go through a scratch per particle block: 10^(D-1) rows of 12 nodes (the block's 8 nodes plus
// 2 along each axis, rows padded to 12 so that every 4-lane row is whole). P2G scatters a block's particles
// into its scratch with the dense grid's row kernels (kernels/cpu_rows.h), then adds the scratch to the 2^D
// pool blocks it overlaps; G2P fills the scratch from the pool and gathers from it. Blocks of one colour (the
// parity of their coordinates) overlap no common pool block, so each colour's blocks run in parallel and
// every node adds its contributions in an order that depends neither on the thread count nor on the domain's
// size.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/cpu_rows.h"
#include "kernels/grid_update.h"

namespace ductile::cpu {

// Block edge in nodes, 2^kBlockBits = 8: a run of particles (about 2000 at 4 per cell) pays its scratch's
// clear, fill and flush once, and the scratch's 10^D nodes per 8^D of the block waste less than 6^D per 4^D
// would.
constexpr int kBlockBits = 3;

// The particles of sorted slots [begin, end) have their stencil base in block `block` (linear block index).
struct BlockRun {
  int begin, end;
  int64_t block;
};

template <class T, int D>
class SparseGrid {
 public:
  static constexpr int kBits = kBlockBits;   // block edge 2^kBits nodes
  static constexpr int kBlock = 1 << kBits;  // nodes per block edge
  static constexpr int kBlockNodes = D == 3 ? kBlock * kBlock * kBlock : kBlock * kBlock;
  static constexpr int kSpan = kBlock + 2;                  // scratch nodes per axis: the block and 2 more
  static constexpr int kRowLen = (kBlock + 3 + 3) / 4 * 4;  // scratch row, padded for 4-lane rows
  static constexpr int kScratchRows = D == 3 ? kSpan * kSpan : kSpan;
  static constexpr int kScratch = kScratchRows * kRowLen;     // nodes per scratch channel
  static constexpr int kChannels = D + 1;                     // mass, then D momentum/velocity components
  static constexpr int kPoolBlock = kChannels * kBlockNodes;  // values per pool block

  // Blocks per axis of a grid with spec's nodes; (re)makes the table when the grid changed.
  void reset(const GridSpec<T, D>& spec) {
    int64_t total = 1;
    bool same = !table_.empty();
    for (int d = 0; d < D; ++d) {
      const int nb = (spec.res[d] + kBlock - 1) / kBlock;
      same = same && nb == nb_[d] && spec.res[d] == res_[d];
      nb_[d] = nb, res_[d] = spec.res[d];
      total *= nb;
    }
    if (same) return;
    // the sort packs (block y, block z, cell within the block) into 32 bits
    int64_t across = 1;
    for (int d = 1; d < D; ++d) across *= nb_[d];
    if (across >= (int64_t(1) << (32 - kBits * D)))
      fail("cpu backend", "a grid of " + std::to_string(res_[1]) + " x " + std::to_string(res_[D - 1]) +
                              " nodes across x is too large for the sparse grid's sort key");
    table_.assign(size_t(total), -1);
    active_.clear();
  }
  const int* blocks_per_axis() const { return nb_; }

  // Block coordinates of linear block index b.
  void coords(int64_t b, int* c) const {
    for (int d = D - 1; d >= 0; --d) c[d] = int(b % nb_[d]), b /= nb_[d];
  }
  int64_t linear(const int* c) const {
    int64_t b = c[0];
    for (int d = 1; d < D; ++d) b = b * nb_[d] + c[d];
    return b;
  }
  // Pool index of the block at coordinates c (-1: not allocated or past the grid).
  int32_t find(const int* c) const {
    for (int d = 0; d < D; ++d)
      if (c[d] >= nb_[d]) return -1;
    return table_[linear(c)];
  }

  // Allocates and zeroes the blocks the runs touch (B + {0, 1}^D of each run's block B), in run order.
  void activate(const std::vector<BlockRun>& runs) {
    for (int64_t b : active_) table_[b] = -1;
    active_.clear();
    for (const BlockRun& r : runs) {
      int c[D];
      coords(r.block, c);
      for (int o = 0; o < (1 << D); ++o) {
        int e[D];
        bool in = true;
        for (int d = 0; d < D; ++d) {
          e[d] = c[d] + ((o >> (D - 1 - d)) & 1);
          in = in && e[d] < nb_[d];
        }
        if (!in) continue;
        const int64_t b = linear(e);
        if (table_[b] < 0) {
          table_[b] = int32_t(active_.size());
          active_.push_back(b);
        }
      }
    }
    const size_t need = active_.size() * kPoolBlock;
    if (pool_.size() < need) pool_.resize(need);
    T* const pool = pool_.data();
    const int64_t blocks = int64_t(active_.size());
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < blocks; ++k) std::memset(pool + k * kPoolBlock, 0, sizeof(T) * kPoolBlock);
  }

  // Where a block's scratch puts node c: the scratch of the block with first node `corner`.
  static Target<D> scratch_target(const int* corner, const uint64_t* keys) {
    Target<D> t;
    for (int d = 0; d < D; ++d) t.corner[d] = corner[d];
    t.stride[D - 1] = 1;
    t.stride[D - 2] = kRowLen;
    if (D == 3) t.stride[0] = int64_t(kSpan) * kRowLen;
    t.channel = kScratch;
    t.full_limit = 1 << 30;  // rows are padded: always whole
    t.keys = keys;
    t.local_bits = kBits;
    t.windows = kRowLen >= 12 && kBlock % 4 == 0;  // 8 lanes from (local node & ~3) <= kBlock - 4 fit a row
    return t;
  }

  // Visits the scratch's rows: fn(scratch row offset, pool block of the row's first kBlock nodes, pool block
  // of its last 2 nodes (the next block along the last axis), pool node offset of the row in both).
  template <class Fn>
  void for_each_row(const int* corner, Fn&& fn) const {
    for (int r = 0; r < kScratchRows; ++r) {
      const int l0 = D == 3 ? r / kSpan : r, l1 = r % kSpan;
      int g[D], b[D];
      g[0] = corner[0] + l0;
      if (D == 3) g[1] = corner[1] + l1;
      int local = 0;
      for (int d = 0; d < D - 1; ++d) b[d] = g[d] >> kBits, local = local * kBlock + (g[d] & (kBlock - 1));
      b[D - 1] = corner[D - 1] >> kBits;
      const int32_t k0 = find(b);
      ++b[D - 1];
      const int32_t k1 = find(b);
      fn(r * kRowLen, k0, k1, local * kBlock);
    }
  }

  // Adds a P2G scratch (mass and D momentum channels) to the pool. Nodes past the grid's last block are
  // skipped: no particle whose stencil lies inside the grid reaches them.
  void flush(const int* corner, const T* scratch) {
    T* const pool = pool_.data();
    for_each_row(corner, [&](int s, int32_t k0, int32_t k1, int p) {
      if (k0 >= 0) {
        T* dst = pool + int64_t(k0) * kPoolBlock + p;
        for (int c = 0; c < kChannels; ++c)
          for (int i = 0; i < kBlock; ++i) dst[c * kBlockNodes + i] += scratch[c * kScratch + s + i];
      }
      if (k1 >= 0) {
        T* dst = pool + int64_t(k1) * kPoolBlock + p;
        for (int c = 0; c < kChannels; ++c)
          for (int i = 0; i < 2; ++i) dst[c * kBlockNodes + i] += scratch[c * kScratch + s + kBlock + i];
      }
    });
  }

  // Fills a G2P scratch (D velocity channels) from the pool (zero outside the allocated blocks).
  void fill(const int* corner, T* scratch) const {
    const T* const pool = pool_.data();
    for_each_row(corner, [&](int s, int32_t k0, int32_t k1, int p) {
      for (int c = 0; c < D; ++c) {
        T* dst = scratch + c * kScratch + s;
        const T* src0 = pool + int64_t(k0) * kPoolBlock + (c + 1) * kBlockNodes + p;
        const T* src1 = pool + int64_t(k1) * kPoolBlock + (c + 1) * kBlockNodes + p;
        for (int i = 0; i < kBlock; ++i) dst[i] = k0 >= 0 ? src0[i] : T(0);
        for (int i = 0; i < 2; ++i) dst[kBlock + i] = k1 >= 0 ? src1[i] : T(0);
      }
    });
  }

  // The grid update on every allocated node: momentum to velocity in place (k.v_out must be null).
  void update(const GridUpdate<T, D>& k) {
    if (k.v_out) fail("cpu backend", "the sparse grid updates velocities in place only");
    T* const pool = pool_.data();
    const int64_t blocks = int64_t(active_.size());
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < blocks; ++b) {
      int bc[D];
      coords(active_[b], bc);
      T* const blk = pool + b * kPoolBlock;
      for (int l = 0; l < kBlockNodes; ++l) {
        if (!(blk[l] > T(0))) {
          // no mass (also every node past the grid's end): zero velocity, as GridUpdate::velocity gives
          for (int d = 0; d < D; ++d) blk[(d + 1) * kBlockNodes + l] = T(0);
          continue;
        }
        int c[D];
        bool in = true;
        for (int d = 0; d < D; ++d) {
          c[d] = bc[d] * kBlock + ((l >> (kBits * (D - 1 - d))) & (kBlock - 1));
          in = in && c[d] < res_[d];
        }
        Vec<T, D> mv;
        for (int d = 0; d < D; ++d) mv[d] = blk[(d + 1) * kBlockNodes + l];
        const Vec<T, D> v = in ? k.velocity(c, blk[l], mv) : Vec<T, D>::zero();
        for (int d = 0; d < D; ++d) blk[(d + 1) * kBlockNodes + l] = v[d];
      }
    }
  }

  int64_t active_blocks() const {
    return int64_t(active_.size());
  }
  // Bytes held: the block table and the pool (its high-water mark).
  int64_t bytes() const {
    return int64_t(table_.capacity() * sizeof(int32_t) + pool_.capacity() * sizeof(T) +
                   active_.capacity() * sizeof(int64_t));
  }

 private:
  int nb_[D] = {}, res_[D] = {};
  std::vector<int32_t> table_;   // pool index per block, -1 where not allocated
  std::vector<int64_t> active_;  // linear index of each pool block
  std::vector<T> pool_;
};

}  // namespace ductile::cpu
