// The adjoint of one tape step (../shared/DESIGN.md, "Tape"). The step's grid is recomputed from the stored
// state (stress, P2G, grid update; materials may keep what their stress adjoint reuses, such as the SVD,
// materials/keep_for_vjp.h), or, for a step the segment's recomputation has just run, its kept grid is used
// and only the stress recomputed; G2P is not: its outputs x, v and C are those of the next state, kept by
// the tape, and the trial F = (I + dt C) F is formed per particle. Then the adjoints run in reverse order of
// the forward stages: plastic projection, G2P, grid update, P2G, stress, actuation, losses.
#include <string>

#include "core/grid_param_adjoints.h"
#include "core/tape_impl.h"

namespace ductile {

// Per step: recompute the transfers, then the adjoints in reverse order of the forward stages.
template <class T, int D>
void Tape<T, D>::Impl::backward_step(Fields& in, Fields& after, int64_t t, Fields& A1, Fields& A0,
                                     Gradients<T, D>& g, bool locate, bool grid_kept) {
  // the grid of step t (unless kept from the segment's recomputation); the materials may keep for their
  // adjoints below what the stress computed
  struct Keep {
    Impl& I;
    explicit Keep(Impl& i) : I(i) { I.keep_for_vjp(true); }
    ~Keep() { I.keep_for_vjp(false); }
  };
  {
    Keep keep(*this);
    particle_stress(in, t);
    if (!grid_kept) grid_of(in, t);
  }
  backend->trial_F({n, model.dt, after.C.data(), in.F.data(), trial_F.data()});
  backend->fetch_status(status.data());  // the forward pass checked these stages
  // the rerun checks whole node arrays: what earlier steps left outside this step's nodes must be zero
  if (locate) adj_gmv.zero(), adj_gmass.zero();
  A0.zero();
  parallel_zero(adj_F_trial);
  // with `locate`, every stage is checked for non-finite adjoints so that the message names it
  auto check = [&](const char* stage, std::initializer_list<const T*> fields, std::initializer_list<int> w) {
    if (!locate) return;
    std::vector<const T*> f(fields);
    std::vector<int> widths(w);
    backend->check_finite(f.data(), widths.data(), int(f.size()), n, kStageStress, status.data());
    Status s = backend->fetch_status(status.data());
    if (s.bits) backward_fault(s, t, stage, "particle");
  };
  // the trial state: x, v and C of the next state, plastic of this one (the projection changes F and plastic)
  auto pin = view(in), ptrial = view(after);
  ptrial.F = trial_F.data(), ptrial.plastic = in.plastic.data();
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
  ga.fwd_v = after.v.data(), ga.fwd_C = after.C.data();
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
  parallel_zero(adj_tau);
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
  if (s.bits && !locate) return backward_step(in, after, t, A1, A0, g, true, grid_kept);
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

// the three per-step members, for every precision and dimension
#define DUCTILE_TAPE_BACKWARD(T, D)                                                                 \
  template void Tape<T, D>::Impl::backward_step(Fields&, Fields&, int64_t, Fields&, Fields&,        \
                                                Gradients<T, D>&, bool, bool);                      \
  template void Tape<T, D>::Impl::backward_fault(const Status&, int64_t, const char*, const char*); \
  template void Tape<T, D>::Impl::collider_adjoints(int64_t, Gradients<T, D>&);
DUCTILE_TAPE_BACKWARD(float, 2)
DUCTILE_TAPE_BACKWARD(float, 3)
DUCTILE_TAPE_BACKWARD(double, 2)
DUCTILE_TAPE_BACKWARD(double, 3)
#undef DUCTILE_TAPE_BACKWARD

}  // namespace ductile
