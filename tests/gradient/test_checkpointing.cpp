// The tape's checkpoint policies give the store-all gradient bit for bit; policy strings and budgets; the
// backward pass leaves the forward results alone; the tape's forward run agrees with the Simulator; a
// user-defined C++ loss through the tape against finite differences; the CPU tape's AVX2 and generic loops
// agree bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "core/simulator.h"
#include "gradient/gradient_problem.h"
#include "gradient/gradient_scenes.h"

using namespace ductile;
using namespace ductile::test;

namespace {

const char* kScene = kJellySand2D;
constexpr int64_t kSteps = 50;

// The scene with losses at the end (positions), midway (sand's centre of mass velocity) and at a step that
// is no multiple of the tested intervals (jelly's centre of mass position).
GradientProblem<2> make_problem() {
  GradientProblem<2> P(kScene, kSteps);
  compress_object(P.scene.state, 1);  // the sand, off Drucker-Prager's apex kink
  add_standard_losses(P.scene.state, kSteps, P.losses);
  return P;
}

// Every array and scalar of two gradients compared with == (the CPU tape is deterministic).
void check_identical(const Gradients<double, 2>& a, const Gradients<double, 2>& b) {
  CHECK(a.loss == b.loss);
  CHECK(a.x == b.x);
  CHECK(a.v == b.v);
  CHECK(a.C == b.C);
  CHECK(a.F == b.F);
  CHECK(a.plastic == b.plastic);
  CHECK(a.mass == b.mass);
  CHECK(a.material == b.material);
  CHECK(a.force == b.force);
  CHECK(a.wall_friction == b.wall_friction);
  for (int d = 0; d < 3; ++d) CHECK(a.gravity[d] == b.gravity[d]);
  REQUIRE(a.colliders.size() == b.colliders.size());
  for (size_t k = 0; k < a.colliders.size(); ++k) {
    CHECK(a.colliders[k].friction == b.colliders[k].friction);
    CHECK(a.colliders[k].key_position == b.colliders[k].key_position);
    CHECK(a.colliders[k].key_rotation == b.colliders[k].key_rotation);
    for (int d = 0; d < 3; ++d) {
      CHECK(a.colliders[k].velocity[d] == b.colliders[k].velocity[d]);
      CHECK(a.colliders[k].position[d] == b.colliders[k].position[d]);
      CHECK(a.colliders[k].angular_velocity[d] == b.colliders[k].angular_velocity[d]);
      CHECK(a.colliders[k].rotation[d] == b.colliders[k].rotation[d]);
    }
  }
}

// A state's time-varying arrays compared with ==.
void check_same_state(const State<double, 2>& a, const State<double, 2>& b) {
  CHECK(a.x == b.x);
  CHECK(a.v == b.v);
  CHECK(a.C == b.C);
  CHECK(a.F == b.F);
  CHECK(a.plastic == b.plastic);
  CHECK(a.time == b.time);
  CHECK(a.step == b.step);
}

// Half the kinetic energy of every particle at one step, a loss written against the public interface.
class KineticEnergyLoss final : public Loss<double, 2> {
 public:
  explicit KineticEnergyLoss(int64_t step) : step_(step) {}
  std::string name() const override { return "kinetic energy at step " + std::to_string(step_); }
  std::vector<int64_t> steps() const override { return {step_}; }
  double evaluate(int64_t, const State<double, 2>& s, std::vector<double>&,
                  std::vector<double>& adj_v) const override {
    double e = 0;
    for (int d = 0; d < 2; ++d)
      for (int p = 0; p < s.n; ++p) {
        const size_t i = size_t(d) * s.n + p;
        e += 0.5 * s.mass[p] * s.v[i] * s.v[i];
        adj_v[i] += s.mass[p] * s.v[i];
      }
    return e;
  }

 private:
  int64_t step_;
};

}  // namespace

