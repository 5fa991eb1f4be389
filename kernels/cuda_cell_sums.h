// The per-cell particle-to-grid of the CUDA backend (kernels/cuda_p2g.cuh) as a block program: phases that a
// thread block runs for one run of sorted particles (one grid block of kCudaBlock^D cells) with a barrier
// between them, written as plain host-device functions of the thread index, so that the CPU tests run the
// same code thread by thread (tests/kernels/test_cuda_cell_sums.cpp):
//  1. cell_starts: where each cell's particles start in the run (the sort key's low bits order the cells);
//  2. sum_cell, one thread per cell, sums the cell's particles over the 3^D stencil offsets in (D + 1) 3^D
//     registers; or sum_slab, three threads per cell, one per offset a along the first axis, sums 3^(D-1)
//     offsets each (a third of the registers, three times the threads, each particle read three times). Both
//     write the sums to part[(v kOff + o) kCells + c] without atomics and add in the same order, so they give
//     the same bits. Or, staged (DUCTILE_CUDA_P2G=staged), `rows` particles of each cell at a time: stage, a
//     thread per particle, writes the stencil weights, mass and affine momentum (P2GParticle) of the k-th
//     particle of cell c, row0 <= k < row0 + rows, to record slot (k - row0) kCells + c in shared memory,
//     then sum_staged, three threads per cell as sum_slab, adds the cell's records to its sums, kept in part
//     between chunks of rows. The same additions in the same order as sum_cell, so the same bits; each
//     particle is loaded and given its stress once, with every lane busy, and the per-cell loops read shared
//     memory only, with sum_slab's registers and lanes of consecutive cells on distinct banks. A stray (a
//     particle that moved since the sort) whose stencil still starts in the block is added to its cell's
//     sums after them (sum_strays, shared-memory atomics on the GPU) instead of going to the grid;
//  3. flush_tile: each node of the (kCudaBlock + 2)^D tile adds up the entries that land on it in a fixed
//     order and gives the non-zero ones to the grid through add(pointer, value) (an atomic on the GPU).
// Node base + o of a particle receives w m and w (q + A (o - 1)) (kernels/p2g.h).
#pragma once

#include <cstdint>

#include "kernels/cuda_blocks.h"
#include "kernels/cuda_grid.h"
#include "kernels/p2g.h"

namespace ductile {

// The per-cell P2G's split of phase 2: a thread per cell (sum_cell), three per cell (sum_slab), a thread per
// particle then three per cell (stage, sum_staged).
enum class CellsMode { kCells, kSlabs, kStaged };

template <class T, int D>
struct CellSums {
  static constexpr int B = kCudaBlock<D>, S = B + 2;
  static constexpr int kOff = D == 3 ? 27 : 9;  // stencil offsets
  static constexpr int kSlabOff = kOff / 3;     // offsets with one first-axis offset
  static constexpr int kCells = D == 3 ? B * B * B : B * B;
  static constexpr int kTile = D == 3 ? S * S * S : S * S;
  static constexpr int kVals = D + 1;                  // mass and momentum
  static constexpr int kPart = kVals * kOff * kCells;  // shared values of phase 2
  static_assert(kCells == 1 << kCudaCellBits, "the sort key's cell bits");
  static constexpr int kRec = 3 * D + 1 + D + D * D;  // a staged record: w, m, q, A
  static constexpr int kRows = 8;                     // staged particles per cell and chunk, by default
  // Strays of a run added to its sums by sum_strays (the rest go to the grid).
  static constexpr int kStrayList = 64;
  // Shared values of the staged phase 2 with `rows` particles per cell and chunk.
  DUCTILE_HD static constexpr int staged_values(int rows) { return kPart + kRec * rows * kCells; }

