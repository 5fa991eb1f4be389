// The tape: forward steps on particles kept in cell order ("slots", core/tape_slots.h), checkpoints per the
// policy, and the backward pass segment by segment (restore the segment's checkpoint, recompute its states,
// then step adjoints in reverse, core/tape_backward.cpp) (../shared/DESIGN.md, "Tape").
#include "core/tape.h"

#include "core/resources.h"
#include "core/tape_impl.h"

namespace ductile {

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
void Tape<T, D>::set_stage_timing(bool on) {
  impl_->time_stages = on;
}

template <class T, int D>
double Tape<T, D>::forward(const State<T, D>& initial, int64_t steps,
                           const std::vector<const Loss<T, D>*>& losses) {
  Impl& I = *impl_;
  LapClock clock;
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
  I.slot_of = slots_of(I.perm);
  I.s0 = map_state(initial, [&](const auto& v) { return to_slots(v, I.perm); });
  const State<T, D>& s0 = I.s0;
  I.constants = State<T, D>{};
  I.constants.n = n;
  I.constants.mass = initial.mass, I.constants.vol0 = initial.vol0;
  I.constants.material = initial.material, I.constants.object = initial.object;
  std::vector<T> force_slots;
  if (I.has_force) {
    std::vector<T> block(static_cast<size_t>(D) * n);
    force_slots.resize(I.force_host.size());
    for (int64_t t = 0; t < steps; ++t) {
      std::copy_n(I.force_host.begin() + t * D * n, D * n, block.begin());
      const std::vector<T> slots = to_slots(block, I.perm);
      std::copy(slots.begin(), slots.end(), force_slots.begin() + t * D * n);
    }
  }
  const double order_seconds = clock.lap();  // host work only: nothing is queued on a device yet
  if (I.has_force) {
    I.force.resize(I.dev, force_slots.size());
    I.force.upload(force_slots);
    std::vector<T>().swap(force_slots);
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
  for (auto* f : {&I.cur, &I.next, &I.adj0, &I.adj1}) f->resize(I.dev, n);
  for (Buffer<T>* b : {&I.tau, &I.trial_F, &I.adj_tau, &I.adj_F_trial}) b->resize(I.dev, size_t(D * D) * n);
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
  // the recomputed steps' grids are kept (the backward pass then skips their P2G and grid update) when they
  // take at most as much as the states, and fit the budget and the memory limit
  const double states = checkpoint_bytes(steps, I.K, S), grids = double(I.segment.size()) * I.grid_bytes(),
               need = states + I.fixed_bytes() + grids;
  I.keep_grids = grids > 0 && grids <= states &&
                 (I.policy.kind != CheckpointPolicy::Kind::kBudget || need <= I.policy.budget_bytes) &&
                 (memory_limit() <= 0 || need <= memory_limit());
  I.seg_grids.resize(I.keep_grids ? I.segment.size() : 0);
  stats_ = TapeStats{};
  auto& split = stats_.forward_split;
  split.order = order_seconds;
  stats_.steps = steps;
  stats_.interval = I.K;
  stats_.state_bytes = S;
  stats_.grid_bytes = I.grid_bytes();
  stats_.peak_bytes = states + I.fixed_bytes() + (I.keep_grids ? grids : 0);
  // run
  I.cur.upload(s0);
  // when a loss reads the last step, its download is the final state (nothing changes it after, unless an
  // actuation's last observation did): one download of the whole state fewer
  const bool final_loss = I.loss_at.count(steps) && !I.actuation;
  double loss = I.evaluate_losses(I.cur, 0, steps == 0 && final_loss ? &final_ : nullptr);
  if (I.actuation) I.actuation->begin(I.dev, I.perm, s0.mass, steps, double(I.model.dt));
  // a pageable upload returns before its copy lands, and the actuation may queue work: wait, once per call
  device_sync(I.dev);
  split.setup = order_seconds + clock.lap();  // the order's lap, then the rest
  I.stages = I.time_stages ? &stats_.forward_stages : nullptr;
  for (int64_t t = 0; t < steps; ++t) {
    if (I.actuation) I.actuation->observe(t, I.cur), split.steps += clock.lap();
    if (t % I.K == 0) {
      auto& c = I.checkpoints[size_t(t / I.K)];
      c.resize(I.dev, n);
      c.copy_from(I.cur);
      device_sync(I.dev);  // a device-to-device copy does not wait: once per checkpoint, the GPU idle anyway
      split.checkpoints += clock.lap();
    }
    I.step(I.cur, I.next, t);  // ends with fetch_status, which waits for the device
    std::swap(I.cur, I.next);
    const double dt = clock.lap();
    split.steps += dt;
    if (t == 0) split.first_step = dt;
    loss += I.evaluate_losses(I.cur, t + 1,
                              t + 1 == steps && final_loss ? &final_ : nullptr);  // downloads: waits
    if (progress_ && (steps < 100 || (t + 1) % (steps / 100) == 0)) progress_("forward", t + 1, steps);
    split.losses += clock.lap();
  }
  I.stages = nullptr;
  if (I.actuation) I.actuation->observe(steps, I.cur), loss += I.actuation->finish();
  if (!final_loss) I.download(I.cur, steps, final_);  // waits for the device
  split.finish = clock.lap();
  stats_.forward_seconds = clock.total();
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
  LapClock clock;
  I.stages = nullptr;  // (a forward that threw may have left it set)
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
  stats_.grids_kept = 0;
  auto& split = stats_.backward_split;
  split = {};
  device_sync(I.dev);  // the zeroing above is queued on a GPU, not waited for: wait, once per call
  split.setup = clock.lap();
  int64_t done = 0;
  for (int64_t seg = int64_t(I.checkpoints.size()) - 1; seg >= 0; --seg) {
    const int64_t a = seg * I.K, b = std::min<int64_t>(a + I.K, I.steps);
    // recompute the segment's states a + 1 .. b - 1 from its checkpoint
    for (int64_t t = a + 1; t < b; ++t) {
      auto& dst = I.segment[size_t(t - a - 1)];
      dst.resize(I.dev, n);
      I.step(t == a + 1 ? I.checkpoints[size_t(seg)] : I.segment[size_t(t - a - 2)], dst, t - 1);
      if (I.keep_grids) {
        auto& kept = I.seg_grids[size_t(t - a - 1)];
        if (kept.mass.size() == 0) {
          kept.mass.resize(I.dev, I.gmass.size());
          kept.mom.resize(I.dev, I.gmom.size()), kept.mv.resize(I.dev, I.gmv.size());
        }
        I.swap_grid(kept);  // step t - 1's grid
      }
      ++stats_.recomputed;
    }
    if (a + 1 < b) split.recompute += clock.lap();  // each step ended with fetch_status (waits)
    // state b: the next checkpoint, or the final state (in cur since the forward pass)
    auto& last = seg + 1 < int64_t(I.checkpoints.size()) ? I.checkpoints[size_t(seg + 1)] : I.cur;
    for (int64_t t = b - 1; t >= a; --t) {
      auto& in = t == a ? I.checkpoints[size_t(seg)] : I.segment[size_t(t - a - 1)];
      auto& next = t + 1 == b ? last : I.segment[size_t(t - a)];
      const bool kept = I.keep_grids && t + 1 < b;
      if (kept) I.swap_grid(I.seg_grids[size_t(t - a)]), ++stats_.grids_kept;
      I.backward_step(in, next, t, I.adj1, I.adj0, g, false, kept);
      std::swap(I.adj0, I.adj1);
      ++done;
      if (progress_ && (I.steps < 100 || done % (I.steps / 100) == 0)) progress_("backward", done, I.steps);
    }
    split.adjoint += clock.lap();  // each adjoint step ended with a status fetch and downloads (wait)
  }
  // results on the host, back in the caller's order (adj1 holds the adjoint of the initial state)
  std::vector<T> h;
  auto put = [&](const Buffer<T>& b, std::vector<double>& dst) {
    b.download(h);
    dst = gather_from_slots<double>(h, I.slot_of);
  };
  put(I.adj1.x, g.x), put(I.adj1.v, g.v), put(I.adj1.C, g.C), put(I.adj1.F, g.F);
  put(I.adj1.plastic, g.plastic);
  // the mass's adjoint in slot order first (the losses' and the actuation's terms are added there)
  I.adj_mass.download(h);
  g.mass.assign(h.begin(), h.end());
  const std::vector<double> loss_mass = to_slots(I.loss_adj_mass, I.perm);
  for (int p = 0; p < n; ++p) g.mass[size_t(p)] += loss_mass[size_t(p)];
  if (I.actuation)
    for (int p = 0; p < n; ++p) g.mass[size_t(p)] += I.actuation->adj_mass_slots()[size_t(p)];
  for (int m = 0; m < nm; ++m) {
    std::vector<T> a;
    I.adj_params[m].download(a);
    g.material.emplace_back(a.begin(), a.end());
  }
  // density: mass = density * vol0 per particle (parameter 0 of every analytic model); which materials have
  // it, once per material (not a string per particle)
  std::vector<char> has_density(size_t(nm), 0);
  for (int m = 0; m < nm; ++m) {
    const auto& specs = I.model.materials[m]->specs();
    has_density[size_t(m)] = !specs.empty() && std::string(specs[0].name) == "density";
  }
  for (int p = 0; p < n; ++p) {
    const int m = I.s0.material[p];
    if (has_density[size_t(m)]) g.material[m][0] += g.mass[p] * double(I.s0.vol0[p]);
  }
  g.mass = gather_from_slots<double>(g.mass, I.slot_of);
  if (I.has_force) {
    std::vector<T> f;
    I.adj_force.download(f);
    g.force.resize(f.size());
    std::vector<double> block(static_cast<size_t>(D) * n);
    for (int64_t t = 0; t < I.steps; ++t) {
      std::copy_n(f.begin() + t * D * n, D * n, block.begin());
      const std::vector<double> orig = gather_from_slots<double>(block, I.slot_of);
      std::copy(orig.begin(), orig.end(), g.force.begin() + t * D * n);
    }
  }
  split.finish = clock.lap();  // ends with host work after downloads
  stats_.backward_seconds = clock.total();
  return g;
}

template class Tape<float, 2>;
template class Tape<float, 3>;
template class Tape<double, 2>;
template class Tape<double, 3>;

}  // namespace ductile