// Particle order of the CUDA backend: particles sorted by the grid block (kCudaBlock^D cells) of their
// stencil's lowest node and, inside a block, by that cell; and the runs of particles that share a block (Gao
// et al. 2018, "GPU optimization of material point methods", sec. 4: sort by block, then scatter each block
// through shared memory).
//
// The sort is CUB's stable radix sort of (block key << cell bits | cell, slot) over the bits the keys use;
// G2P then writes sorted particle q to slot q, so the next step's keys are almost sorted already. The runs
// come from CUB's run-length encoding of the sorted keys' block parts (read through a transform iterator)
// and an exclusive scan of the run lengths.
#pragma once

#include <thrust/iterator/transform_iterator.h>

#include <cstdint>
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_run_length_encode.cuh>
#include <cub/device/device_scan.cuh>
#include <string>

#include "core/cuda_check.h"
#include "core/grid.h"
#include "core/memory.h"
#include "kernels/bspline.h"
#include "kernels/cuda_blocks.h"

namespace ductile {

// The key of each particle from the lowest node of its stencil (clamped into the grid: a particle outside
// keeps a key and is reported by P2G), block << kCudaCellBits | cell in block, and its slot as the value.
template <class T, int D>
struct CudaBlockKeys {
  GridSpec<T, D> spec;
  CudaBlocks<T, D> blocks;
  const T* x;
  int n;
  uint32_t* keys;
  int32_t* slots;
  __device__ void operator()(long long q) const {
    const int i = int(q);
    keys[i] = cuda_block_key(spec, blocks, x + i, size_t(n));
    slots[i] = i;
  }
};

// The block part of a key, read through an iterator by the run-length encoding.
struct CudaBlockOfKey {
  __host__ __device__ uint32_t operator()(uint32_t key) const { return key >> kCudaCellBits; }
};

template <class T, int D>
class CudaCellSort {
 public:
  // Sorts the n particles at positions x (SoA) by block and cell; order()[q] is the slot of the q-th one.
  void sort(const GridSpec<T, D>& spec, const T* x, int n) {
    blocks_ = CudaBlocks<T, D>::of(spec);
    const int64_t nblocks = blocks_.count();
    if (nblocks > (int64_t(1) << (32 - kCudaCellBits)))
      fail("cuda backend", "grid has more than 2^26 blocks of " + std::to_string(kCudaBlock<D>) + "^" +
                               std::to_string(D) + " cells");
    int bits = kCudaCellBits + 1;
    while (bits < 32 && (int64_t(1) << bits) < (nblocks << kCudaCellBits)) ++bits;
    n_ = n;
    const size_t cap = size_t(n);
    if (keys_.size() < cap) {
      keys_.resize(Device::kCuda, cap), sorted_keys_.resize(Device::kCuda, cap);
      slots_.resize(Device::kCuda, cap), order_.resize(Device::kCuda, cap);
      run_keys_.resize(Device::kCuda, cap), run_count_.resize(Device::kCuda, cap);
      run_start_.resize(Device::kCuda, cap);
    }
    if (num_runs_.size() == 0) num_runs_.resize(Device::kCuda, 1);
    if (n == 0) return;
    cuda_parallel_for(n, CudaBlockKeys<T, D>{spec, blocks_, x, n, keys_.data(), slots_.data()});
    const auto block_keys = thrust::make_transform_iterator(sorted_keys_.data(), CudaBlockOfKey{});
    // sort (key, slot) pairs, then the runs of one block and their starts
    size_t need = 0, bytes = 0;
    DUCTILE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, bytes, keys_.data(), sorted_keys_.data(),
                                                       slots_.data(), order_.data(), n, 0, bits));
    need = bytes;
    DUCTILE_CUDA_CHECK(cub::DeviceRunLengthEncode::Encode(nullptr, bytes, block_keys, run_keys_.data(),
                                                          run_count_.data(), num_runs_.data(), n));
    need = need > bytes ? need : bytes;
    const int max_runs = int(nblocks < int64_t(n) ? nblocks : int64_t(n));
    DUCTILE_CUDA_CHECK(
        cub::DeviceScan::ExclusiveSum(nullptr, bytes, run_count_.data(), run_start_.data(), max_runs));
    need = need > bytes ? need : bytes;
    if (temp_.size() < need) temp_.resize(Device::kCuda, need);
    bytes = temp_.size();
    DUCTILE_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp_.data(), bytes, keys_.data(), sorted_keys_.data(),
                                                       slots_.data(), order_.data(), n, 0, bits));
    bytes = temp_.size();
    DUCTILE_CUDA_CHECK(cub::DeviceRunLengthEncode::Encode(temp_.data(), bytes, block_keys, run_keys_.data(),
                                                          run_count_.data(), num_runs_.data(), n));
    bytes = temp_.size();
    DUCTILE_CUDA_CHECK(
        cub::DeviceScan::ExclusiveSum(temp_.data(), bytes, run_count_.data(), run_start_.data(), max_runs));
    max_runs_ = max_runs;
  }

  // What sort() keeps for n particles: seven arrays of 4 bytes, and CUB's radix-sort scratch, which holds the
  // alternate keys and values (4 + 4 bytes per particle) and the digit counts of its tiles (under one byte).
  static double bytes(int n) { return (7 * 4 + 8 + 1) * double(n); }

  int size() const { return n_; }
  const int32_t* order() const { return order_.data(); }
  const uint32_t* sorted_keys() const { return sorted_keys_.data(); }
  const CudaBlocks<T, D>& blocks() const { return blocks_; }
  // Runs: the block key, first sorted position and length of each; their number lives on the device.
  const uint32_t* run_keys() const { return run_keys_.data(); }
  const int32_t* run_start() const { return run_start_.data(); }
  const int32_t* run_count() const { return run_count_.data(); }
  const int32_t* num_runs() const { return num_runs_.data(); }
  int max_runs() const { return max_runs_; }

 private:
  CudaBlocks<T, D> blocks_{};
  int n_ = 0, max_runs_ = 0;
  Buffer<uint32_t> keys_, sorted_keys_, run_keys_;
  Buffer<int32_t> slots_, order_, run_count_, run_start_, num_runs_;
  Buffer<unsigned char> temp_;
};

}  // namespace ductile