  // Phase 1: cell_start[e], e = 0..kCells, from the run's `count` sorted keys (thread tid of nthreads).
  DUCTILE_HD static void cell_starts(int tid, int nthreads, const uint32_t* keys, int count,
                                     int* cell_start) {
    for (int j = tid; j < count; j += nthreads) {
      const int c = int(keys[j] & (kCells - 1));
      const int prev = j == 0 ? -1 : int(keys[j - 1] & (kCells - 1));
      for (int e = prev + 1; e <= c; ++e) cell_start[e] = j;
      if (j == count - 1)
        for (int e = c + 1; e <= kCells; ++e) cell_start[e] = count;
    }
  }

  // The coordinates of cell c of the block whose lowest cell is lo.
  DUCTILE_HD DUCTILE_INLINE static void cell_of(int c, const int* lo, int* cell) {
    for (int d = D - 1, rest = c; d >= 0; --d, rest /= B) cell[d] = lo[d] + rest % B;
  }

  // Adds what pp gives to the offsets o = a kSlabOff + j, j < kSlabOff (first-axis offset a), to acc[v][j].
  DUCTILE_HD DUCTILE_INLINE static void add_slab(const P2GParticle<T, D>& pp, int a,
                                                 T (&acc)[kVals][kSlabOff]) {
    // the first axis by value (a is the same for the whole slab: a select, not an indexed load)
    T w0 = a == 0 ? pp.w[0][0] : (a == 1 ? pp.w[0][1] : pp.w[0][2]);
    Vec<T, D> q0;
    for (int k = 0; k < D; ++k) q0[k] = pp.q[k] + pp.A(k, 0) * T(a - 1);
    DUCTILE_UNROLL
    for (int j = 0; j < kSlabOff; ++j) {
      T w = T(1) * w0;
      Vec<T, D> qo = q0;
      DUCTILE_UNROLL
      for (int d = 1, rest = j, div = kSlabOff / 3; d < D; ++d, rest %= div, div /= 3) {
        const int od = rest / div;
        w = w * pp.w[d][od];
        for (int k = 0; k < D; ++k) qo[k] = qo[k] + pp.A(k, d) * T(od - 1);
      }
      acc[0][j] += w * pp.m;
      for (int k = 0; k < D; ++k) acc[k + 1][j] += w * qo[k];
    }
  }

  // Phase 2, one thread per cell c: load(j, pp, primary) gives the run's j-th particle and whether it goes to
  // the sums (primary: this thread reports faults and scatters a particle that does not belong here).
  template <class Load>
  DUCTILE_HD static void sum_cell(int c, const int* cell_start, Load&& load, T* part) {
    T acc[3][kVals][kSlabOff];
    for (int a = 0; a < 3; ++a)
      for (int v = 0; v < kVals; ++v)
        for (int j = 0; j < kSlabOff; ++j) acc[a][v][j] = T(0);
    for (int j = cell_start[c]; j < cell_start[c + 1]; ++j) {
      P2GParticle<T, D> pp;
      if (!load(j, pp, true)) continue;
      DUCTILE_UNROLL
      for (int a = 0; a < 3; ++a) add_slab(pp, a, acc[a]);
    }
    DUCTILE_UNROLL
    for (int a = 0; a < 3; ++a) store(c, a, acc[a], part);
  }

  // Phase 2, three threads per cell: thread (c, a) sums cell c's particles over the offsets of first-axis
  // offset a; only a = 0 is primary.
  template <class Load>
  DUCTILE_HD static void sum_slab(int c, int a, const int* cell_start, Load&& load, T* part) {
    T acc[kVals][kSlabOff];
    for (int v = 0; v < kVals; ++v)
      for (int j = 0; j < kSlabOff; ++j) acc[v][j] = T(0);
    for (int j = cell_start[c]; j < cell_start[c + 1]; ++j) {
      P2GParticle<T, D> pp;
      if (!load(j, pp, a == 0)) continue;
      add_slab(pp, a, acc);
    }
    store(c, a, acc, part);
  }

