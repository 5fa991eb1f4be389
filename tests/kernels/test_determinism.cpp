// Determinism of the CPU simulator: the same scene run with 1 and 2 OpenMP threads, and twice in a row, gives
// bit-identical particle state (with either set of particle loops, DUCTILE_CPU_ISA); get_state returns the
// particles in the State's order although the CPU backend stores them in cell order.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "core/simulator.h"
#include "materials/registry.h"
#include "random_block.h"

using namespace ductile;

namespace {

// A block of fixed-corotated particles (two materials when `two_materials`: a soft and a stiff half) thrown
// at the floor with random velocities, so particles cross cells and slabs every few steps.
template <int D>
void make_scene(Model<float, D>& model, State<float, D>& state, bool two_materials) {
  const float dx = 1.0f / 32;
  Vec<float, D> lo = Vec<float, D>::zero(), hi = Vec<float, D>::constant(1);
  model.set_grid(lo, hi, dx);
  model.walls.surface = Surface::kSlip;
  model.dt = 2e-4f;
  model.gravity = Vec<float, D>::zero();
  model.gravity[1] = -9.8f;
  const int nm = two_materials ? 2 : 1;
  for (int m = 0; m < nm; ++m) {
    auto mat = MaterialRegistry::instance().make<float, D>("fixed_corotated");
    mat->values()[0] = 1000;             // density
    mat->values()[1] = m ? 2e4f : 5e3f;  // E
    mat->values()[2] = 0.3f;             // nu
    model.material_names.push_back(m ? "stiff" : "soft");
    model.materials.push_back(std::move(mat));
  }
  test::RandomBlock<float> block;
  block.n = D == 3 ? 4000 : 3000, block.seed = 12345, block.lo = 0.3f, block.size = 0.4f;
  block.mass_period = 7, block.mass_jitter = 1e-3f;
  test::fill_random_block(state, dx, block);
  for (int p = 0; p < block.n; ++p) state.material[p] = two_materials && state.x[p] > 0.5f ? 1 : 0;
}

template <int D>
State<float, D> run(int threads, int steps, bool two_materials) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  Model<float, D> model;
  State<float, D> state;
  make_scene<D>(model, state, two_materials);
  Simulator<float, D> sim(model, Device::kCpu);
  sim.set_state(state);
  for (int s = 0; s < steps; ++s) sim.step();
  State<float, D> out;
  sim.get_state(out);
  omp_set_num_threads(saved);
  return out;
}

template <class V>
bool same_bits(const V& a, const V& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0;
}

template <int D>
void check_identical(const State<float, D>& a, const State<float, D>& b) {
  CHECK(a.n == b.n);
  CHECK(same_bits(a.x, b.x));
  CHECK(same_bits(a.v, b.v));
  CHECK(same_bits(a.C, b.C));
  CHECK(same_bits(a.F, b.F));
  CHECK(same_bits(a.plastic, b.plastic));
  CHECK(same_bits(a.mass, b.mass));
  CHECK(same_bits(a.material, b.material));
}

}  // namespace

TEST_CASE_TEMPLATE("determinism: 1 and 2 threads give bit-identical states, twice in a row", Dim,
                   std::integral_constant<int, 2>, std::integral_constant<int, 3>) {
  constexpr int D = Dim::value;
  // both particle loops of the CPU backend: the machine's best (AVX2 + FMA where available) and the generic
  // one
  const char* saved = std::getenv("DUCTILE_CPU_ISA");
  const std::string restore = saved ? saved : "";
  for (const char* isa : {"", "generic"}) {
    INFO("isa := " << std::string(isa));
    if (*isa)
      setenv("DUCTILE_CPU_ISA", isa, 1);
    else
      unsetenv("DUCTILE_CPU_ISA");
    for (bool two : {false, true}) {
      CAPTURE(two);
      State<float, D> one = run<D>(1, 20, two);
      State<float, D> two_threads = run<D>(2, 20, two);
      State<float, D> again = run<D>(2, 20, two);
      check_identical<D>(one, two_threads);
      check_identical<D>(two_threads, again);
      // the particles moved (the test is not vacuous)
      Model<float, D> model;
      State<float, D> init;
      make_scene<D>(model, init, two);
      CHECK(!same_bits(one.x, init.x));
    }
  }
  if (saved)
    setenv("DUCTILE_CPU_ISA", restore.c_str(), 1);
  else
    unsetenv("DUCTILE_CPU_ISA");
}

TEST_CASE_TEMPLATE("determinism: get_state keeps the State's particle order", Dim,
                   std::integral_constant<int, 2>, std::integral_constant<int, 3>) {
  constexpr int D = Dim::value;
  Model<float, D> model;
  State<float, D> init;
  make_scene<D>(model, init, true);
  State<float, D> after = run<D>(2, 5, true);
  // constants follow their particle: mass and material per index are unchanged
  CHECK(same_bits(after.mass, init.mass));
  CHECK(same_bits(after.vol0, init.vol0));
  CHECK(same_bits(after.material, init.material));
  // and every particle moved at most a few cells from where it started
  double worst = 0;
  for (int p = 0; p < init.n; ++p)
    for (int d = 0; d < D; ++d)
      worst = std::max(worst,
                       std::fabs(double(after.x[size_t(d) * init.n + p] - init.x[size_t(d) * init.n + p])));
  CHECK(worst < 0.01);  // 5 steps of dt = 2e-4 at speeds far below 10 m/s: under a third of a cell
  // zero steps: the state comes back exactly
  State<float, D> zero = run<D>(2, 0, true);
  check_identical<D>(zero, init);
  CHECK(same_bits(zero.x, init.x));
}