TEST_CASE("checkpoint: sqrt, every:K and budget give the store-all gradient bit for bit") {
  GradientProblem<2> P = make_problem();
  P.policy = CheckpointPolicy::parse("all", "test");
  TapeStats all_stats;
  const Gradients<double, 2> all = P.gradient(&all_stats);
  CHECK(all_stats.steps == kSteps);
  CHECK(all_stats.interval == 1);
  CHECK(all_stats.recomputed == 0);
  CHECK(std::isfinite(all.loss));
  CHECK(all.loss != 0);

  // recomputed: every step but the first of each of the ceil(T / K) segments
  auto check_policy = [&](const CheckpointPolicy& policy, int expected_k) {
    INFO("policy " << policy.describe());
    P.policy = policy;
    TapeStats stats;
    const Gradients<double, 2> g = P.gradient(&stats);
    CHECK(stats.interval == expected_k);
    CHECK(stats.recomputed == kSteps - (kSteps + expected_k - 1) / expected_k);
    check_identical(g, all);
    return stats;
  };
  CHECK(all_stats.grids_kept == 0);
  const int sqrt_k = int(std::ceil(std::sqrt(double(kSteps))));
  CHECK(sqrt_k == 8);
  // a recomputed step's grid is kept for its backward step when the K - 1 grids take at most what the states
  // take (and fit the budget and the memory limit; none is set here)
  const double S = all_stats.state_bytes, grid = all_stats.grid_bytes;
  INFO("one grid " << grid << " bytes, one state " << S);
  REQUIRE(grid > 0);
  auto kept_if_small = [&](const TapeStats& st) {
    const bool small = (st.interval - 1) * grid <= checkpoint_bytes(kSteps, st.interval, S);
    CHECK(st.grids_kept == (small ? st.recomputed : 0));
    return int(small);
  };
  const TapeStats sq = check_policy(CheckpointPolicy::parse("sqrt", "test"), sqrt_k);
  kept_if_small(sq);
  // every:3 keeps its segments' 2 grids (about 10 states' worth beside 19 states), every:7 does not
  CHECK(kept_if_small(check_policy(CheckpointPolicy::parse("every:3", "test"), 3)) == 1);
  CHECK(kept_if_small(check_policy(CheckpointPolicy::parse("every:7", "test"), 7)) == 0);
  // a budget that holds ceil(50 / 4) + 3 = 16 states but not the 19 of K = 3 picks K = 4; the 3 grids of
  // a segment do not fit beside them, so its backward pass recomputes every grid
  const double fixed = all_stats.peak_bytes - double(kSteps) * S;
  CHECK(fixed > 0);
  CheckpointPolicy budget;
  budget.kind = CheckpointPolicy::Kind::kBudget;
  budget.budget_bytes = checkpoint_bytes(kSteps, 4, S) + fixed + 0.5 * S;
  const TapeStats b = check_policy(budget, 4);
  CHECK(b.grids_kept == 0);
  CHECK(b.peak_bytes <= budget.budget_bytes);
  CHECK(b.peak_bytes < all_stats.peak_bytes);
  // with room for them too (the budget's K is the smallest whose states fit), the grids are kept if small
  REQUIRE(3 * grid > 0.5 * S);
  int kept_cases = 0;
  for (int k : {4, 8, 12, 25}) {
    budget.budget_bytes = checkpoint_bytes(kSteps, k, S) + fixed + (k - 1) * grid + 0.25 * S;
    const int picked = checkpoint_interval(budget, kSteps, S, fixed);
    const TapeStats bg = check_policy(budget, picked);
    const bool fits =
        checkpoint_bytes(kSteps, picked, S) + fixed + (picked - 1) * grid <= budget.budget_bytes;
    if (fits)
      kept_cases += kept_if_small(bg);
    else
      CHECK(bg.grids_kept == 0);
    CHECK(bg.peak_bytes <= budget.budget_bytes);
  }
  CHECK(kept_cases > 0);
  // a generous budget stores every step
  check_policy(CheckpointPolicy::parse("budget:1GB", "test"), 1);
}

TEST_CASE("checkpoint: the CPU tape's AVX2 and generic loops give the same gradient bit for bit") {
  // kernels/diff_cpu.cpp picks its loops when the tape is made: AVX2 where the CPU has it, unless
  // DUCTILE_CPU_ISA=generic; without FMA both round every operation alike
  const char* old = std::getenv("DUCTILE_CPU_ISA");
  const std::string saved = old ? old : "";
  GradientProblem<2> P = make_problem();
  P.policy = CheckpointPolicy::parse("sqrt", "test");
  unsetenv("DUCTILE_CPU_ISA");
  const Gradients<double, 2> native = P.gradient();
  setenv("DUCTILE_CPU_ISA", "generic", 1);
  const Gradients<double, 2> generic = P.gradient();
  if (old)
    setenv("DUCTILE_CPU_ISA", saved.c_str(), 1);
  else
    unsetenv("DUCTILE_CPU_ISA");
  check_identical(native, generic);
}

