// Active blocks of the CUDA backend's grid: the grid blocks (kernels/cuda_blocks.h) that particle-to-grid may
// have written this step, listed once each, so that the grid update and the clearing before the next P2G
// visit those blocks' nodes only instead of every node of the dense grid (Gao et al. 2018, sec. 4: a sparse
// grid of blocks that hold particles). The grid's storage stays dense; outside the listed blocks it holds
// zeros, which is what the dense update leaves at a node without mass, so both give the same velocities bit
// for bit.
//
// A particle whose stencil starts in cell c of block b writes the nodes c .. c + 2, which lie in blocks
// b + {0, 1}^D (kCudaBlock >= 2), so each run of sorted particles lists its block and those neighbours. A
// particle whose key and stencil disagree (never, unless the two round differently) lists the blocks of its
// own stencil's corners. Plain host-device code: the kernels pass atomics in, the CPU tests plain operations.
#pragma once

#include <cstdint>

#include "core/grid.h"
#include "kernels/cuda_blocks.h"
#include "kernels/grid_update.h"

namespace ductile {

template <class T, int D>
struct ActiveBlocks {
  CudaBlocks<T, D> blocks;
  uint32_t* flag;   // per block: 1 while listed
  uint32_t* list;   // keys of the listed blocks, in no particular order
  uint32_t* count;  // how many are listed
  static constexpr int kNodes =
      D == 3 ? kCudaBlock<D> * kCudaBlock<D> * kCudaBlock<D> : kCudaBlock<D> * kCudaBlock<D>;

  // Lists block `key` unless it is listed; at.cas(p, expected, desired) returns the old *p, at.add(p, v) too.
  template <class Atomics>
  DUCTILE_HD DUCTILE_INLINE void claim(uint32_t key, const Atomics& at) const {
    if (at.cas(flag + key, 0u, 1u) == 0u) list[at.add(count, 1u)] = key;
  }

  // Lists the blocks of the nodes base .. base + 2 (a stencil inside the grid).
  template <class Atomics>
  DUCTILE_HD DUCTILE_INLINE void claim_stencil(const int* base, const Atomics& at) const {
    for (int corner = 0; corner < (1 << D); ++corner) {
      int kb[D];
      for (int d = 0; d < D; ++d) kb[d] = (base[d] + 2 * ((corner >> d) & 1)) / kCudaBlock<D>;
      claim(blocks.key(kb), at);
    }
  }

  // Lists block `key` and its neighbours b + {0, 1}^D inside the grid: what a run of block `key` writes.
  template <class Atomics>
  DUCTILE_HD DUCTILE_INLINE void claim_run(uint32_t key, const Atomics& at) const {
    int lo[D];
    blocks.corner(key, lo);
    for (int corner = 0; corner < (1 << D); ++corner) {
      int kb[D];
      bool inside = true;
      for (int d = 0; d < D; ++d) {
        kb[d] = lo[d] / kCudaBlock<D> + ((corner >> d) & 1);
        inside = inside && kb[d] < blocks.nb[d];
      }
      if (inside) claim(blocks.key(kb), at);
    }
  }

  // Node t of the listed blocks (node t % kNodes of the (t / kNodes)-th listed block): its cell c and grid
  // index; false where the block overhangs the grid's last cells.
  DUCTILE_HD DUCTILE_INLINE bool node(long long t, const GridSpec<T, D>& spec, int* c, uint32_t& idx) const {
    int lo[D];
    blocks.corner(list[t / kNodes], lo);
    int rest = int(t % kNodes);
    bool inside = true;
    for (int d = D - 1; d >= 0; --d) {
      c[d] = lo[d] + rest % kCudaBlock<D>;
      rest /= kCudaBlock<D>;
      inside = inside && c[d] < spec.res[d];
    }
    if (!inside) return false;
    idx = uint32_t(spec.index(c));
    return true;
  }
};

// The grid update in place at node idx (cell c), with 32-bit node indices (the grid has under 2^32 nodes; the
// component offsets are 64-bit): an empty node (no mass, no momentum) already holds its velocity, zero, and
// is not written.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE void grid_update_node_in_place(const GridUpdate<T, D>& k, uint32_t idx,
                                                         const int* c) {
  const size_t nodes = size_t(k.g.spec.num_nodes());
  const T m = k.g.mass[idx];
  Vec<T, D> mv;
  bool empty = !(m > T(0));
  for (int d = 0; d < D; ++d) {
    mv[d] = k.g.mv[size_t(d) * nodes + idx];
    empty = empty && mv[d] == T(0);
  }
  if (empty) return;
  const Vec<T, D> v = k.velocity(c, m, mv);
  for (int d = 0; d < D; ++d) k.g.mv[size_t(d) * nodes + idx] = v[d];
}

// Every run's blocks listed: one call per run r < *num_runs of the sorted particles.
template <class T, int D, class Atomics>
struct ClaimRuns {
  ActiveBlocks<T, D> set;
  const uint32_t* run_keys;
  const int32_t* num_runs;
  Atomics at;
  DUCTILE_HD DUCTILE_INLINE void operator()(long long r) const {
    if (r < *num_runs) set.claim_run(run_keys[r], at);
  }
};

// The grid update at node t of the listed blocks (t < *count kNodes).
template <class T, int D>
struct UpdateActiveNodes {
  ActiveBlocks<T, D> set;
  GridUpdate<T, D> k;
  DUCTILE_HD DUCTILE_INLINE void operator()(long long t) const {
    int c[D];
    uint32_t idx;
    if (set.node(t, k.g.spec, c, idx)) grid_update_node_in_place(k, idx, c);
  }
};

// Zeroes node t of the listed blocks (t < *count kNodes) and unflags its block; the count is reset after.
template <class T, int D>
struct ClearActiveNodes {
  ActiveBlocks<T, D> set;
  GridView<T, D> g;
  DUCTILE_HD DUCTILE_INLINE void operator()(long long t) const {
    if (t % ActiveBlocks<T, D>::kNodes == 0) set.flag[set.list[t / ActiveBlocks<T, D>::kNodes]] = 0;
    int c[D];
    uint32_t idx;
    if (!set.node(t, g.spec, c, idx)) return;
    const size_t nodes = size_t(g.spec.num_nodes());
    g.mass[idx] = T(0);
    for (int d = 0; d < D; ++d) g.mv[size_t(d) * nodes + idx] = T(0);
  }
};

}  // namespace ductile
