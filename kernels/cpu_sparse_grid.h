// The CPU backend's sparse grid: memory and time follow the blocks the particles touch, not the domain's box.
//
// Two levels (SPGrid/Claymore style, docs/ARCHITECTURE.md "Sparse grid"): the grid's nodes are cut into
// blocks of 4^D nodes; a dense table over the blocks (4 bytes per 4^D nodes) holds each block's index in a
// pool, or -1. Each step the particles, sorted by block, name the blocks they touch: a particle whose stencil
// base lies in block B reaches nodes of B and B + 1 along each axis, so B + {0, 1}^D are allocated (in a
// fixed order), zeroed, scattered, updated and gathered, and nothing else. A pool block holds mass then the D
// momentum (then velocity) components, 4^D values each.
//
// The transfers go through a scratch per particle block: 6^(D-1) rows of 8 nodes (the block's 4 nodes plus 2
// along each axis, rows padded to 8 so that every 4-lane row is whole). P2G scatters a block's particles into
// its scratch with the dense grid's row kernels (kernels/cpu_rows.h), then adds the scratch to the 2^D pool
// blocks it overlaps; G2P fills the scratch from the pool and gathers from it. Blocks of one colour (the
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

// The particles of sorted slots [begin, end) have their stencil base in block `block` (linear block index).
struct BlockRun {
  int begin, end;
  int64_t block;
};

template <class T, int D>
class SparseGrid {
 public:
  static constexpr int kBlockNodes = D == 3 ? 64 : 16;        // 4^D
  static constexpr int kScratchRows = D == 3 ? 36 : 6;        // 6^(D-1) rows of 8
  static constexpr int kScratch = kScratchRows * 8;           // nodes per scratch channel
  static constexpr int kChannels = D + 1;                     // mass, then D momentum/velocity components
  static constexpr int kPoolBlock = kChannels * kBlockNodes;  // values per pool block

  // Blocks per axis of a grid with spec's nodes; (re)makes the table when the grid changed.
  void reset(const GridSpec<T, D>& spec) {
    int64_t total = 1;
    bool same = !table_.empty();
    for (int d = 0; d < D; ++d) {
      const int nb = (spec.res[d] + 3) / 4;
      same = same && nb == nb_[d] && spec.res[d] == res_[d];
      nb_[d] = nb, res_[d] = spec.res[d];
      total *= nb;
    }
    if (same) return;
    // the sort packs (block y, block z, local cell) into 32 bits
    if (D == 3 && int64_t(nb_[1]) * nb_[2] >= (int64_t(1) << 26))
      fail("cpu backend", "grid of " + std::to_string(res_[1]) + " x " + std::to_string(res_[D - 1]) +
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

  // Where a block's scratch puts node c: the scratch of the block with first node `corner` (block * 4).
  static Target<D> scratch_target(const int* corner, const uint64_t* keys) {
    Target<D> t;
    for (int d = 0; d < D; ++d) t.corner[d] = corner[d];
    t.stride[D - 1] = 1;
    t.stride[D - 2] = 8;
    if (D == 3) t.stride[0] = 48;
    t.channel = kScratch;
    t.full_limit = 1 << 30;  // rows are padded: always whole
    t.keys = keys;
    return t;
  }

  // Visits the scratch's row pieces that lie in pool blocks: fn(scratch offset, pool block values, pool node
  // offset, count) for the row's nodes 0..3 (block z) and 4..5 (block z + 1).
  template <class Fn>
  void for_each_piece(const int* corner, Fn&& fn) const {
    for (int r = 0; r < kScratchRows; ++r) {
      const int l0 = D == 3 ? r / 6 : r, l1 = r % 6;
      int g[D], b[D];
      g[0] = corner[0] + l0;
      if (D == 3) g[1] = corner[1] + l1;
      int local = 0;
      for (int d = 0; d < D - 1; ++d) b[d] = g[d] >> 2, local = local * 4 + (g[d] & 3);
      for (int part = 0; part < 2; ++part) {
        b[D - 1] = (corner[D - 1] >> 2) + part;
        bool in = true;
        for (int d = 0; d < D; ++d) in = in && b[d] < nb_[d];
        const int32_t k = in ? table_[linear(b)] : -1;
        fn(r * 8 + part * 4, k, local * 4, part == 0 ? 4 : 2);
      }
    }
  }

  // Adds a P2G scratch (mass and D momentum channels) to the pool.
  void flush(const int* corner, const T* scratch) {
    T* const pool = pool_.data();
    for_each_piece(corner, [&](int s, int32_t k, int p, int count) {
      if (k < 0) return;  // nodes past the grid's last block: no particle reaches them
      T* dst = pool + int64_t(k) * kPoolBlock + p;
      for (int c = 0; c < kChannels; ++c)
        for (int i = 0; i < count; ++i) dst[c * kBlockNodes + i] += scratch[c * kScratch + s + i];
    });
  }

  // Fills a G2P scratch (D velocity channels) from the pool (zero outside the allocated blocks).
  void fill(const int* corner, T* scratch) const {
    const T* const pool = pool_.data();
    for_each_piece(corner, [&](int s, int32_t k, int p, int count) {
      for (int c = 0; c < D; ++c)
        for (int i = 0; i < count; ++i)
          scratch[c * kScratch + s + i] =
              k < 0 ? T(0) : pool[int64_t(k) * kPoolBlock + (c + 1) * kBlockNodes + p + i];
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
        int c[D];
        bool in = true;
        for (int d = 0; d < D; ++d) {
          c[d] = bc[d] * 4 + ((l >> (2 * (D - 1 - d))) & 3);
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