TEST_CASE("checkpoint: policy strings parse and bad ones name where they came from") {
  using Kind = CheckpointPolicy::Kind;
  CHECK(CheckpointPolicy{}.kind == Kind::kSqrtT);
  CHECK(CheckpointPolicy::parse("all", "w").kind == Kind::kEveryStep);
  CHECK(CheckpointPolicy::parse("sqrt", "w").kind == Kind::kSqrtT);
  const CheckpointPolicy e = CheckpointPolicy::parse("every:12", "w");
  CHECK(e.kind == Kind::kEveryK);
  CHECK(e.every == 12);
  CHECK(e.describe() == "every:12");
  const CheckpointPolicy b = CheckpointPolicy::parse("budget:512MB", "w");
  CHECK(b.kind == Kind::kBudget);
  CHECK(b.budget_bytes == doctest::Approx(512e6));
  CHECK(CheckpointPolicy::parse("budget:4GB", "w").budget_bytes == doctest::Approx(4e9));
  CHECK(CheckpointPolicy::parse("budget:250KB", "w").budget_bytes == doctest::Approx(250e3));
  CHECK(CheckpointPolicy::parse("budget:1000", "w").budget_bytes == doctest::Approx(1000));
  CHECK(CheckpointPolicy::parse("budget:1.5GB", "w").budget_bytes == doctest::Approx(1.5e9));
  // describe() reads back as the same policy
  for (const char* text : {"all", "sqrt", "every:5", "budget:512MB"}) {
    const CheckpointPolicy p = CheckpointPolicy::parse(text, "w");
    const CheckpointPolicy q = CheckpointPolicy::parse(p.describe(), "w");
    CHECK(q.kind == p.kind);
    CHECK(q.every == p.every);
    CHECK(q.budget_bytes == doctest::Approx(p.budget_bytes));
  }
  for (const char* bad : {"every:0", "every:-2", "every:2.5", "every:", "every:3x", "budget:", "budget:0MB",
                          "budget:-1GB", "budget:5TB", "sometimes", "", "ALL"}) {
    INFO("policy '" << std::string(bad) << "'");
    bool threw = false;
    try {
      CheckpointPolicy::parse(bad, "/gradient/checkpoint");
    } catch (const Error& err) {
      threw = true;
      const std::string msg = err.what();
      INFO(msg);
      CHECK(msg.find("/gradient/checkpoint") != std::string::npos);
      CHECK(msg.find("'" + std::string(bad) + "'") != std::string::npos);
    }
    CHECK(threw);
  }
}

TEST_CASE("checkpoint: checkpoint_interval per policy, and the budget's smallest fitting K") {
  const auto parse = [](const char* t) { return CheckpointPolicy::parse(t, "test"); };
  CHECK(checkpoint_interval(parse("all"), 100, 1e6, 0) == 1);
  CHECK(checkpoint_interval(parse("sqrt"), 100, 1e6, 0) == 10);
  CHECK(checkpoint_interval(parse("sqrt"), 101, 1e6, 0) == 11);
  CHECK(checkpoint_interval(parse("every:7"), 100, 1e6, 0) == 7);
  CHECK(checkpoint_interval(parse("every:500"), 100, 1e6, 0) == 100);  // one segment at most
  CHECK(checkpoint_interval(parse("sqrt"), 1, 1e6, 0) == 1);
  CHECK(checkpoint_interval(parse("every:4"), 0, 1e6, 0) == 1);
  // memory ceil(T / K) + K - 1 states: 100 steps of 1 MB states and 2 MB of working arrays
  CHECK(checkpoint_bytes(100, 1, 1e6) == doctest::Approx(100e6));
  CHECK(checkpoint_bytes(100, 4, 1e6) == doctest::Approx(28e6));
  CHECK(checkpoint_bytes(100, 10, 1e6) == doctest::Approx(19e6));
  for (double budget_mb : {200.0, 102.0, 101.9, 60.0, 30.0, 25.0, 21.0}) {
    CheckpointPolicy p;
    p.kind = CheckpointPolicy::Kind::kBudget;
    p.budget_bytes = budget_mb * 1e6;
    const int K = checkpoint_interval(p, 100, 1e6, 2e6);
    INFO("budget " << budget_mb << " MB: K = " << K);
    CHECK(checkpoint_bytes(100, K, 1e6) + 2e6 <= p.budget_bytes);
    for (int k = 1; k < K; ++k) CHECK(checkpoint_bytes(100, k, 1e6) + 2e6 > p.budget_bytes);
  }
  CheckpointPolicy exact;
  exact.kind = CheckpointPolicy::Kind::kBudget;
  exact.budget_bytes = 30e6;  // K = 4 needs 28 + 2 MB, K = 3 needs 34 + 2 + 2
  CHECK(checkpoint_interval(exact, 100, 1e6, 2e6) == 4);
  // below the sqrt(T) minimum (19 states + 2 MB = 21 MB): an Error that states the sizes in MB
  CheckpointPolicy tight;
  tight.kind = CheckpointPolicy::Kind::kBudget;
  tight.budget_bytes = 20e6;
  bool threw = false;
  try {
    checkpoint_interval(tight, 100, 1e6, 2e6);
  } catch (const Error& err) {
    threw = true;
    const std::string msg = err.what();
    INFO(msg);
    CHECK(msg.find("MB") != std::string::npos);
    CHECK(msg.find("100 steps") != std::string::npos);
    CHECK(msg.find("budget") != std::string::npos);
  }
  CHECK(threw);
}