  // Phase 2, staged, a thread per particle (tid of nthreads): of the run's `count` particles (sorted keys
  // `keys`), the k-th of cell c for row0 <= k < row0 + rows as the record in slot (k - row0) kCells + c,
  // field f at rec[f rows kCells + slot]; load(j, c, pp) gives particle j of cell c and whether it goes to
  // the sums (else its record is zero, which adds nothing: the sums start at +0 and are never -0).
  template <class Load>
  DUCTILE_HD static void stage(int tid, int nthreads, int row0, int rows, const uint32_t* keys, int count,
                               const int* cell_start, Load&& load, T* rec) {
    const int slots = rows * kCells;
    for (int j = tid; j < count; j += nthreads) {
      const int c = int(keys[j] & (kCells - 1)), k = j - cell_start[c];
      if (k < row0 || k >= row0 + rows) continue;
      P2GParticle<T, D> pp;
      const bool keep = load(j, c, pp);
      T* r = rec + (k - row0) * kCells + c;
      int f = 0;
      auto put = [&](T v) { r[(f++) * slots] = keep ? v : T(0); };
      for (int d = 0; d < D; ++d)
        for (int a = 0; a < 3; ++a) put(pp.w[d][a]);
      put(pp.m);
      for (int a = 0; a < D; ++a) put(pp.q[a]);
      for (int a = 0; a < D; ++a)
        for (int b = 0; b < D; ++b) put(pp.A(a, b));
    }
  }

  // The record in slot s of `slots` (stage's layout; the stencil's base is not kept).
  DUCTILE_HD DUCTILE_INLINE static void unstage(const T* rec, int slots, int s, P2GParticle<T, D>& pp) {
    const T* r = rec + s;
    int f = 0;
    DUCTILE_UNROLL
    for (int d = 0; d < D; ++d) {
      DUCTILE_UNROLL
      for (int a = 0; a < 3; ++a) pp.w[d][a] = r[(f++) * slots];
    }
    pp.m = r[(f++) * slots];
    DUCTILE_UNROLL
    for (int a = 0; a < D; ++a) pp.q[a] = r[(f++) * slots];
    DUCTILE_UNROLL
    for (int a = 0; a < D; ++a) {
      DUCTILE_UNROLL
      for (int b = 0; b < D; ++b) pp.A(a, b) = r[(f++) * slots];
    }
  }

  // Phase 2, staged, three threads per cell: thread (c, a) adds the staged records of cell c's particles
  // row0 <= k < row0 + rows to the cell's sums of first-axis offset a in part (zero before the first rows).
  DUCTILE_HD static void sum_staged(int c, int a, const int* cell_start, int row0, int rows, const T* rec,
                                    T* part) {
    T acc[kVals][kSlabOff];
    load_sums(c, a, row0 == 0, part, acc);
    const int left = cell_start[c + 1] - cell_start[c] - row0;
    for (int k = 0; k < (left < rows ? left : rows); ++k) {
      P2GParticle<T, D> pp;
      unstage(rec, rows * kCells, k * kCells + c, pp);
      add_slab(pp, a, acc);
    }
    store(c, a, acc, part);
  }

  // Whether the stencil that starts at base starts in the block whose lowest cell is lo (so that it lies in
  // the block's tile).
  DUCTILE_HD DUCTILE_INLINE static bool in_block(const int* base, const int* lo) {
    bool in = true;
    for (int d = 0; d < D; ++d) in = in && base[d] >= lo[d] && base[d] < lo[d] + B;
    return in;
  }

