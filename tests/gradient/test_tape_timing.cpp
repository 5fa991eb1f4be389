// The tape's time splits (TapeStats::forward_split and backward_split) are filled, non-negative, sum to each
// pass's total and are reset by every call; the tape's slot helpers (core/tape_slots.h) give exactly what the
// straightforward code they replaced gave: a stable comparison sort by cell, serial permutation loops, a
// copy of the whole state before mapping it.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/tape_slots.h"
#include "gradient/gradient_problem.h"
#include "gradient/gradient_scenes.h"

using namespace ductile;
using namespace ductile::test;

namespace {

// The cell order as the tape computed it before the radix sort: keys, then std::stable_sort of the indices.
template <class T, int D>
std::vector<int32_t> reference_cell_order(const State<T, D>& s, const GridSpec<T, D>& g) {
  std::vector<int64_t> key(size_t(s.n));
  for (int p = 0; p < s.n; ++p) {
    int64_t k = 0;
    for (int d = 0; d < D; ++d) {
      const int c =
          std::min(std::max(floor_int((s.x[size_t(d) * s.n + p] - g.origin[d]) * g.inv_dx), 0), g.res[d] - 1);
      k = k * g.res[d] + c;
    }
    key[size_t(p)] = k;
  }
  std::vector<int32_t> perm(size_t(s.n));
  for (int p = 0; p < s.n; ++p) perm[size_t(p)] = p;
  std::stable_sort(perm.begin(), perm.end(),
                   [&](int32_t a, int32_t b) { return key[size_t(a)] < key[size_t(b)]; });
  return perm;
}

// n particles of a grid with `res` nodes per axis and spacing 0.01: most in a few cells (many equal keys),
// some anywhere, some outside the grid (clamped to its edge cells).
template <int D>
State<double, D> random_particles(int n, const int* res, unsigned seed, GridSpec<double, D>& g) {
  g.dx = 0.01, g.inv_dx = 100;
  for (int d = 0; d < D; ++d) g.origin[d] = -0.05, g.res[d] = res[d];
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  State<double, D> s;
  s.resize(n);
  for (int p = 0; p < n; ++p) {
    const double kind = u(rng);
    for (int d = 0; d < D; ++d) {
      const double extent = g.dx * (res[d] - 1);
      double x = g.origin[d] + u(rng) * extent;                                         // anywhere
      if (kind < 0.5) x = g.origin[d] + g.dx * (0.5 + double(int(u(rng) * 3)) * 0.25);  // a few cells
      if (kind > 0.95) x = g.origin[d] + (u(rng) < 0.5 ? -0.5 : 1.5) * extent;          // outside
      s.x[size_t(d) * n + size_t(p)] = x;
    }
  }
  return s;
}

template <int D>
void check_cell_order(const int* res, unsigned seed) {
  GridSpec<double, D> g;
  const int n = 40000;  // over two chunks of the slot permutations
  const State<double, D> s = random_particles<D>(n, res, seed, g);
  const std::vector<int32_t> perm = cell_order(s, g);
  CHECK(perm == reference_cell_order(s, g));
  // to_slots and from_slots: the serial loops, and inverse to each other
  std::vector<double> field(size_t(D * D) * n);
  for (size_t i = 0; i < field.size(); ++i) field[i] = double(i) * 0.5 - 3;
  std::vector<double> slots(field.size()), back(field.size());
  for (size_t k = 0; k < size_t(D * D); ++k)
    for (size_t q = 0; q < size_t(n); ++q) slots[k * n + q] = field[k * n + size_t(perm[q])];
  CHECK(to_slots(field, perm) == slots);
  for (size_t k = 0; k < size_t(D * D); ++k)
    for (size_t q = 0; q < size_t(n); ++q) back[k * n + size_t(perm[q])] = slots[k * n + q];
  CHECK(from_slots(slots, perm) == back);
  CHECK(back == field);
  // the gather through the inverse permutation, converting float to double on the way
  const std::vector<int32_t> slot_of = slots_of(perm);
  bool inverse = slot_of.size() == perm.size();
  for (size_t q = 0; q < size_t(n) && inverse; ++q) inverse = slot_of[size_t(perm[q])] == int32_t(q);
  CHECK(inverse);
  const std::vector<float> slots_f(slots.begin(), slots.end());
  const std::vector<float> back_float = from_slots(slots_f, perm);
  CHECK(gather_from_slots<double>(slots_f, slot_of) ==
        std::vector<double>(back_float.begin(), back_float.end()));
}

// The invariants of one forward and backward pass's splits.
void check_splits(const TapeStats& st) {
  const auto& f = st.forward_split;
  const auto& b = st.backward_split;
  for (double v : {f.setup, f.order, f.checkpoints, f.steps, f.first_step, f.losses, f.finish, b.setup,
                   b.recompute, b.adjoint, b.finish})
    CHECK(v >= 0);
  CHECK(f.order > 0);
  CHECK(f.order <= f.setup);
  CHECK(f.checkpoints > 0);
  CHECK(f.first_step > 0);
  CHECK(f.first_step < f.steps);
  CHECK(b.adjoint > 0);
  CHECK(b.finish > 0);
  CHECK(f.setup + f.checkpoints + f.steps + f.losses + f.finish ==
        doctest::Approx(st.forward_seconds).epsilon(1e-9));
  CHECK(b.setup + b.recompute + b.adjoint + b.finish == doctest::Approx(st.backward_seconds).epsilon(1e-9));
  // store-all recomputes nothing; sqrt(T) recomputes its segments' states
  if (st.interval == 1) {
    CHECK(st.recomputed == 0);
    CHECK(b.recompute == 0);
  } else {
    CHECK(st.recomputed > 0);
    CHECK(b.recompute > 0);
  }
}

}  // namespace