TEST_CASE("checkpoint: a budget too small for the tape makes forward() throw") {
  GradientProblem<2> P = make_problem();
  P.policy = CheckpointPolicy::parse("budget:1KB", "test");
  CHECK_THROWS_WITH_AS(P.loss(), doctest::Contains("MB"), Error);
}

TEST_CASE("checkpoint: backward leaves the forward results alone and may run twice") {
  GradientProblem<2> P = make_problem();
  Tape<double, 2> tape(P.scene.model, Device::kCpu, CheckpointPolicy::parse("every:7", "test"));
  const double loss = tape.forward(P.scene.state, kSteps, P.loss_ptrs());
  const State<double, 2> before = tape.final_state();
  const Gradients<double, 2> g1 = tape.backward();
  check_same_state(tape.final_state(), before);
  const Gradients<double, 2> g2 = tape.backward();
  check_same_state(tape.final_state(), before);
  check_identical(g1, g2);
  CHECK(tape.stats().recomputed == kSteps - (kSteps + 6) / 7);
  // a second forward from the same state gives the same loss and final state
  CHECK(tape.forward(P.scene.state, kSteps, P.loss_ptrs()) == loss);
  check_same_state(tape.final_state(), before);
  // and the initial state it was given is untouched
  const GradientProblem<2> fresh = make_problem();
  CHECK(P.scene.state.x == fresh.scene.state.x);
  CHECK(P.scene.state.F == fresh.scene.state.F);
}

TEST_CASE("checkpoint: the tape's final state agrees with the Simulator's") {
  GradientProblem<2> P = make_problem();
  Tape<double, 2> tape(P.scene.model, Device::kCpu);
  tape.forward(P.scene.state, kSteps, {});
  const State<double, 2>& a = tape.final_state();
  Simulator<double, 2> sim(P.scene.model, Device::kCpu);
  sim.set_state(P.scene.state);
  for (int64_t t = 0; t < kSteps; ++t) sim.step();
  State<double, 2> b;
  sim.get_state(b);
  REQUIRE(a.n == b.n);
  CHECK(a.step == b.step);
  CHECK(a.time == doctest::Approx(b.time).epsilon(1e-14));
  CHECK(a.mass == b.mass);
  CHECK(a.material == b.material);
  // the Simulator sums particles in cell order, the tape in slabs of the State's order: same values up to
  // round-off (about 1e-16 per sum, grown by the 50 steps) relative to each field's scale
  auto check_field = [&](const std::vector<double>& fa, const std::vector<double>& fb,
                         const std::string& what) {
    REQUIRE(fa.size() == fb.size());
    double scale = 0, diff = 0;
    for (size_t i = 0; i < fa.size(); ++i) {
      scale = std::max(scale, std::fabs(fb[i]));
      diff = std::max(diff, std::fabs(fa[i] - fb[i]));
    }
    INFO(what << ": largest difference " << diff << " for values up to " << scale);
    CHECK(diff <= 1e-12 * std::max(scale, 1.0));
  };
  check_field(a.x, b.x, "x");
  check_field(a.v, b.v, "v");
  check_field(a.C, b.C, "C");
  check_field(a.F, b.F, "F");
  check_field(a.plastic, b.plastic, "plastic");
}

TEST_CASE("checkpoint: a user-defined C++ loss through the tape matches finite differences") {
  GradientProblem<2> P(kScene, 30);
  auto& s = P.scene.state;
  for (int p = 0; p < s.n; ++p)
    if (s.object[p] == 1) s.F[p] = s.F[size_t(3) * s.n + p] = 0.985;
  P.losses.push_back(std::make_unique<KineticEnergyLoss>(20));
  P.losses.push_back(std::make_unique<KineticEnergyLoss>(30));
  P.policy = CheckpointPolicy::parse("every:4", "test");
  const Gradients<double, 2> g = P.gradient();
  CHECK(g.loss > 0);
  // the initial velocities and positions along random directions, the jelly's stiffness, gravity
  auto along = [&](std::vector<double>& field, const std::vector<double>& grad, unsigned seed,
                   const char* what, double h) { P.check_along(field, grad, seed, what, h, 1e-6); };
  along(s.v, g.v, 11, "initial v", 1e-4);
  along(s.x, g.x, 12, "initial x", 1e-6);
  double& E = P.scene.model.materials[0]->values()[1];
  REQUIRE(std::string(P.scene.model.materials[0]->specs()[1].name) == "E");
  check_close(g.material[0][1], P.derivative([&](double h) { E += h; }, 1e-4 * E), 1e-6, "jelly.E");
  check_close(g.gravity[1], P.derivative([&](double h) { P.scene.model.gravity[1] += h; }, 1e-3), 1e-6,
              "gravity.y");
}
