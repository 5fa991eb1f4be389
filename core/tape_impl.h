// The tape's private state and forward stages (core/tape.cpp runs the forward pass and the backward
// loop, core/tape_backward.cpp the adjoint of one step). Included by those two files only.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/control/actuation_driver.h"
#include "core/error.h"
#include "core/fault.h"
#include "core/tape.h"
#include "core/tape_fields.h"
#include "core/tape_slots.h"
#include "materials/keep_for_vjp.h"

namespace ductile {

// Consecutive laps of the steady clock: lap() is the time since the previous lap (or the start), so the laps
// of a pass sum to total().
struct LapClock {
  using Clock = std::chrono::steady_clock;
  Clock::time_point start = Clock::now(), last = start;
  double lap() {
    const Clock::time_point now = Clock::now();
    const double s = std::chrono::duration<double>(now - last).count();
    last = now;
    return s;
  }
  double total() const { return std::chrono::duration<double>(last - start).count(); }
};

template <class T, int D>
struct Tape<T, D>::Impl {
  using Fields = TapeFields<T, D>;
  const Model<T, D>& model;
  Device dev;
  CheckpointPolicy policy;
  std::unique_ptr<DiffBackend<T, D>> backend;
  int n = 0;
  // constants of the run
  Buffer<T> mass, vol0;
  Buffer<int32_t> material;
  std::vector<Buffer<int32_t>> batch;
  std::vector<int> batch_count;
  State<T, D> s0;                // the initial state in slot order
  State<T, D> constants;         // the initial state's mass, vol0, material and object, the caller's order
  std::vector<int32_t> perm;     // slot q holds particle perm[q]
  std::vector<int32_t> slot_of;  // particle p sits in slot slot_of[p]
  std::vector<T> force_host;     // [step][component][particle], the caller's order
  int64_t steps = 0;
  int K = 1;
  // particle states and working arrays
  Fields cur, next, adj0, adj1;
  std::vector<Fields> checkpoints, segment;
  Buffer<T> tau, trial_F, adj_tau, adj_F_trial, adj_mass;
  Buffer<T> gmass, gmv, gmom, adj_gv, adj_gmv, adj_gmass, row_params, step_params;
  // the grids of a segment's recomputed steps (mass, momentum, updated velocity), kept when the memory
  // allows so that their backward steps skip P2G and the grid update; swapped with gmass, gmom and gmv
  struct Grid {
    Buffer<T> mass, mom, mv;
  };
  std::vector<Grid> seg_grids;
  bool keep_grids = false;
  std::vector<Buffer<T>> adj_params;
  std::vector<Buffer<T>> collider_sdf;
  Buffer<ColliderData<T, D>> colliders;
  Buffer<Status> status;
  Buffer<T> force, adj_force;
  bool has_force = false;
  ActuationDriver<T, D>* actuation = nullptr;
  // losses: which read each step, and the adjoints of x and v they gave
  std::map<int64_t, std::vector<std::pair<size_t, const Loss<T, D>*>>> loss_at;  // (index in the call, loss)
  std::vector<double> loss_terms;                                                // each loss's total
  OutputAdjoints loss_adj, seed_adj;  // the losses', and those given by set_output_adjoints
  std::vector<double> loss_adj_mass;  // d loss / d mass from the losses, the caller's order
  // per-stage times of forward steps (Tape::set_stage_timing): where to add them while a forward runs
  bool time_stages = false;
  TapeStats::ForwardStages* stages = nullptr;
  LapClock stage_clock;

  Impl(const Model<T, D>& m, Device d, CheckpointPolicy p) : model(m), dev(d), policy(p) {
    // clamping or removing particles at the domain boundary has no adjoint here: refused, not ignored
    if (m.boundary_policy != BoundaryPolicy::kError)
      fail("/domain/boundary/policy",
           "gradients need policy 'error': 'clamp' and 'delete' are not differentiable");
    backend = d == Device::kCpu ? make_cpu_diff_backend<T, D>() : make_cuda_diff_backend<T, D>();
    const int64_t nodes = m.grid.num_nodes();
    for (Buffer<T>* b : {&gmass, &adj_gmass}) b->resize(d, nodes);
    for (Buffer<T>* b : {&gmv, &gmom, &adj_gv, &adj_gmv}) b->resize(d, nodes * D);
    const int P = GridParamLayout<D>::size(int(m.colliders.size()));
    row_params.resize(d, (nodes / m.grid.res[D - 1]) * P);
    step_params.resize(d, P);
    status.resize(d, 1);
    status.upload(std::vector<Status>(1));
    for (const auto& c : m.colliders) {
      collider_sdf.emplace_back(d, 0);
      collider_sdf.back().upload(c.sdf);
    }
  }

