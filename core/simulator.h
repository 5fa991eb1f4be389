// The simulator: advances particle state by the named stages of explicit MLS-MPM on one device.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/memory.h"
#include "core/model.h"
#include "core/state.h"
#include "kernels/backend.h"

namespace ductile {
namespace io {
struct CheckpointFile;
}

// Particle arrays on the simulator's device. A backend may store particles in its own order (the CPU backend
// keeps them sorted by cell): slot q holds the State's particle id[q].
template <class T, int D>
struct DeviceParticles {
  int n = 0;
  Buffer<T> x, v, C, F, plastic, mass, vol0;
  Buffer<int32_t> material, id;
  ParticleView<T, D> view() {
    return {n,           x.data(),    v.data(),       C.data(), F.data(), plastic.data(),
            mass.data(), vol0.data(), material.data()};
  }
};

// Wall-clock seconds spent in each stage, summed over the steps since the last reset (when timing is on).
struct StageTimes {
  double stress = 0, p2g = 0, grid = 0, g2p = 0, project = 0;
  int64_t steps = 0;
  double total() const { return stress + p2g + grid + g2p + project; }
};

template <class T, int D>
class Simulator {
 public:
  Simulator(const Model<T, D>& model, Device device);
  ~Simulator();

  // Copies a host state to the device (the model's materials index the particles' material ids).
  void set_state(const State<T, D>& s);
  // Copies the current state back to the host, particles in the State's order.
  void get_state(State<T, D>& s) const;
  // The full state, particles in the simulator's own storage order, to and from a checkpoint (core/io/
  // checkpoint_file.h): a restored simulator continues bit for bit like the one that saved (CPU backend).
  void save(io::CheckpointFile& c) const;
  void restore(const io::CheckpointFile& c, const std::string& file);
  // For boundary policy delete: the initial index of each particle of get_state() (empty while none was
  // removed). Particles clamped to or removed at the domain boundary so far (policies clamp and delete).
  const std::vector<int32_t>& original_index() const { return origin_; }
  int64_t boundary_events() const { return boundary_events_; }
  // Advances one time step; throws Error naming the step, stage, particle and material on a fault.
  void step();
  // The current particle arrays on the device, in storage order (slot q holds particle id[q]); a step writes
  // the other buffer and makes it current (the Python module's zero-copy views, docs/PYTHON.md).
  const DeviceParticles<T, D>& particles() const { return buf_[cur_]; }
  double time() const { return time_; }
  int64_t steps() const { return step_; }
  Device device() const { return device_; }
  const Model<T, D>& model() const { return model_; }
  // Per-stage timing (off by default; on CUDA each timed stage waits for the device to finish).
  void set_timing(bool on) { timing_ = on; }
  const StageTimes& stage_times() const { return times_; }
  void reset_stage_times() { times_ = StageTimes{}; }
  // Bytes of grid storage held now, and (sparse grid) the blocks of 8^D nodes allocated at the last step.
  int64_t grid_bytes() const;
  int64_t grid_blocks() const;
  bool sparse_grid() const { return sparse_grid_; }

 private:
  void compute_stress();
  void particle_to_grid();
  void update_grid();
  void grid_to_particle();
  void project_plastic();
  void check_status(const Status& s);
  // The grid: the dense buffers, or none (the CPU backend's sparse grid).
  GridView<T, D> grid_view() {
    return {model_.grid, sparse_grid_ ? nullptr : grid_mass_.data(),
            sparse_grid_ ? nullptr : grid_mv_.data()};
  }
  // Policies clamp and delete: moves back or removes the particles outside the domain
  // (core/simulator_boundary.cpp).
  void apply_boundary_policy();
  void rebuild_batches(int buffer);
  void rebuild_batches_from(const std::vector<int32_t>& material);
  // Runs one stage, adding its wall time to `slot` when timing is on.
  template <class Fn>
  void timed(double StageTimes::*slot, Fn&& fn);

  const Model<T, D>& model_;
  Device device_;
  std::unique_ptr<Backend<T, D>> backend_;
  DeviceParticles<T, D> buf_[2];
  int cur_ = 0;  // buf_[cur_] holds the state at time_
  Buffer<T> tau_, grid_mass_, grid_mv_;
  std::vector<Buffer<int32_t>> batch_index_;
  std::vector<int> batch_count_;
  std::vector<Buffer<T>> collider_sdf_;
  Buffer<ColliderData<T, D>> colliders_;
  Staging<ColliderData<T, D>> collider_staging_;  // this step's colliders on their way to colliders_
  Buffer<Status> status_;
  std::vector<int32_t> host_material_;
  std::vector<int32_t> origin_;  // see original_index()
  int64_t boundary_events_ = 0;
  double time_ = 0;
  int64_t step_ = 0;
  bool timing_ = false;
  bool sparse_grid_ = false;
  // the material stages inside the transfers this step (FuseStage bits, see step()), and the material's lanes
  unsigned fused_ = kFuseNone;
  MaterialLanes<T, D> lanes_;
  StageTimes times_;
};

}  // namespace ductile
