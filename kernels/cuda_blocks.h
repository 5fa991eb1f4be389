// The grid blocks of the CUDA backend: kCudaBlock^D cells each, numbered row-major by block coordinates. The
// particle sort (kernels/cuda_sort.cuh) keys particles by block and cell, the tiled particle-to-grid runs one
// thread block per grid block, and the active-block grid (kernels/cuda_active_blocks.h) lists blocks. Plain
// host-device code, so the CPU tests run the same index arithmetic.
#pragma once

#include <cstdint>

#include "core/grid.h"
#include "kernels/bspline.h"

namespace ductile {

// Cells per block side: 4^3 cells in 3D (a 6^3-node tile with the stencil's reach), 8^2 in 2D; either way
// 6 bits of cell index.
template <int D>
constexpr int kCudaBlock = D == 3 ? 4 : 8;
constexpr int kCudaCellBits = 6;

// The blocks of a grid: per axis ceil(res / kBlock).
template <class T, int D>
struct CudaBlocks {
  int nb[D];
  static CudaBlocks of(const GridSpec<T, D>& spec) {
    CudaBlocks b{};
    for (int d = 0; d < D; ++d) b.nb[d] = (spec.res[d] + kCudaBlock<D> - 1) / kCudaBlock<D>;
    return b;
  }
  DUCTILE_HD int64_t count() const {
    int64_t n = 1;
    for (int d = 0; d < D; ++d) n *= nb[d];
    return n;
  }
  // Lowest cell of block `key`.
  DUCTILE_HD void corner(uint32_t key, int* lo) const {
    for (int d = D - 1; d >= 0; --d) {
      lo[d] = int(key % uint32_t(nb[d])) * kCudaBlock<D>;
      key /= uint32_t(nb[d]);
    }
  }
  // The key of the block with block coordinates kb.
  DUCTILE_HD uint32_t key(const int* kb) const {
    uint32_t k = 0;
    for (int d = 0; d < D; ++d) k = k * uint32_t(nb[d]) + uint32_t(kb[d]);
    return k;
  }
};

// The sort key of a particle at x (component d at x[d * stride]) from the lowest node of its stencil (clamped
// into the grid: a particle outside keeps a key and is reported by P2G): block << kCudaCellBits | cell in
// block.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE uint32_t cuda_block_key(const GridSpec<T, D>& spec, const CudaBlocks<T, D>& blocks,
                                                  const T* x, size_t stride) {
  uint32_t key = 0, cell = 0;
  for (int d = 0; d < D; ++d) {
    int b = floor_int((x[size_t(d) * stride] - spec.origin[d]) * spec.inv_dx - T(0.5));
    b = b < 0 ? 0 : (b >= spec.res[d] ? spec.res[d] - 1 : b);
    key = key * uint32_t(blocks.nb[d]) + uint32_t(b / kCudaBlock<D>);
    cell = cell * kCudaBlock<D> + uint32_t(b % kCudaBlock<D>);
  }
  return key << kCudaCellBits | cell;
}

}  // namespace ductile