  ParticleView<T, D> view(Fields& f) {
    return {n,           f.x.data(),  f.v.data(),     f.C.data(), f.F.data(), f.plastic.data(),
            mass.data(), vol0.data(), material.data()};
  }
  double time_at(int64_t t) const { return s0.time + double(t) * double(model.dt); }
  const T* force_at(int64_t t) const { return has_force ? force.data() + size_t(t) * D * n : nullptr; }

  // Bytes of the arrays that do not depend on the number of steps, the backend's particle order included.
  double fixed_bytes() const {
    const double nodes = double(model.grid.num_nodes());
    const double grid = nodes * (2 + 4 * D) + double(row_params.size());
    const double particles = double(n) * (Fields::width() * 4 + 4 * D * D + 3);
    double kept = 0;  // what materials keep for their stress adjoints (KeepForVjp)
    for (size_t m = 0; m < model.materials.size() && m < batch_count.size(); ++m)
      if (auto* k = dynamic_cast<const KeepForVjp*>(model.materials[m].get()))
        kept += double(k->kept_bytes()) * batch_count[m];
    return (grid + particles + (has_force ? 2.0 * force.size() : 0.0)) * sizeof(T) + kept +
           backend->order_bytes(n);
  }

  // Tells the materials that each stress() is followed by its stress_vjp() (on) or not (off).
  void keep_for_vjp(bool on) {
    for (const auto& mat : model.materials)
      if (auto* k = dynamic_cast<const KeepForVjp*>(mat.get())) k->keep_for_vjp(on);
  }

  // Colliders at time `time`, on the device.
  GridUpdate<T, D> grid_update_at(double time, T* grid_mv) {
    std::vector<ColliderData<T, D>> cs;
    for (size_t k = 0; k < model.colliders.size(); ++k) {
      ColliderData<T, D> c = model.colliders[k].at(time);
      c.sdf = collider_sdf[k].data();
      cs.push_back(c);
    }
    if (colliders.size() != cs.size()) colliders.resize(dev, cs.size());
    if (!cs.empty()) device_copy(colliders.data(), dev, cs.data(), Device::kCpu, cs.size() * sizeof(cs[0]));
    GridView<T, D> g{model.grid, gmass.data(), grid_mv};
    return GridUpdate<T, D>{g, model.gravity, model.dt, model.walls, colliders.data(), int(cs.size())};
  }

  // Bytes of one kept grid (seg_grids).
  double grid_bytes() const { return double(model.grid.num_nodes()) * (1 + 2 * D) * sizeof(T); }

  // Exchanges the working grid (gmass, gmom, gmv) with a kept one: no copy.
  void swap_grid(Grid& g) { std::swap(gmass, g.mass), std::swap(gmom, g.mom), std::swap(gmv, g.mv); }

  // The particles' order and the stress (tau) of step t from `in`.
  void particle_stress(Fields& in, int64_t t) {
    auto pin = view(in);
    backend->order(in.x.data(), n, model.grid);
    stage_done(&TapeStats::ForwardStages::order);
    for (size_t m = 0; m < model.materials.size(); ++m)
      if (batch_count[m])
        model.materials[m]->stress(dev, pin, {batch[m].data(), batch_count[m]}, tau.data(), status.data());
    if (actuation) actuation->add_stress(*backend, t, in.F.data(), tau.data());
    stage_done(&TapeStats::ForwardStages::stress);
  }

  // With stage timing on in a forward pass: waits for the device, adds the time since the previous stage.
  void stage_done(double TapeStats::ForwardStages::*stage) {
    if (!stages) return;
    device_sync(dev);
    stages->*stage += stage_clock.lap();
  }

  // Stress, P2G and grid update of step t from `in`: the grid keeps the momentum in gmom and the updated
  // velocities in gmv.
  void to_grid(Fields& in, int64_t t) {
    particle_stress(in, t);
    grid_of(in, t);
  }

  // P2G and grid update of step t from `in` and tau.
  void grid_of(Fields& in, int64_t t) {
    P2G<T, D> p2g{view(in), tau.data(), GridView<T, D>{model.grid, gmass.data(), gmom.data()}, model.dt,
                  status.data()};
    p2g.force = force_at(t);
    backend->p2g(p2g);
    stage_done(&TapeStats::ForwardStages::p2g);
    GridUpdate<T, D> gu = grid_update_at(time_at(t), gmom.data());
    gu.v_out = gmv.data();
    backend->grid_update(gu);
    stage_done(&TapeStats::ForwardStages::grid_update);
  }