TEST_CASE("tape stats: the time splits are filled and the parts sum to each pass's total") {
  constexpr int64_t kSteps = 12;
  for (const char* policy : {"all", "sqrt"}) {
    INFO("policy := " << std::string(policy));
    GradientProblem<2> P(kJellySand2D, kSteps);
    add_standard_losses(P.scene.state, kSteps, P.losses);
    Tape<double, 2> tape(P.scene.model, Device::kCpu, CheckpointPolicy::parse(policy, "test"));
    for (int run = 0; run < 2; ++run) {  // the second call's splits must replace the first's, not add to them
      CAPTURE(run);
      tape.forward(P.scene.state, kSteps, P.loss_ptrs());
      tape.backward();
      check_splits(tape.stats());
    }
  }
}

TEST_CASE("tape stats: on CUDA the splits and the stages are filled and sum to the totals" *
          doctest::skip(!cuda_available())) {
  constexpr int64_t kSteps = 12;
  GradientProblem<2> P(kJellySand2D, kSteps);
  add_standard_losses(P.scene.state, kSteps, P.losses);
  Tape<double, 2> cpu(P.scene.model, Device::kCpu, CheckpointPolicy::parse("sqrt", "test"));
  Tape<double, 2> gpu(P.scene.model, Device::kCuda, CheckpointPolicy::parse("sqrt", "test"));
  const double reference = cpu.forward(P.scene.state, kSteps, P.loss_ptrs());
  for (bool staged : {false, true}) {
    CAPTURE(staged);
    gpu.set_stage_timing(staged);
    const double loss = gpu.forward(P.scene.state, kSteps, P.loss_ptrs());
    CHECK(loss == doctest::Approx(reference).epsilon(1e-9));  // (double atomics: another summation order)
    gpu.backward();
    check_splits(gpu.stats());
    const TapeStats::ForwardStages& s = gpu.stats().forward_stages;
    const double sum = s.order + s.stress + s.p2g + s.grid_update + s.g2p + s.project + s.status;
    if (!staged) CHECK(sum == 0);
    if (staged) {
      for (double v : {s.stress, s.p2g, s.grid_update, s.g2p, s.project, s.status}) CHECK(v > 0);
      CHECK(sum <= gpu.stats().forward_split.steps * (1 + 1e-12));
    }
  }
}

TEST_CASE("tape slots: cell_order is the stable sort by cell, to_slots and from_slots the plain loops") {
  const int one[3] = {1, 1, 1};         // one cell: no radix pass
  const int small[3] = {4, 4, 4};       // 64 cells: one pass
  const int wide2[2] = {300, 500};      // 150,000 cells: two passes
  const int big3[3] = {200, 200, 200};  // 8,000,000 cells: three passes
  const int odd3[3] = {129, 129, 129};  // 2,146,689 cells: two passes, the last one partial
  check_cell_order<3>(one, 1);
  check_cell_order<3>(small, 2);
  check_cell_order<2>(wide2, 3);
  check_cell_order<3>(big3, 4);
  check_cell_order<3>(odd3, 5);
}

