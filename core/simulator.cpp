#include "core/simulator.h"

#include <sstream>

#include "core/error.h"

namespace ductile {

template <class T, int D>
Simulator<T, D>::Simulator(const Model<T, D>& model, Device device) : model_(model), device_(device) {
  backend_ = device == Device::kCpu ? make_cpu_backend<T, D>() : make_cuda_backend<T, D>();
  const int64_t nodes = model.grid.num_nodes();
  grid_mass_.resize(device, nodes);
  grid_mv_.resize(device, nodes * D);
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
  for (auto& b : buf_) {
    b.n = s.n;
    for (Buffer<T>* f : {&b.x, &b.v, &b.C, &b.F, &b.plastic, &b.mass, &b.vol0}) f->resize(device_, 0);
    b.x.resize(device_, s.x.size());
    b.v.resize(device_, s.v.size());
    b.C.resize(device_, s.C.size());
    b.F.resize(device_, s.F.size());
    b.plastic.resize(device_, s.plastic.size());
  }
  auto& b = buf_[cur_];
  b.x.upload(s.x), b.v.upload(s.v), b.C.upload(s.C), b.F.upload(s.F), b.plastic.upload(s.plastic);
  // constants shared by both buffers: mass, volume, material
  for (auto& bb : buf_) {
    bb.mass.resize(device_, 0), bb.vol0.resize(device_, 0), bb.material.resize(device_, 0);
  }
  buf_[0].mass.upload(s.mass), buf_[0].vol0.upload(s.vol0), buf_[0].material.upload(s.material);
  buf_[1].mass.upload(s.mass), buf_[1].vol0.upload(s.vol0), buf_[1].material.upload(s.material);
  tau_.resize(device_, size_t(D * D) * s.n);
  // per-material particle batches
  const int nm = int(model_.materials.size());
  std::vector<std::vector<int32_t>> idx(nm);
  for (int p = 0; p < s.n; ++p) {
    int m = s.material[p];
    if (m < 0 || m >= nm) fail("state", "particle " + std::to_string(p) + " has material index " +
                                            std::to_string(m) + " but the model has " + std::to_string(nm));
    idx[m].push_back(p);
  }
  batch_index_.clear();
  batch_count_.clear();
  for (int m = 0; m < nm; ++m) {
    batch_index_.emplace_back(device_, 0);
    batch_index_.back().upload(idx[m]);
    batch_count_.push_back(int(idx[m].size()));
  }
  host_material_ = s.material;
  time_ = s.time;
  step_ = s.step;
}

template <class T, int D>
void Simulator<T, D>::get_state(State<T, D>& s) const {
  auto& b = const_cast<DeviceParticles<T, D>&>(buf_[cur_]);
  s.n = b.n;
  b.x.download(s.x), b.v.download(s.v), b.C.download(s.C), b.F.download(s.F), b.plastic.download(s.plastic);
  b.mass.download(s.mass), b.vol0.download(s.vol0), b.material.download(s.material);
  s.time = time_;
  s.step = step_;
}

// one explicit MLS-MPM step: stress -> P2G -> grid update -> G2P -> plastic projection
template <class T, int D>
void Simulator<T, D>::step() {
  compute_stress();
  particle_to_grid();
  update_grid();
  grid_to_particle();
  project_plastic();
  cur_ ^= 1;
  time_ += double(model_.dt);
  ++step_;
  check_status();
}

// Kirchhoff stress of every particle, one batch per material
template <class T, int D>
void Simulator<T, D>::compute_stress() {
  auto view = buf_[cur_].view();
  for (size_t m = 0; m < model_.materials.size(); ++m)
    if (batch_count_[m])
      model_.materials[m]->stress(device_, view, {batch_index_[m].data(), batch_count_[m]}, tau_.data(),
                                  status_.data());
}

// scatter mass and momentum
template <class T, int D>
void Simulator<T, D>::particle_to_grid() {
  GridView<T, D> g{model_.grid, grid_mass_.data(), grid_mv_.data()};
  backend_->p2g(P2G<T, D>{buf_[cur_].view(), tau_.data(), g, model_.dt});
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
  if (!cs.empty()) device_copy(colliders_.data(), device_, cs.data(), Device::kCpu, cs.size() * sizeof(cs[0]));
  GridView<T, D> g{model_.grid, grid_mass_.data(), grid_mv_.data()};
  backend_->grid_update(GridUpdate<T, D>{g, model_.gravity, model_.dt, model_.walls, colliders_.data(),
                                         int(cs.size())});
}

// gather velocities, advect, trial F into the other buffer
template <class T, int D>
void Simulator<T, D>::grid_to_particle() {
  GridView<T, D> g{model_.grid, grid_mass_.data(), grid_mv_.data()};
  backend_->g2p(G2P<T, D>{g, buf_[cur_].view(), buf_[cur_ ^ 1].view(), model_.dt, model_.domain_min,
                          model_.domain_max, status_.data()});
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

// turn the status word into an error naming step, stage, particle and material
template <class T, int D>
void Simulator<T, D>::check_status() {
  Status s = backend_->fetch_status(status_.data());
  if (!s.bits) return;
  uint32_t stage = 0;
  while (stage < 5 && !(s.stages & (1u << stage))) ++stage;
  std::string what = (s.bits & kStatusNonFinite)    ? "NaN or infinity"
                     : (s.bits & kStatusOutOfDomain) ? "particle left the domain"
                                                     : "deformation gradient inverted (det F <= 0)";
  int p = s.particle;
  std::ostringstream os;
  os << what << " at step " << step_ << " (t = " << time_ << " s), stage " << stage_name(stage) << ", particle "
     << p;
  if (p >= 0 && p < int(host_material_.size()))
    os << " of material '" << model_.material_names[host_material_[p]] << "'";
  if (s.bits & kStatusOutOfDomain)
    os << "; enlarge the domain, add a collider or wall, or reduce the time step";
  else
    os << "; the time step may be too large for the material's stiffness (try a smaller dt or cfl)";
  throw Error(os.str());
}

template class Simulator<float, 2>;
template class Simulator<float, 3>;
template class Simulator<double, 2>;
template class Simulator<double, 3>;

}  // namespace ductile
