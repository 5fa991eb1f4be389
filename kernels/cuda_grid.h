// Where the CUDA backend's kernels find grid node c (Gao et al. 2018, sec. 4; Wang et al. 2020, Claymore: a
// pool of grid blocks found through a table):
//  - dense storage over the domain's box: node index spec.index(c), component k at mv[k nodes + index]; the
//    blocks the particles write are listed or not (DUCTILE_CUDA_GRID=active or dense);
//  - the pool (DUCTILE_CUDA_GRID=sparse): the listed block at list position s keeps its kNodes nodes at
//    indices s kNodes .. s kNodes + kNodes - 1 (row-major inside the block), component k at
//    mv[k capacity kNodes + index], and the blocks' flags (kernels/cuda_active_blocks.h) are the table from a
//    block to its position. Memory is the pool plus 4 bytes per block of the domain, and a node of a block
//    that was not listed has no storage (the dense grid holds zero there).
// Plain host-device code: the CPU tests run it with plain stand-ins for the atomics.
#pragma once

#include <cstdint>

#include "core/grid.h"
#include "kernels/bspline.h"
#include "kernels/cuda_active_blocks.h"
#include "kernels/grid_update.h"
#include "kernels/p2g.h"

namespace ductile {

template <class T, int D>
struct CudaGrid {
  static constexpr int kNodes = ActiveBlocks<T, D>::kNodes;
  GridSpec<T, D> spec;
  T* mass = nullptr;
  T* mv = nullptr;
  int64_t stride = 0;        // component k of node index i at mv[k stride + i]
  ActiveBlocks<T, D> set{};  // set.flag null: no blocks listed
  bool pool = false;         // the storage is the pool of listed blocks

  static CudaGrid dense(const GridView<T, D>& g, const ActiveBlocks<T, D>& set) {
    return {g.spec, g.mass, g.mv, g.spec.num_nodes(), set, false};
  }
  static CudaGrid pooled(const GridSpec<T, D>& spec, T* mass, T* mv, const ActiveBlocks<T, D>& set) {
    return {spec, mass, mv, int64_t(set.capacity) * kNodes, set, true};
  }

  // The block of node c and the node's place inside it.
  DUCTILE_HD DUCTILE_INLINE uint32_t block_of(const int* c, int& local) const {
    int kb[D];
    local = 0;
    for (int d = 0; d < D; ++d) {
      kb[d] = c[d] / kCudaBlock<D>;
      local = local * kCudaBlock<D> + c[d] % kCudaBlock<D>;
    }
    return set.blocks.key(kb);
  }

  // Index of node c (inside the grid) in mass and mv, or -1 where it has no storage; a block that another
  // thread is listing is waited for (at.load, kernels/cuda_active_blocks.h).
  template <class Atomics>
  DUCTILE_HD DUCTILE_INLINE int64_t index(const int* c, const Atomics& at) const {
    if (!pool) return spec.index(c);
    int local;
    const int64_t s = set.position(block_of(c, local), at);
    return s < 0 ? -1 : s * kNodes + local;
  }
  // The same where every block was listed by an earlier kernel.
  DUCTILE_HD DUCTILE_INLINE int64_t index(const int* c) const {
    if (!pool) return spec.index(c);
    int local;
    const int64_t s = set.position(block_of(c, local));
    return s < 0 ? -1 : s * kNodes + local;
  }

  // Adds what one particle scatters to its stencil node by node through add(pointer, value) (the nodes
  // without storage skipped).
  template <class Add, class Atomics>
  DUCTILE_HD DUCTILE_INLINE void scatter(const P2GParticle<T, D>& pp, Add&& add, const Atomics& at) const {
    for_each_scatter_node(pp, [&](const int* c, T w, const Vec<T, D>& qo) {
      const int64_t i = index(c, at);
      if (i < 0) return;
      add(mass + i, w * pp.m);
      for (int k = 0; k < D; ++k) add(mv + k * stride + i, w * qo[k]);
    });
  }

