#include "core/simulator.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "core/error.h"
#include "core/fault.h"

namespace ductile {

template <class T, int D>
Simulator<T, D>::Simulator(const Model<T, D>& model, Device device) : model_(model), device_(device) {
  backend_ = device == Device::kCpu ? make_cpu_backend<T, D>() : make_cuda_backend<T, D>();
  // the backend keeps a sparse grid of the blocks the particles touch where it says so (Backend::sparse_grid;
  // by default on the CPU, on CUDA for a large grid or with DUCTILE_CUDA_GRID=sparse), else the simulator
  // keeps a dense one. Both backends store the particles in their own order (the slot of particle p follows
  // the ids).
  sparse_grid_ = backend_->sparse_grid(model.grid);
  if (!sparse_grid_) {
    const int64_t nodes = model.grid.num_nodes();
    grid_mass_.resize(device, nodes);
    grid_mv_.resize(device, nodes * D);
  }
  status_.resize(device, 1);
  std::vector<Status> s0(1);
  status_.upload(s0);
  // sampled SDFs of mesh colliders live on the device for the whole run
  for (const auto& c : model.colliders) {
    collider_sdf_.emplace_back(device, 0);
    collider_sdf_.back().upload(c.sdf);
  }
}

template <class T, int D>
Simulator<T, D>::~Simulator() = default;

template <class T, int D>
void Simulator<T, D>::set_state(const State<T, D>& s) {
  const int nm = int(model_.materials.size());
  for (int p = 0; p < s.n; ++p) {
    int m = s.material[p];
    if (m < 0 || m >= nm)
      fail("state", "particle " + std::to_string(p) + " has material index " + std::to_string(m) +
                        " but the model has " + std::to_string(nm));
  }
  // both buffers get every array (the constants mass, volume, material and id too: a backend may permute
  // them)
  std::vector<int32_t> id(s.n);
  for (int p = 0; p < s.n; ++p) id[p] = p;
  auto put = [&](auto& buffer, const auto& host) {
    buffer.resize(device_, host.size());
    buffer.upload(host);
  };
  for (auto& b : buf_) {
    b.n = s.n;
    put(b.x, s.x), put(b.v, s.v), put(b.C, s.C), put(b.F, s.F), put(b.plastic, s.plastic);
    put(b.mass, s.mass), put(b.vol0, s.vol0), put(b.material, s.material), put(b.id, id);
  }
  host_material_ = s.material;
  batch_index_.clear();
  batch_count_.clear();
  for (int m = 0; m < nm; ++m) batch_index_.emplace_back(device_, 0);
  batch_count_.assign(nm, 0);
  rebuild_batches_from(s.material);
  backend_->particles_changed();
  time_ = s.time;
  step_ = s.step;
  origin_.clear();
  boundary_events_ = 0;
}

// Per-material particle batches from the material of each slot.
template <class T, int D>
void Simulator<T, D>::rebuild_batches_from(const std::vector<int32_t>& material) {
  const int nm = int(model_.materials.size());
  std::vector<std::vector<int32_t>> idx(nm);
  for (size_t p = 0; p < material.size(); ++p) idx[material[p]].push_back(int32_t(p));
  for (int m = 0; m < nm; ++m) {
    batch_index_[m].upload(idx[m]);
    batch_count_[m] = int(idx[m].size());
  }
}

// After a backend permuted the particles: batches from buffer b's materials (one material: always all slots),
// on the device where the backend can.
template <class T, int D>
void Simulator<T, D>::rebuild_batches(int b) {
  if (model_.materials.size() < 2) return;
  std::vector<int32_t*> batch;
  for (auto& index : batch_index_) batch.push_back(index.data());
  if (backend_->partition(buf_[b].material.data(), buf_[b].n, batch.data(), int(batch.size()))) return;
  std::vector<int32_t> material;
  buf_[b].material.download(material);
  rebuild_batches_from(material);
}

template <class T, int D>
void Simulator<T, D>::get_state(State<T, D>& s) const {
  auto& b = const_cast<DeviceParticles<T, D>&>(buf_[cur_]);
  const int n = b.n;
  std::vector<int32_t> id;
  b.id.download(id);
  // slot q holds particle id[q]: component k of a field of `width` components lives at [k * n + q]
  auto unpermute = [&](const auto& src, auto& dst, int width) {
    dst.resize(src.size());
    for (int k = 0; k < width; ++k)
      for (int q = 0; q < n; ++q) dst[size_t(k) * n + id[q]] = src[size_t(k) * n + q];
  };
  std::vector<T> f;
  std::vector<int32_t> m;
  s.n = n;
  b.x.download(f), unpermute(f, s.x, D);
  b.v.download(f), unpermute(f, s.v, D);
  b.C.download(f), unpermute(f, s.C, D * D);
  b.F.download(f), unpermute(f, s.F, D * D);
  b.plastic.download(f), unpermute(f, s.plastic, 1);
  b.mass.download(f), unpermute(f, s.mass, 1);
  b.vol0.download(f), unpermute(f, s.vol0, 1);
  b.material.download(m), unpermute(m, s.material, 1);
  s.time = time_;
  s.step = step_;
}

// Whether the stress runs inside P2G and the projection inside G2P (FuseStage bits): for a scene of one
// material that the backend fuses (Backend::fuses) and that offers lanes.
template <class T, int D>
static unsigned fuse_material(const Model<T, D>& model, const Backend<T, D>& backend,
                              MaterialLanes<T, D>& lanes) {
  if (model.materials.size() != 1) return kFuseNone;
  const unsigned stages = backend.fuses(model.materials[0]->model());
  if (!stages || !model.materials[0]->lanes(lanes)) return kFuseNone;
  return stages;
}

// one explicit MLS-MPM step: stress -> P2G -> grid update -> G2P -> plastic projection (the material stages
// inside the transfers where fuse_material says so)
template <class T, int D>
void Simulator<T, D>::step() {
  fused_ = fuse_material(model_, *backend_, lanes_);
  // a backend's sparse grid with fewer blocks than the step claimed has grown (kStatusGridFull): the step
  // runs again from the same input buffer (a CUDA pool starts at 64 blocks: more claims rerun a first step)
  for (int attempt = 1;; ++attempt) {
    if (!(fused_ & kFuseStress)) timed(&StageTimes::stress, [&] { compute_stress(); });
    timed(&StageTimes::p2g, [&] { particle_to_grid(); });
    timed(&StageTimes::grid, [&] { update_grid(); });
    timed(&StageTimes::g2p, [&] { grid_to_particle(); });
    if (!(fused_ & kFuseProjection)) timed(&StageTimes::project, [&] { project_plastic(); });
    const Status s = backend_->fetch_status(status_.data());
    if (!(s.bits & kStatusGridFull) || attempt == 3) {
      if (timing_) ++times_.steps;
      cur_ ^= 1;
      time_ += double(model_.dt);
      ++step_;
      return check_status(s);
    }
    // the batches index the input buffer again, whose order the backend must take anew
    rebuild_batches(cur_);
    backend_->particles_changed();
  }
}

template <class T, int D>
template <class Fn>
void Simulator<T, D>::timed(double StageTimes::*slot, Fn&& fn) {
  if (!timing_) return fn();
  auto t0 = std::chrono::steady_clock::now();
  fn();
  // a synchronous copy of the status word waits for queued device work
  if (device_ != Device::kCpu) {
    Status s;
    device_copy(&s, Device::kCpu, status_.data(), device_, sizeof(Status));
  }
  times_.*slot += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class T, int D>
int64_t Simulator<T, D>::grid_bytes() const {
  return int64_t((grid_mass_.size() + grid_mv_.size()) * sizeof(T)) + backend_->grid_bytes();
}

template <class T, int D>
int64_t Simulator<T, D>::grid_blocks() const {
  return backend_->grid_blocks();
}

// Kirchhoff stress of every particle, one batch per material
template <class T, int D>
void Simulator<T, D>::compute_stress() {
  auto view = buf_[cur_].view();
  // the stress buffer exists only while the stages run separately
  if (tau_.size() != size_t(D * D) * view.n || tau_.device() != device_)
    tau_.resize(device_, size_t(D * D) * view.n);
  for (size_t m = 0; m < model_.materials.size(); ++m)
    if (batch_count_[m])
      model_.materials[m]->stress(device_, view, {batch_index_[m].data(), batch_count_[m]}, tau_.data(),
                                  status_.data());
}

// scatter mass and momentum
template <class T, int D>
void Simulator<T, D>::particle_to_grid() {
  const GridView<T, D> g = grid_view();
  P2G<T, D> k{buf_[cur_].view(), tau_.data(), g, model_.dt, status_.data()};
  if (fused_ & kFuseStress) k.tau = nullptr, k.lanes = &lanes_;
  backend_->p2g(k);
}

// velocities, gravity, colliders at the current time, walls
template <class T, int D>
void Simulator<T, D>::update_grid() {
  std::vector<ColliderData<T, D>> cs;
  for (size_t k = 0; k < model_.colliders.size(); ++k) {
    ColliderData<T, D> c = model_.colliders[k].at(time_);
    c.sdf = collider_sdf_[k].data();
    cs.push_back(c);
  }
  if (colliders_.size() != cs.size()) colliders_.resize(device_, cs.size());
  // through page-locked memory, so the host queues the grid update without waiting for P2G (the staging is
  // rewritten next step, after the status word's wait)
  if (!cs.empty()) {
    ColliderData<T, D>* staged = collider_staging_.reserve(device_, cs.size());
    std::copy(cs.begin(), cs.end(), staged);
    device_copy_queued(colliders_.data(), device_, staged, cs.size() * sizeof(cs[0]));
  }
  const GridView<T, D> g = grid_view();
  backend_->grid_update(
      GridUpdate<T, D>{g, model_.gravity, model_.dt, model_.walls, colliders_.data(), int(cs.size())});
}

// gather velocities, advect, trial F into the other buffer (in the backend's particle order, with the
// constants)
template <class T, int D>
void Simulator<T, D>::grid_to_particle() {
  const GridView<T, D> g = grid_view();
  auto& in = buf_[cur_];
  auto& out = buf_[cur_ ^ 1];
  G2P<T, D> k{g, in.view(), out.view(), model_.dt, model_.domain_min, model_.domain_max, status_.data()};
  k.out_mass = out.mass.data(), k.out_vol0 = out.vol0.data(), k.out_material = out.material.data();
  k.in_id = in.id.data(), k.out_id = out.id.data();
  if (fused_ & kFuseProjection) k.lanes = &lanes_;
  backend_->g2p(k);
  // the projection and the next step index the new buffer (both backends reorder the particles)
  rebuild_batches(cur_ ^ 1);
}

// return mapping per material on the trial F
template <class T, int D>
void Simulator<T, D>::project_plastic() {
  auto view = buf_[cur_ ^ 1].view();
  for (size_t m = 0; m < model_.materials.size(); ++m)
    if (batch_count_[m])
      model_.materials[m]->project(device_, model_.dt, view, {batch_index_[m].data(), batch_count_[m]},
                                   status_.data());
}

// turn the step's status word into an error naming step, stage, particle and material
template <class T, int D>
void Simulator<T, D>::check_status(const Status& s) {
  if (!s.bits) return;
  if (s.bits & kStatusGridFull)
    fail("step " + std::to_string(step_),
         "the sparse grid claimed more blocks than its pool holds, after growing it twice (DUCTILE_CUDA_GRID="
         "sparse; DUCTILE_CUDA_GRID=dense avoids the pool)");
  if (s.bits == kStatusOutOfDomain && model_.boundary_policy != BoundaryPolicy::kError)
    return apply_boundary_policy();
  const uint32_t stage = first_stage(s);
  // kernels name slots: of the step's input buffer up to g2p, of its output in the projection
  int p = s.stage_particle[stage < 5 ? stage : 0];
  const auto& slots = buf_[stage == kStageProject ? cur_ : cur_ ^ 1].id;
  if (p >= 0 && p < int(slots.size())) {
    std::vector<int32_t> id;
    slots.download(id);
    p = id[p];
  }
  std::string material;
  if (p >= 0 && p < int(host_material_.size())) material = model_.material_names[host_material_[p]];
  throw Error(fault_message(s, step_, time_, p, material));
}

template class Simulator<float, 2>;
template class Simulator<float, 3>;
template class Simulator<double, 2>;
template class Simulator<double, 3>;

}  // namespace ductile