TEST_CASE(
    "tape slots: map_state maps every array and keeps the scalars, and the final state with a final loss") {
  GradientProblem<2> P(kJellySand2D, 3);
  State<double, 2>& s = P.scene.state;
  s.time = 0.25, s.step = 7;
  std::vector<int32_t> perm(size_t(s.n));
  for (int p = 0; p < s.n; ++p) perm[size_t(p)] = s.n - 1 - p;  // reversed
  const State<double, 2> r = map_state(s, [&](const auto& v) { return to_slots(v, perm); });
  const State<double, 2> back = map_state(r, [&](const auto& v) { return from_slots(v, perm); });
  CHECK(r.n == s.n);
  CHECK(r.time == s.time);
  CHECK(r.step == s.step);
  CHECK(r.x == to_slots(s.x, perm));
  CHECK(r.object == to_slots(s.object, perm));
  CHECK(back.x == s.x);
  CHECK(back.v == s.v);
  CHECK(back.C == s.C);
  CHECK(back.F == s.F);
  CHECK(back.plastic == s.plastic);
  CHECK(back.mass == s.mass);
  CHECK(back.vol0 == s.vol0);
  CHECK(back.material == s.material);
  CHECK(back.object == s.object);
  // the tape's final state: the caller's constants, order and clock
  Tape<double, 2> tape(P.scene.model, Device::kCpu);
  tape.forward(s, 3, {});
  const State<double, 2>& e = tape.final_state();
  CHECK(e.n == s.n);
  CHECK(e.step == s.step + 3);
  CHECK(e.time == doctest::Approx(s.time + 3 * double(P.scene.model.dt)).epsilon(1e-14));
  CHECK(e.mass == s.mass);
  CHECK(e.vol0 == s.vol0);
  CHECK(e.material == s.material);
  CHECK(e.object == s.object);
  REQUIRE(e.x.size() == s.x.size());
  CHECK(e.x != s.x);  // it moved
  // with a loss at the last step the tape keeps the state that loss read as the final state: the same
  std::vector<std::unique_ptr<Loss<double, 2>>> losses;
  add_standard_losses(s, 3, losses);
  Tape<double, 2> with_loss(P.scene.model, Device::kCpu);
  with_loss.forward(s, 3, {losses[0].get(), losses[1].get()});
  const State<double, 2>& w = with_loss.final_state();
  CHECK(w.n == e.n);
  CHECK(w.step == e.step);
  CHECK(w.time == e.time);
  CHECK(w.x == e.x);
  CHECK(w.v == e.v);
  CHECK(w.C == e.C);
  CHECK(w.F == e.F);
  CHECK(w.plastic == e.plastic);
  CHECK(w.mass == e.mass);
  CHECK(w.vol0 == e.vol0);
  CHECK(w.material == e.material);
  CHECK(w.object == e.object);
}

TEST_CASE("tape stats: stage timing fills the stages within the steps' time and changes no result") {
  constexpr int64_t kSteps = 10;
  GradientProblem<2> P(kJellySand2D, kSteps);
  add_standard_losses(P.scene.state, kSteps, P.losses);
  const CheckpointPolicy sqrt_policy = CheckpointPolicy::parse("sqrt", "test");
  Tape<double, 2> plain(P.scene.model, Device::kCpu, sqrt_policy),
      timed(P.scene.model, Device::kCpu, sqrt_policy);
  timed.set_stage_timing(true);
  const double la = plain.forward(P.scene.state, kSteps, P.loss_ptrs());
  const double lb = timed.forward(P.scene.state, kSteps, P.loss_ptrs());
  CHECK(la == lb);
  CHECK(plain.final_state().x == timed.final_state().x);
  CHECK(plain.final_state().F == timed.final_state().F);
  const auto& none = plain.stats().forward_stages;
  for (double v : {none.order, none.stress, none.p2g, none.grid_update, none.g2p, none.project, none.status})
    CHECK(v == 0);
  const TapeStats::ForwardStages s = timed.stats().forward_stages;
  for (double v : {s.order, s.stress, s.p2g, s.grid_update, s.g2p, s.project, s.status}) CHECK(v >= 0);
  for (double v : {s.stress, s.p2g, s.grid_update, s.g2p, s.project}) CHECK(v > 0);
  const double sum = s.order + s.stress + s.p2g + s.grid_update + s.g2p + s.project + s.status;
  CHECK(sum <= timed.stats().forward_split.steps * (1 + 1e-12));
  CHECK(sum > 0.5 * timed.stats().forward_split.steps);
  // the backward pass (which recomputes steps here) neither adds to the stages nor changes the gradient
  const Gradients<double, 2> ga = plain.backward(), gb = timed.backward();
  REQUIRE(timed.stats().recomputed > 0);
  CHECK(timed.stats().forward_stages.p2g == s.p2g);
  CHECK(timed.stats().forward_stages.stress == s.stress);
  CHECK(ga.x == gb.x);
  CHECK(ga.F == gb.F);
  CHECK(ga.material == gb.material);
  // off again: the next forward times no stage
  timed.set_stage_timing(false);
  timed.forward(P.scene.state, kSteps, P.loss_ptrs());
  CHECK(timed.stats().forward_stages.p2g == 0);
}