  // Node t of the listed blocks (t < count kNodes): its cell c and index; false where the block overhangs
  // the grid's last cells.
  DUCTILE_HD DUCTILE_INLINE bool listed_node(long long t, int* c, uint32_t& idx) const {
    if (!set.node(t, spec, c)) return false;
    idx = pool ? uint32_t(t) : uint32_t(spec.index(c));
    return true;
  }
};

// The grid update at node t of the listed blocks; k.g holds the same storage as g.
template <class T, int D>
struct UpdateListedNodes {
  CudaGrid<T, D> g;
  GridUpdate<T, D> k;
  DUCTILE_HD DUCTILE_INLINE void operator()(long long t) const {
    int c[D];
    uint32_t idx;
    if (g.listed_node(t, c, idx)) grid_update_node_in_place(k, idx, c, size_t(g.stride));
  }
};

// Zeroes node t of the listed blocks and frees its block; the count is reset after.
template <class T, int D>
struct ClearListedNodes {
  CudaGrid<T, D> g;
  DUCTILE_HD DUCTILE_INLINE void operator()(long long t) const {
    constexpr int kNodes = CudaGrid<T, D>::kNodes;
    if (t % kNodes == 0) g.set.flag[g.set.list[t / kNodes]] = ActiveBlocks<T, D>::kFree;
    int c[D];
    uint32_t idx;
    if (!g.listed_node(t, c, idx)) return;
    g.mass[idx] = T(0);
    for (int d = 0; d < D; ++d) g.mv[size_t(d) * size_t(g.stride) + idx] = T(0);
  }
};

// G2P's visit of the stencil over the pool (kernels/g2p.h): fn(offset, weight, index) in the order and with
// the weights of for_each_stencil_index, skipping nodes without storage (whose velocity the dense grid holds
// as zero). The 3^D nodes lie in at most 2^D blocks, whose positions are looked up once each and then chosen
// per axis by selects (an array indexed at run time would live in local memory).
template <class T, int D>
struct PoolStencil {
  static constexpr uint32_t kNone = 0xffffffffu;  // no storage (never a multiple of kNodes)
  CudaGrid<T, D> g;
  template <class Fn>
  DUCTILE_HD DUCTILE_INLINE void visit(const Stencil<T, D>& s, const GridSpec<T, D>&, Fn&& fn) const {
    constexpr int B = kCudaBlock<D>;
    constexpr uint32_t kNodes = uint32_t(CudaGrid<T, D>::kNodes);
    // per axis and offset: the node's place in its block, and whether it is in the base's block or the next
    int local[D][3], kb[D];
    bool next[D][3];
    for (int d = 0; d < D; ++d) {
      kb[d] = s.base[d] / B;
      DUCTILE_UNROLL
      for (int o = 0; o < 3; ++o) {
        const int c = s.base[d] + o;
        local[d][o] = c % B;
        next[d][o] = c / B != kb[d];
      }
    }
    // the first node of each block the stencil reaches (corner bit d: the next block along axis d)
    uint32_t first[1 << D];
    DUCTILE_UNROLL
    for (int corner = 0; corner < (1 << D); ++corner) {
      int cb[D];
      bool reached = true;
      for (int d = 0; d < D; ++d) {
        const int up = (corner >> d) & 1;
        cb[d] = kb[d] + up;
        reached = reached && (up == 0 || next[d][2]);
      }
      const int64_t pos = reached ? g.set.position(g.set.blocks.key(cb)) : -1;
      first[corner] = pos < 0 ? kNone : uint32_t(pos) * kNodes;
    }
    if constexpr (D == 2) {
      DUCTILE_UNROLL
      for (int a = 0; a < 3; ++a) {
        const uint32_t ya[2] = {next[0][a] ? first[1] : first[0], next[0][a] ? first[3] : first[2]};
        DUCTILE_UNROLL
        for (int b = 0; b < 3; ++b) {
          int off[2] = {a, b};
          const uint32_t f = next[1][b] ? ya[1] : ya[0];
          if (f != kNone)
            fn(off, s.w[0][a] * s.w[1][b], int64_t(f + uint32_t(local[0][a] * B + local[1][b])));
        }
      }
    } else {
      DUCTILE_UNROLL
      for (int a = 0; a < 3; ++a) {
        // the blocks (y, z) along the chosen x
        uint32_t yz[4];
        DUCTILE_UNROLL
        for (int k = 0; k < 4; ++k) yz[k] = next[0][a] ? first[2 * k + 1] : first[2 * k];
        DUCTILE_UNROLL
        for (int b = 0; b < 3; ++b) {
          const T wab = s.w[0][a] * s.w[1][b];
          const uint32_t z[2] = {next[1][b] ? yz[1] : yz[0], next[1][b] ? yz[3] : yz[2]};
          DUCTILE_UNROLL
          for (int c = 0; c < 3; ++c) {
            int off[3] = {a, b, c};
            const uint32_t f = next[2][c] ? z[1] : z[0];
            if (f != kNone)
              fn(off, wab * s.w[2][c],
                 int64_t(f + uint32_t((local[0][a] * B + local[1][b]) * B + local[2][c])));
          }
        }
      }
    }
  }
  DUCTILE_HD DUCTILE_INLINE int64_t stride(const GridSpec<T, D>&) const { return g.stride; }
};

}  // namespace ductile
