// The tape: forward steps on particles in the State's order, checkpoints per the policy, and the backward
// pass segment by segment (restore the segment's checkpoint, recompute its states, then step adjoints in
// reverse). Per step the backward pass recomputes stress, P2G, grid update and G2P from the stored state,
// then runs the adjoints: plastic projection, G2P, grid update, P2G, stress (../shared/DESIGN.md, "Tape").
#include "core/tape.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/control/actuation_driver.h"
#include "core/error.h"
#include "core/fault.h"
#include "core/grid_param_adjoints.h"
#include "core/resources.h"
#include "core/tape_fields.h"
#include "core/tape_slots.h"

namespace ductile {

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
  State<T, D> s0;             // the initial state in slot order
  std::vector<int32_t> perm;  // slot q holds particle perm[q]
  std::vector<T> force_host;  // [step][component][particle], the caller's order
  int64_t steps = 0;
  int K = 1;
  // particle states and working arrays
  Fields cur, next, trial, adj0, adj1;
  std::vector<Fields> checkpoints, segment;
  Buffer<T> tau, adj_tau, adj_F_trial, adj_mass;
  Buffer<T> gmass, gmv, gmom, adj_gv, adj_gmv, adj_gmass, row_params, step_params;
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

  // Bytes of the arrays that do not depend on the number of steps.
  double fixed_bytes() const {
    const double nodes = double(model.grid.num_nodes());
    const double grid = nodes * (2 + 4 * D) + double(row_params.size());
    const double particles = double(n) * (Fields::width() * 5 + 3 * D * D + 3);
    return (grid + particles + (has_force ? 2.0 * force.size() : 0.0)) * sizeof(T);
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

  // Stress, P2G, grid update and G2P of step t from `in` into `out` (trial F); the grid keeps the momentum
  // in gmom and the updated velocities in gmv.
  void transfer(Fields& in, Fields& out, int64_t t) {
    auto pin = view(in);
    backend->order(in.x.data(), n, model.grid);
    for (size_t m = 0; m < model.materials.size(); ++m)
      if (batch_count[m])
        model.materials[m]->stress(dev, pin, {batch[m].data(), batch_count[m]}, tau.data(), status.data());
    if (actuation) actuation->add_stress(*backend, t, in.F.data(), tau.data());
    P2G<T, D> p2g{pin, tau.data(), GridView<T, D>{model.grid, gmass.data(), gmom.data()}, model.dt,
                  status.data()};
    p2g.force = force_at(t);
    backend->p2g(p2g);
    GridUpdate<T, D> gu = grid_update_at(time_at(t), gmom.data());
    gu.v_out = gmv.data();
    backend->grid_update(gu);
    GridView<T, D> g{model.grid, gmass.data(), gmv.data()};
    G2P<T, D> g2p{g, pin, view(out), model.dt, model.domain_min, model.domain_max, status.data()};
    backend->g2p(g2p);
  }

  // One forward step from `in` to `out`.
  void step(Fields& in, Fields& out, int64_t t) {
    transfer(in, out, t);
    auto pout = view(out);
    for (size_t m = 0; m < model.materials.size(); ++m)
      if (batch_count[m])
        model.materials[m]->project(dev, model.dt, pout, {batch[m].data(), batch_count[m]}, status.data());
    Status s = backend->fetch_status(status.data());
    if (s.bits) {
      const int q = s.particle;
      const std::string mat = q >= 0 && q < n ? model.material_names[s0.material[q]] : std::string();
      throw Error("gradient forward pass: " +
                  fault_message(s, t + 1, time_at(t + 1), q >= 0 && q < n ? perm[q] : q, mat));
    }
  }

  // The host state of `f` at step t, particles in the caller's order.
  void download(Fields& f, int64_t t, State<T, D>& s) {
    State<T, D> slots = s0;
    f.download(slots);
    s = map_state(slots, [&](const auto& v) { return from_slots(v, perm); });
    s.step = s0.step + t;
    s.time = time_at(t);
  }

  // Evaluates the losses that read step t; returns their sum.
  double evaluate_losses(Fields& f, int64_t t) {
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
    return sum;
  }

  void backward_step(Fields& in, int64_t t, Fields& A1, Fields& A0, Gradients<T, D>& g, bool locate);
  [[noreturn]] void backward_fault(const Status& s, int64_t t, const char* stage, const char* what);
  void collider_adjoints(int64_t t, Gradients<T, D>& g);
};

// Per step: recompute the transfers, then the adjoints in reverse order of the forward stages.
template <class T, int D>
void Tape<T, D>::Impl::backward_step(Fields& in, int64_t t, Fields& A1, Fields& A0, Gradients<T, D>& g,
                                     bool locate) {
  transfer(in, trial, t);
  backend->fetch_status(status.data());  // the forward pass checked these stages
  // the rerun checks whole node arrays: what earlier steps left outside this step's nodes must be zero
  if (locate) adj_gmv.zero(), adj_gmass.zero();
  A0.zero();
  adj_F_trial.zero();
  // with `locate`, every stage is checked for non-finite adjoints so that the message names it
  auto check = [&](const char* stage, std::initializer_list<const T*> fields, std::initializer_list<int> w) {
    if (!locate) return;
    std::vector<const T*> f(fields);
    std::vector<int> widths(w);
    backend->check_finite(f.data(), widths.data(), int(f.size()), n, kStageStress, status.data());
    Status s = backend->fetch_status(status.data());
    if (s.bits) backward_fault(s, t, stage, "particle");
  };
  auto pin = view(in), ptrial = view(trial);
  // plastic projection (x, v and C pass through it unchanged)
  for (size_t m = 0; m < model.materials.size(); ++m)
    if (batch_count[m])
      model.materials[m]->project_vjp(dev, model.dt, ptrial, {batch[m].data(), batch_count[m]}, A1.F.data(),
                                      A1.plastic.data(), adj_F_trial.data(), A0.plastic.data(),
                                      adj_params[m].data(), status.data());
  check("plastic_projection", {adj_F_trial.data(), A0.plastic.data()}, {D * D, 1});
  // G2P
  GridView<T, D> gv{model.grid, gmass.data(), gmv.data()};
  ParticleView<T, D> adj_out = view(A1);
  adj_out.F = adj_F_trial.data();
  G2PAdjoint<T, D> ga{gv, pin, model.dt, adj_out, A0.x.data(), A0.F.data(), adj_gv.data()};
  ga.fwd_v = trial.v.data(), ga.fwd_C = trial.C.data();
  backend->g2p_adjoint(ga);
  check("g2p", {A0.x.data(), A0.F.data()}, {D, D * D});
  // grid update (its parameters' adjoints per step, mapped to the colliders' motion on the host)
  step_params.zero();
  GridUpdateAdjoint<T, D> gu{grid_update_at(time_at(t), gmom.data()), adj_gv.data(), adj_gmv.data(),
                             adj_gmass.data(), row_params.data()};
  backend->grid_update_adjoint(gu, int(step_params.size()), step_params.data());
  if (locate) {
    const int64_t nodes = model.grid.num_nodes();
    const T* f[2] = {adj_gmv.data(), adj_gmass.data()};
    const int w[2] = {D, 1};
    backend->check_finite(f, w, 2, int(nodes), kStageGrid, status.data());
    if (Status s = backend->fetch_status(status.data()); s.bits) backward_fault(s, t, "grid_update", "node");
  }
  collider_adjoints(t, g);
  // P2G
  P2G<T, D> p2g{pin, tau.data(), GridView<T, D>{model.grid, gmass.data(), gmom.data()}, model.dt, nullptr};
  p2g.force = force_at(t);
  P2GAdjoint<T, D> pa{p2g,
                      adj_gmass.data(),
                      adj_gmv.data(),
                      A0.x.data(),
                      A0.v.data(),
                      A0.C.data(),
                      adj_tau.data(),
                      has_force ? adj_force.data() + size_t(t) * D * n : nullptr,
                      adj_mass.data()};
  adj_tau.zero();
  backend->p2g_adjoint(pa);
  check("p2g", {A0.x.data(), A0.v.data(), A0.C.data(), adj_tau.data(), adj_mass.data()},
        {D, D, D * D, D * D, 1});
  // stress
  for (size_t m = 0; m < model.materials.size(); ++m)
    if (batch_count[m])
      model.materials[m]->stress_vjp(dev, pin, {batch[m].data(), batch_count[m]}, adj_tau.data(), A0.F.data(),
                                     A0.C.data(), A0.plastic.data(), adj_params[m].data(), status.data());
  check("stress", {A0.F.data(), A0.C.data(), A0.plastic.data()}, {D * D, D * D, 1});
  // actuation: the active stress and the controller's observation of state t
  if (actuation) {
    actuation->backward_step(*backend, t, in, adj_tau.data(), A0);
    check("actuation", {A0.x.data(), A0.v.data(), A0.F.data()}, {D, D, D * D});
  }
  // the losses that read step t, and the output adjoints given for it
  for (auto* adj : {&loss_adj, &seed_adj})
    if (auto it = adj->find(t); it != adj->end()) {
      A0.add_xv(it->second.first, it->second.second);
      check("loss gradient", {A0.x.data(), A0.v.data()}, {D, D});
    }
  // one check of the result per step; a fault reruns the step with a check after every stage
  if (!locate) {
    const T* f[5] = {A0.x.data(), A0.v.data(), A0.C.data(), A0.F.data(), A0.plastic.data()};
    const int w[5] = {D, D, D * D, D * D, 1};
    backend->check_finite(f, w, 5, n, kStageStress, status.data());
  }
  Status s = backend->fetch_status(status.data());
  if (s.bits && !locate) return backward_step(in, t, A1, A0, g, true);
  if (locate)
    fail("backward pass", "a NaN or infinity at step " + std::to_string(t) +
                              " did not reproduce when the step was rerun stage by stage");
  // parameters
  for (size_t m = 0; m < model.materials.size(); ++m) {
    std::vector<T> a;
    adj_params[m].download(a);
    std::vector<std::string> names;
    for (const auto& spec : model.materials[m]->specs()) names.push_back(spec.name);
    check_parameter_adjoints(std::vector<double>(a.begin(), a.end()), names, model.material_names[m], t);
  }
}

template <class T, int D>
void Tape<T, D>::Impl::backward_fault(const Status& s, int64_t t, const char* stage, const char* what) {
  const bool particle = std::string(what) == "particle" && s.particle >= 0 && s.particle < n;
  const int p = particle ? perm[s.particle] : s.particle;
  std::string msg = "NaN or infinity in the backward pass at step " + std::to_string(t) +
                    " (t = " + std::to_string(time_at(t)) + " s), adjoint of stage " + stage + ", " + what +
                    " " + std::to_string(p);
  if (particle) msg += " of material '" + model.material_names[s0.material[s.particle]] + "'";
  fail("backward pass",
       msg + "; nothing was zeroed: check the loss and the forward run for near-singular states");
}

// The grid update's parameter adjoints of step t (core/grid_param_adjoints.h), checked for NaN first.
template <class T, int D>
void Tape<T, D>::Impl::collider_adjoints(int64_t t, Gradients<T, D>& g) {
  std::vector<T> a;
  step_params.download(a);
  for (size_t j = 0; j < a.size(); ++j)
    if (!std::isfinite(double(a[j])))
      fail("backward pass", "the gradient of gravity, wall or collider parameters became " +
                                std::to_string(double(a[j])) + " at step " + std::to_string(t));
  add_grid_param_adjoints(model, a, time_at(t), g);
}

template <class T, int D>
Tape<T, D>::Tape(const Model<T, D>& model, Device device, CheckpointPolicy policy)
    : impl_(std::make_unique<Impl>(model, device, policy)) {}

template <class T, int D>
Tape<T, D>::~Tape() = default;

template <class T, int D>
const std::vector<double>& Tape<T, D>::loss_terms() const {
  return impl_->loss_terms;
}

template <class T, int D>
void Tape<T, D>::set_force(std::vector<T> force) {
  Impl& I = *impl_;
  I.has_force = !force.empty();
  I.force_host = std::move(force);
}

template <class T, int D>
void Tape<T, D>::set_actuation(ActuationDriver<T, D>* driver) {
  impl_->actuation = driver;
}

template <class T, int D>
double Tape<T, D>::forward(const State<T, D>& initial, int64_t steps,
                           const std::vector<const Loss<T, D>*>& losses) {
  Impl& I = *impl_;
  const auto t_start = std::chrono::steady_clock::now();
  const int nm = int(I.model.materials.size());
  I.n = initial.n;
  I.steps = steps;
  const int n = I.n;
  if (steps < 0) fail("tape", "negative number of steps");
  if (I.has_force && I.force_host.size() != size_t(steps) * D * n)
    fail("tape", "the force buffer holds " + std::to_string(I.force_host.size()) + " values; " +
                     std::to_string(steps) + " steps of " + std::to_string(n) + " particles need " +
                     std::to_string(size_t(steps) * D * n));
  // particles in cell order (slots), the force buffer likewise, step by step
  I.perm = cell_order(initial, I.model.grid);
  I.s0 = map_state(initial, [&](const auto& v) { return to_slots(v, I.perm); });
  const State<T, D>& s0 = I.s0;
  if (I.has_force) {
    std::vector<T> f(I.force_host.size()), block(static_cast<size_t>(D) * n);
    for (int64_t t = 0; t < steps; ++t) {
      std::copy_n(I.force_host.begin() + t * D * n, D * n, block.begin());
      const std::vector<T> slots = to_slots(block, I.perm);
      std::copy(slots.begin(), slots.end(), f.begin() + t * D * n);
    }
    I.force.resize(I.dev, f.size());
    I.force.upload(f);
  }
  // constants and per-material batches
  I.mass.resize(I.dev, n), I.mass.upload(s0.mass);
  I.vol0.resize(I.dev, n), I.vol0.upload(s0.vol0);
  I.material.resize(I.dev, n), I.material.upload(s0.material);
  std::vector<std::vector<int32_t>> idx(nm);
  for (int p = 0; p < n; ++p) {
    if (s0.material[p] < 0 || s0.material[p] >= nm)
      fail("state",
           "particle " + std::to_string(p) + " has material index " + std::to_string(s0.material[p]));
    idx[s0.material[p]].push_back(p);
  }
  I.batch.clear();
  I.batch_count.assign(nm, 0);
  for (int m = 0; m < nm; ++m) {
    I.batch.emplace_back(I.dev, 0);
    I.batch[m].upload(idx[m]);
    I.batch_count[m] = int(idx[m].size());
  }
  for (auto* f : {&I.cur, &I.next, &I.trial, &I.adj0, &I.adj1}) f->resize(I.dev, n);
  for (Buffer<T>* b : {&I.tau, &I.adj_tau, &I.adj_F_trial}) b->resize(I.dev, size_t(D * D) * n);
  I.adj_mass.resize(I.dev, n);
  I.adj_force.resize(I.dev, I.has_force ? I.force.size() : 0);
  // losses by step
  I.loss_at.clear();
  I.loss_adj.clear(), I.seed_adj.clear();
  I.loss_adj_mass.assign(size_t(n), 0.0);
  I.loss_terms.assign(losses.size(), 0.0);
  for (size_t k = 0; k < losses.size(); ++k)
    for (int64_t t : losses[k]->steps()) {
      if (t < 0 || t > steps)
        fail("loss", losses[k]->name() + " reads step " + std::to_string(t) + " but the run has " +
                         std::to_string(steps));
      I.loss_at[t].push_back({k, losses[k]});
    }
  // checkpoint schedule
  const double S = TapeFields<T, D>::width() * double(n) * sizeof(T);
  I.K = checkpoint_interval(I.policy, steps, S, I.fixed_bytes());
  check_memory("gradient tape", checkpoint_bytes(steps, I.K, S) + I.fixed_bytes(),
               "checkpoint policy " + I.policy.describe(), kMemoryAdvice);
  const int64_t count = (steps + I.K - 1) / I.K;
  I.checkpoints.resize(size_t(count));
  I.segment.resize(size_t(I.K > 1 ? I.K - 1 : 0));
  stats_ = TapeStats{};
  stats_.steps = steps;
  stats_.interval = I.K;
  stats_.state_bytes = S;
  stats_.peak_bytes = checkpoint_bytes(steps, I.K, S) + I.fixed_bytes();
  // run
  I.cur.upload(s0);
  double loss = I.evaluate_losses(I.cur, 0);
  if (I.actuation) I.actuation->begin(I.dev, I.perm, s0.mass, steps, double(I.model.dt));
  for (int64_t t = 0; t < steps; ++t) {
    if (I.actuation) I.actuation->observe(t, I.cur);
    if (t % I.K == 0) {
      auto& c = I.checkpoints[size_t(t / I.K)];
      c.resize(I.dev, n);
      c.copy_from(I.cur);
    }
    I.step(I.cur, I.next, t);
    std::swap(I.cur, I.next);
    loss += I.evaluate_losses(I.cur, t + 1);
    if (progress_ && (steps < 100 || (t + 1) % (steps / 100) == 0)) progress_("forward", t + 1, steps);
  }
  if (I.actuation) I.actuation->observe(steps, I.cur), loss += I.actuation->finish();
  I.download(I.cur, steps, final_);
  stats_.forward_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return loss;
}

template <class T, int D>
void Tape<T, D>::set_output_adjoints(const OutputAdjoints& adj) {
  check_output_adjoints<T, D>(adj, impl_->steps, impl_->n);
  impl_->seed_adj.clear();
  for (const auto& [t, xv] : adj)
    impl_->seed_adj[t] = {to_slots(xv.first, impl_->perm), to_slots(xv.second, impl_->perm)};
}

template <class T, int D>
Gradients<T, D> Tape<T, D>::backward() {
  Impl& I = *impl_;
  const auto t_start = std::chrono::steady_clock::now();
  const int n = I.n, nm = int(I.model.materials.size());
  Gradients<T, D> g;
  g.colliders.resize(I.model.colliders.size());
  I.adj_params.clear();
  for (int m = 0; m < nm; ++m) {
    I.adj_params.emplace_back(I.dev,
                              I.model.materials[m]->specs().size() + I.model.materials[m]->learnable_size());
    I.adj_params.back().zero();
  }
  I.adj_mass.zero();
  I.adj_force.zero();
  // the adjoint of the final state: the losses at the last step
  I.adj1.zero();
  for (auto* adj : {&I.loss_adj, &I.seed_adj})
    if (auto it = adj->find(I.steps); it != adj->end()) I.adj1.add_xv(it->second.first, it->second.second);
  if (I.actuation) I.actuation->backward_final(I.cur, I.adj1);
  stats_.recomputed = 0;
  int64_t done = 0;
  for (int64_t seg = int64_t(I.checkpoints.size()) - 1; seg >= 0; --seg) {
    const int64_t a = seg * I.K, b = std::min<int64_t>(a + I.K, I.steps);
    // recompute the segment's states a + 1 .. b - 1 from its checkpoint
    for (int64_t t = a + 1; t < b; ++t) {
      auto& dst = I.segment[size_t(t - a - 1)];
      dst.resize(I.dev, n);
      I.step(t == a + 1 ? I.checkpoints[size_t(seg)] : I.segment[size_t(t - a - 2)], dst, t - 1);
      ++stats_.recomputed;
    }
    for (int64_t t = b - 1; t >= a; --t) {
      auto& in = t == a ? I.checkpoints[size_t(seg)] : I.segment[size_t(t - a - 1)];
      I.backward_step(in, t, I.adj1, I.adj0, g, false);
      std::swap(I.adj0, I.adj1);
      ++done;
      if (progress_ && (I.steps < 100 || done % (I.steps / 100) == 0)) progress_("backward", done, I.steps);
    }
  }
  // results on the host (adj1 holds the adjoint of the initial state)
  I.adj1.download_adjoint(g);
  std::vector<T> am;
  I.adj_mass.download(am);
  g.mass.assign(am.begin(), am.end());
  const std::vector<double> loss_mass = to_slots(I.loss_adj_mass, I.perm);
  for (int p = 0; p < n; ++p) g.mass[size_t(p)] += loss_mass[size_t(p)];
  if (I.actuation)
    for (int p = 0; p < n; ++p) g.mass[size_t(p)] += I.actuation->adj_mass_slots()[size_t(p)];
  for (int m = 0; m < nm; ++m) {
    std::vector<T> a;
    I.adj_params[m].download(a);
    g.material.emplace_back(a.begin(), a.end());
  }
  // density: mass = density * vol0 per particle (parameter 0 of every analytic model)
  for (int p = 0; p < n; ++p) {
    const int m = I.s0.material[p];
    const auto& specs = I.model.materials[m]->specs();
    if (!specs.empty() && std::string(specs[0].name) == "density")
      g.material[m][0] += g.mass[p] * double(I.s0.vol0[p]);
  }
  // back to the caller's particle order
  for (auto* v : {&g.x, &g.v, &g.C, &g.F, &g.plastic, &g.mass}) *v = from_slots(*v, I.perm);
  if (I.has_force) {
    std::vector<T> f;
    I.adj_force.download(f);
    g.force.resize(f.size());
    std::vector<double> block(static_cast<size_t>(D) * n);
    for (int64_t t = 0; t < I.steps; ++t) {
      std::copy_n(f.begin() + t * D * n, D * n, block.begin());
      const std::vector<double> orig = from_slots(block, I.perm);
      std::copy(orig.begin(), orig.end(), g.force.begin() + t * D * n);
    }
  }
  stats_.backward_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return g;
}

template class Tape<float, 2>;
template class Tape<float, 3>;
template class Tape<double, 2>;
template class Tape<double, 3>;

}  // namespace ductile
