// The per-device half of the simulator: the transfer stages as CPU loops or CUDA launches.
#pragma once

#include <memory>
#include <string>

#include "core/device.h"
#include "kernels/g2p.h"
#include "kernels/grid_update.h"
#include "kernels/p2g.h"

namespace ductile {

// The material stages a backend runs inside its transfers (Backend::fuses).
enum FuseStage : unsigned { kFuseNone = 0, kFuseStress = 1, kFuseProjection = 2, kFuseBoth = 3 };

template <class T, int D>
class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  // Clears mass and momentum, then scatters every particle (race-free and deterministic on the CPU).
  virtual void p2g(const P2G<T, D>& k) = 0;
  virtual void grid_update(const GridUpdate<T, D>& k) = 0;
  virtual void g2p(const G2P<T, D>& k) = 0;
  // Which material stages of a scene whose one material is `model` run inside the transfers (given its lanes,
  // materials/material_lanes.h) instead of separately: FuseStage bits, the stress inside P2G, the plastic
  // projection inside G2P.
  virtual unsigned fuses(const std::string& model) const = 0;
  // Per-material batches on the device after a step permuted the particles: batch[m] receives the slots q < n
  // with material[q] == m in increasing order (their number does not change between steps). False where the
  // backend leaves it to the host (the simulator then copies the materials back and partitions there).
  virtual bool partition(const int32_t* /*material*/, int /*n*/, int32_t* const* /*batch*/,
                         int /*materials*/) {
    return false;
  }
  // The particle buffers were written from outside the steps (set_state, the boundary policy, a checkpoint):
  // a backend that keeps the last step's particle order must order them anew.
  virtual void particles_changed() {}
  // Waits for queued work and returns the status word (and resets it).
  virtual Status fetch_status(Status* device_status) = 0;
  // A GridView without storage (mass and mv null) asks the backend to keep the grid itself: the CPU backend
  // then uses its sparse block grid (kernels/cpu_sparse_grid.h), the CUDA backend its pool of blocks
  // (kernels/cuda_grid.h). Whether the simulator should pass such grids (DUCTILE_CPU_GRID and
  // DUCTILE_CUDA_GRID; the CUDA backend by default for a large grid `spec`), and the bytes and blocks that
  // the backend's grid holds now.
  virtual bool sparse_grid(const GridSpec<T, D>& /*spec*/) { return false; }
  virtual int64_t grid_bytes() const { return 0; }
  virtual int64_t grid_blocks() const { return 0; }
};

template <class T, int D>
std::unique_ptr<Backend<T, D>> make_cpu_backend();
template <class T, int D>
std::unique_ptr<Backend<T, D>> make_cuda_backend();

}  // namespace ductile