  // to_grid, then G2P of step t from `in` into `out` (trial F).
  void transfer(Fields& in, Fields& out, int64_t t) {
    to_grid(in, t);
    GridView<T, D> g{model.grid, gmass.data(), gmv.data()};
    G2P<T, D> g2p{g, view(in), view(out), model.dt, model.domain_min, model.domain_max, status.data()};
    backend->g2p(g2p);
    stage_done(&TapeStats::ForwardStages::g2p);
  }

  // One forward step from `in` to `out`.
  void step(Fields& in, Fields& out, int64_t t) {
    if (stages) stage_clock.lap();  // the step's stages start here
    transfer(in, out, t);
    auto pout = view(out);
    for (size_t m = 0; m < model.materials.size(); ++m)
      if (batch_count[m])
        model.materials[m]->project(dev, model.dt, pout, {batch[m].data(), batch_count[m]}, status.data());
    stage_done(&TapeStats::ForwardStages::project);
    Status s = backend->fetch_status(status.data());
    stage_done(&TapeStats::ForwardStages::status);
    if (s.bits) {
      const int q = s.particle;
      const std::string mat = q >= 0 && q < n ? model.material_names[s0.material[q]] : std::string();
      throw Error("gradient forward pass: " +
                  fault_message(s, t + 1, time_at(t + 1), q >= 0 && q < n ? perm[q] : q, mat));
    }
  }

  // The host state of `f` at step t, particles in the caller's order: the five fields downloaded and
  // permuted, the constants copied.
  void download(Fields& f, int64_t t, State<T, D>& s) {
    s = constants;
    std::vector<T> h;
    auto put = [&](const Buffer<T>& b, std::vector<T>& dst) {
      b.download(h);
      dst = gather_from_slots<T>(h, slot_of);
    };
    put(f.x, s.x), put(f.v, s.v), put(f.C, s.C), put(f.F, s.F), put(f.plastic, s.plastic);
    s.step = s0.step + t;
    s.time = time_at(t);
  }

  // Evaluates the losses that read step t; returns their sum. `state`, when given, receives the host state
  // they read (untouched when no loss reads step t).
  double evaluate_losses(Fields& f, int64_t t, State<T, D>* state = nullptr) {
    auto it = loss_at.find(t);
    if (it == loss_at.end()) return 0;
    State<T, D> s;
    download(f, t, s);
    auto& adj = loss_adj[t];
    adj.first.assign(size_t(D) * n, 0.0);
    adj.second.assign(size_t(D) * n, 0.0);
    double sum = 0;
    // each loss's value and gradient must be finite and representable in T
    const double big = double(std::numeric_limits<T>::max());
    for (const auto& [index, l] : it->second) {
      const double v = l->evaluate(t, s, adj.first, adj.second);
      if (!std::isfinite(v)) fail("loss", l->name() + " is " + std::to_string(v));
      sum += v;
      loss_terms[index] += v;
      l->mass_gradient(t, s, loss_adj_mass);
      for (size_t i = 0; i < adj.first.size(); ++i)
        if (!(std::fabs(adj.first[i]) <= big) || !(std::fabs(adj.second[i]) <= big))
          fail("loss", "the gradient of " + l->name() + " (summed with the terms before it at step " +
                           std::to_string(t) + ") is not finite in " + (sizeof(T) == 4 ? "float" : "double") +
                           " at particle " + std::to_string(i % size_t(n)));
    }
    adj.first = to_slots(adj.first, perm);
    adj.second = to_slots(adj.second, perm);
    if (state) *state = std::move(s);
    return sum;
  }

  // The adjoint of step t (state `in` to state `after`): from A1, the adjoint of `after`, into A0, that of
  // `in`; parameter adjoints into adj_params and g. `locate` checks every stage; `grid_kept`: gmass, gmom
  // and gmv already hold step t's grid (core/tape_backward.cpp).
  void backward_step(Fields& in, Fields& after, int64_t t, Fields& A1, Fields& A0, Gradients<T, D>& g,
                     bool locate, bool grid_kept);
  [[noreturn]] void backward_fault(const Status& s, int64_t t, const char* stage, const char* what);
  void collider_adjoints(int64_t t, Gradients<T, D>& g);
};

}  // namespace ductile