  // After the staged sums, thread tid of nthreads: the `n` strays list[0, n) of the run (particles whose
  // stencil starts in the block but not in the cell of their sort key), reload(j, pp) giving particle j, add
  // to the sums in part of the cell where their stencil starts through add(pointer, value) (a shared-memory
  // atomic on the GPU), node by node as for_each_scatter_node visits them.
  template <class Reload, class Add>
  DUCTILE_HD static void sum_strays(int tid, int nthreads, int n, const int* list, Reload&& reload,
                                    const int* lo, T* part, Add&& add) {
    for (int t = tid; t < n; t += nthreads) {
      P2GParticle<T, D> pp;
      reload(list[t], pp);
      int c = 0;
      for (int d = 0; d < D; ++d) c = c * B + (pp.base[d] - lo[d]);
      for_each_scatter_node(pp, [&](const int* node, T w, const Vec<T, D>& qo) {
        int o = 0;
        for (int d = 0; d < D; ++d) o = o * 3 + (node[d] - pp.base[d]);
        add(part + o * kCells + c, w * pp.m);
        for (int k = 0; k < D; ++k) add(part + ((k + 1) * kOff + o) * kCells + c, w * qo[k]);
      });
    }
  }

  // Whether cell c has particles past the rows [row0, row0 + rows) (another chunk of rows to stage).
  DUCTILE_HD DUCTILE_INLINE static bool more_rows(int c, const int* cell_start, int row0, int rows) {
    return cell_start[c + 1] - cell_start[c] > row0 + rows;
  }

  // Cell c's sums of first-axis offset a from part (store's layout), or zero where `zero`.
  DUCTILE_HD DUCTILE_INLINE static void load_sums(int c, int a, bool zero, const T* part,
                                                  T (&acc)[kVals][kSlabOff]) {
    DUCTILE_UNROLL
    for (int v = 0; v < kVals; ++v) {
      DUCTILE_UNROLL
      for (int j = 0; j < kSlabOff; ++j)
        acc[v][j] = zero ? T(0) : part[(v * kOff + a * kSlabOff + j) * kCells + c];
    }
  }

  DUCTILE_HD DUCTILE_INLINE static void store(int c, int a, const T (&acc)[kVals][kSlabOff], T* part) {
    DUCTILE_UNROLL
    for (int v = 0; v < kVals; ++v) {
      DUCTILE_UNROLL
      for (int j = 0; j < kSlabOff; ++j) part[(v * kOff + a * kSlabOff + j) * kCells + c] = acc[v][j];
    }
  }

  // Phase 3 (thread tid of nthreads): tile node t sums the entries of the cells within a stencil's reach (in
  // offset order) and adds the non-zero sums inside the grid to node lo + t through add(pointer, value).
  template <class Add>
  DUCTILE_HD DUCTILE_INLINE static void flush_tile(int tid, int nthreads, const int* lo, const T* part,
                                                   const CudaGrid<T, D>& g, Add&& add) {
    for (int t = tid; t < kTile; t += nthreads) {
      int nt[D];
      for (int d = D - 1, rest = t; d >= 0; --d, rest /= S) nt[d] = rest % S;
      T sum[kVals] = {};
      DUCTILE_UNROLL
      for (int o = 0; o < kOff; ++o) {
        int ci = 0;
        bool valid = true;
        DUCTILE_UNROLL
        for (int d = 0, rest = o, div = kOff / 3; d < D; ++d, rest %= div, div /= 3) {
          const int cd = nt[d] - rest / div;
          valid = valid && cd >= 0 && cd < B;
          ci = ci * B + cd;
        }
        if (valid)
          for (int v = 0; v < kVals; ++v) sum[v] += part[(v * kOff + o) * kCells + ci];
      }
      int node[D];
      bool inside = true, any = false;
      for (int d = 0; d < D; ++d) node[d] = lo[d] + nt[d], inside = inside && node[d] < g.spec.res[d];
      for (int v = 0; v < kVals; ++v) any = any || sum[v] != T(0);
      if (!inside || !any) continue;
      const int64_t idx = g.index(node);  // the run listed the tile's blocks before
      if (idx < 0) continue;
      add(g.mass + idx, sum[0]);
      for (int k = 0; k < D; ++k) add(g.mv + k * g.stride + idx, sum[k + 1]);
    }
  }
};

}  // namespace ductile
