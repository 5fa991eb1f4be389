// G2P's streamed outputs (kernels/cpu_rows.h, DUCTILE_CPU_STREAM): whole batches written with non-temporal
// stores give the same bits as plain stores, for 1 and 2 threads, one and two materials (consecutive and
// gathered batches), float and double, 2D and 3D. The particle count is not a multiple of the 16-lane batch,
// so the component arrays start at different offsets within a cache line and some batches stream while others
// do not.
#include <doctest/doctest.h>
#include <omp.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/simulator.h"
#include "materials/registry.h"
#include "random_block.h"

using namespace ductile;

namespace {

// A block of fluid particles (a stiffer second material for half of them when `two`) thrown at the floor.
template <class T, int D>
void make_scene(bool two, Model<T, D>& model, State<T, D>& state) {
  const T dx = T(1) / 32;
  model.set_grid(Vec<T, D>::zero(), Vec<T, D>::constant(1), dx);
  model.walls.surface = Surface::kSlip;
  model.dt = T(1e-4);
  model.gravity = Vec<T, D>::zero();
  model.gravity[1] = T(-9.8);
  for (int m = 0; m < (two ? 2 : 1); ++m) {
    auto mat = MaterialRegistry::instance().make<T, D>("fluid");
    mat->values()[0] = T(1000);           // density
    mat->values()[1] = T(m ? 4e4 : 2e4);  // bulk modulus
    model.material_names.push_back(m ? "stiff" : "soft");
    model.materials.push_back(std::move(mat));
  }
  test::RandomBlock<T> block;
  block.n = D == 3 ? 3001 : 2003, block.seed = 777, block.vmax = T(1.5);
  block.mass_period = 5, block.mass_jitter = T(1e-3);
  test::fill_random_block(state, dx, block);
  for (int p = 0; p < block.n; ++p) state.material[p] = two && state.x[p] > T(0.35) ? 1 : 0;
}

template <class T, int D>
State<T, D> run(bool two, const char* stream, int threads) {
  const char* old = std::getenv("DUCTILE_CPU_STREAM");
  const std::string saved = old ? old : "";
  setenv("DUCTILE_CPU_STREAM", stream, 1);
  const int old_threads = omp_get_max_threads();
  omp_set_num_threads(threads);
  Model<T, D> model;
  State<T, D> state;
  make_scene<T, D>(two, model, state);
  Simulator<T, D> sim(model, Device::kCpu);
  sim.set_state(state);
  for (int s = 0; s < 25; ++s) sim.step();
  State<T, D> out;
  sim.get_state(out);
  omp_set_num_threads(old_threads);
  if (old)
    setenv("DUCTILE_CPU_STREAM", saved.c_str(), 1);
  else
    unsetenv("DUCTILE_CPU_STREAM");
  return out;
}

template <class V>
bool same_bits(const V& a, const V& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0;
}

template <class T, int D>
void check_streamed() {
  for (bool two : {false, true}) {
    CAPTURE(two);
    const State<T, D> plain = run<T, D>(two, "0", 1);
    for (int threads : {1, 2}) {
      CAPTURE(threads);
      const State<T, D> streamed = run<T, D>(two, "1", threads);
      CHECK(same_bits(plain.x, streamed.x));
      CHECK(same_bits(plain.v, streamed.v));
      CHECK(same_bits(plain.C, streamed.C));
      CHECK(same_bits(plain.F, streamed.F));
      CHECK(same_bits(plain.plastic, streamed.plastic));
      CHECK(same_bits(plain.mass, streamed.mass));
      CHECK(same_bits(plain.material, streamed.material));
    }
    // not vacuous: the particles moved
    Model<T, D> model;
    State<T, D> init;
    make_scene<T, D>(two, model, init);
    CHECK(!same_bits(plain.x, init.x));
  }
}

}  // namespace

TEST_CASE("cpu stream: streamed G2P outputs are bit-identical to plain stores, 1 and 2 threads") {
  check_streamed<float, 3>();
  check_streamed<float, 2>();
  check_streamed<double, 3>();
}
