// Active blocks of the CUDA backend's grid: the grid blocks (kernels/cuda_blocks.h) that particle-to-grid may
// write this step, listed once each, so that the grid update and the clearing before the next P2G visit those
// blocks' nodes only instead of every node of the dense grid (Gao et al. 2018, sec. 4: a sparse grid of
// blocks that hold particles). With the dense storage (DUCTILE_CUDA_GRID=active) the grid outside the listed
// blocks holds zeros, which is what the dense update leaves at a node without mass, so both give the same
// velocities bit for bit. With the sparse storage (DUCTILE_CUDA_GRID=sparse, kernels/cuda_grid.h) a block's
// place in the list is its place in a pool of blocks, so memory follows the listed blocks too.
//
// A particle whose stencil starts in cell c of block b writes the nodes c .. c + 2, which lie in blocks
// b + {0, 1}^D (kCudaBlock >= 2), so each run of sorted particles lists its block and those neighbours. A
// particle whose key and stencil disagree (it moved since the last sort, DUCTILE_CUDA_SORT=adaptive, or the
// two round differently) lists the blocks of its own stencil's corners. Plain host-device code: the kernels
// pass atomics in, the CPU tests plain operations.
#pragma once

#include <cstdint>

#include "core/grid.h"
#include "kernels/cuda_blocks.h"
#include "kernels/grid_update.h"

namespace ductile {

template <class T, int D>
struct ActiveBlocks {
  CudaBlocks<T, D> blocks;
  uint32_t* flag;  // per block: kFree, kPending while being listed, then its list position + 1 (or kOverflow)
  uint32_t* list;  // keys of the listed blocks by position (positions < capacity)
  uint32_t* count;  // how many blocks were claimed; past `capacity` they are counted but not listed
  uint32_t capacity = 0xffffffffu;
  static constexpr uint32_t kFree = 0, kPending = 0xffffffffu, kOverflow = 0xfffffffeu;
  static constexpr int kNodes =
      D == 3 ? kCudaBlock<D> * kCudaBlock<D> * kCudaBlock<D> : kCudaBlock<D> * kCudaBlock<D>;

  // Lists block `key` unless it is claimed; at.cas(p, expected, desired) and at.add(p, v) return the old *p,
  // at.exch(p, v) publishes v.
  template <class Atomics>
  DUCTILE_HD DUCTILE_INLINE void claim(uint32_t key, const Atomics& at) const {
    if (at.cas(flag + key, kFree, kPending) != kFree) return;
    const uint32_t pos = at.add(count, 1u);
    if (pos < capacity) list[pos] = key;
    at.exch(flag + key, pos < capacity ? pos + 1 : kOverflow);
  }

  // The list position of block `key`, or -1 where it has none (not claimed, or claimed past the capacity).
  // at.load(p) reads *p anew each time: a block that another thread is listing is waited for.
  template <class Atomics>
  DUCTILE_HD DUCTILE_INLINE int64_t position(uint32_t key, const Atomics& at) const {
    uint32_t f = at.load(flag + key);
    while (f == kPending) f = at.load(flag + key);
    return f == kFree || f == kOverflow ? -1 : int64_t(f) - 1;
  }
  // The same for a block that no thread is listing now (claimed by an earlier kernel).
  DUCTILE_HD DUCTILE_INLINE int64_t position(uint32_t key) const {
    const uint32_t f = flag[key];
    return f == kFree || f >= kOverflow ? -1 : int64_t(f) - 1;
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

  // Node t of the listed blocks (node t % kNodes of the (t / kNodes)-th listed block): its cell c; false
  // where the block overhangs the grid's last cells.
  DUCTILE_HD DUCTILE_INLINE bool node(long long t, const GridSpec<T, D>& spec, int* c) const {
    int lo[D];
    blocks.corner(list[t / kNodes], lo);
    int rest = int(t % kNodes);
    bool inside = true;
    for (int d = D - 1; d >= 0; --d) {
      c[d] = lo[d] + rest % kCudaBlock<D>;
      rest /= kCudaBlock<D>;
      inside = inside && c[d] < spec.res[d];
    }
    return inside;
  }
};

// The grid update in place at node idx (cell c) of storage whose component k lives at mv[k stride + idx],
// with 32-bit node indices (fewer than 2^32 nodes; the component offsets are 64-bit): an empty node (no mass,
// no momentum) already holds its velocity, zero, and is not written.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE void grid_update_node_in_place(const GridUpdate<T, D>& k, uint32_t idx,
                                                         const int* c, size_t stride) {
  const T m = k.g.mass[idx];
  Vec<T, D> mv;
  bool empty = !(m > T(0));
  for (int d = 0; d < D; ++d) {
    mv[d] = k.g.mv[size_t(d) * stride + idx];
    empty = empty && mv[d] == T(0);
  }
  if (empty) return;
  const Vec<T, D> v = k.velocity(c, m, mv);
  for (int d = 0; d < D; ++d) k.g.mv[size_t(d) * stride + idx] = v[d];
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

}  // namespace ductile
