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

// Particle arrays on the simulator's device.
template <class T, int D>
struct DeviceParticles {
  int n = 0;
  Buffer<T> x, v, C, F, plastic, mass, vol0;
  Buffer<int32_t> material;
  ParticleView<T, D> view() {
    return {n, x.data(), v.data(), C.data(), F.data(), plastic.data(), mass.data(), vol0.data(), material.data()};
  }
};

template <class T, int D>
class Simulator {
 public:
  Simulator(const Model<T, D>& model, Device device);
  ~Simulator();

  // Copies a host state to the device (the model's materials index the particles' material ids).
  void set_state(const State<T, D>& s);
  // Copies the current state back to the host.
  void get_state(State<T, D>& s) const;
  // Advances one time step; throws Error naming the step, stage, particle and material on a fault.
  void step();
  double time() const { return time_; }
  int64_t steps() const { return step_; }
  Device device() const { return device_; }
  const Model<T, D>& model() const { return model_; }

 private:
  void compute_stress();
  void particle_to_grid();
  void update_grid();
  void grid_to_particle();
  void project_plastic();
  void check_status();

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
  Buffer<Status> status_;
  std::vector<int32_t> host_material_;
  double time_ = 0;
  int64_t step_ = 0;
};

}  // namespace ductile
