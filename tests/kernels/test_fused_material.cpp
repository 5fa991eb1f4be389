// The material stages inside the CPU transfers (materials/material_lanes.h): with one analytic material the
// simulator evaluates the stress in the P2G batches and the plastic projection in the G2P batches. The result
// is bit-identical to the separate stages (DUCTILE_CPU_FUSE=1 against =0) for elastic, fluid and plastic
// models in 2D and 3D, with either set of particle loops; two materials keep the separate stages; by default
// the fluid and fixed-corotated are fused; a NaN is still named by the stage and particle where it appeared.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/simulator.h"
#include "materials/registry.h"
#include "random_block.h"

using namespace ductile;

namespace {

// Sets the parameter `name` of material m.
template <class T, int D>
void set(Material<T, D>& m, const std::string& name, T value) {
  const auto& s = m.specs();
  for (size_t i = 0; i < s.size(); ++i)
    if (name == s[i].name) {
      m.values()[i] = value;
      return;
    }
  FAIL("no parameter " << name << " in " << m.model());
}

// A block of `model_name` particles (a second, stiffer material for half of them when `two`) thrown at the
// floor with random velocities: particles cross cells, plastic models yield.
template <class T, int D>
void make_scene(const std::string& model_name, bool two, Model<T, D>& model, State<T, D>& state) {
  const T dx = T(1) / 32;
  model.set_grid(Vec<T, D>::zero(), Vec<T, D>::constant(1), dx);
  model.walls.surface = Surface::kSlip;
  model.dt = T(1e-4);
  model.gravity = Vec<T, D>::zero();
  model.gravity[1] = T(-9.8);
  for (int m = 0; m < (two ? 2 : 1); ++m) {
    auto mat = MaterialRegistry::instance().make<T, D>(model_name);
    set<T, D>(*mat, "density", T(1000));
    if (model_name == "fluid") {
      set<T, D>(*mat, "bulk_modulus", T(m ? 4e4 : 2e4));
      set<T, D>(*mat, "viscosity", T(0.5));  // the stress reads C too
    } else {
      set<T, D>(*mat, "E", T(m ? 4e4 : 2e4));
    }
    model.material_names.push_back(m ? "stiff" : "soft");
    model.materials.push_back(std::move(mat));
  }
  test::RandomBlock<T> block;
  block.n = D == 3 ? 3000 : 2000, block.seed = 4242, block.vmax = T(1.5);
  test::fill_random_block(state, dx, block);
  for (int p = 0; p < block.n; ++p) state.material[p] = two && state.x[p] > T(0.35) ? 1 : 0;
}

// Sets an environment variable for the lifetime of the object ("" unsets it).
struct Env {
  std::string name, saved;
  bool had;
  Env(const char* n, const char* value) : name(n) {
    const char* s = std::getenv(n);
    had = s != nullptr;
    if (had) saved = s;
    if (*value)
      setenv(n, value, 1);
    else
      unsetenv(n);
  }
  ~Env() {
    if (had)
      setenv(name.c_str(), saved.c_str(), 1);
    else
      unsetenv(name.c_str());
  }
};

// `steps` steps with DUCTILE_CPU_FUSE = fuse ("1" fused, "0" separate, "" the default); `times` gets the
// stage times.
template <class T, int D>
State<T, D> run(const std::string& model_name, bool two, const char* fuse, int steps, StageTimes& times) {
  Env env("DUCTILE_CPU_FUSE", fuse);
  Model<T, D> model;
  State<T, D> state;
  make_scene<T, D>(model_name, two, model, state);
  Simulator<T, D> sim(model, Device::kCpu);
  sim.set_state(state);
  sim.set_timing(true);
  for (int s = 0; s < steps; ++s) sim.step();
  times = sim.stage_times();
  State<T, D> out;
  sim.get_state(out);
  return out;
}

template <class V>
bool same_bits(const V& a, const V& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0;
}

template <class T, int D>
void check_fused_matches(const std::string& model_name) {
  CAPTURE(model_name);
  StageTimes fused_t, separate_t;
  const State<T, D> fused = run<T, D>(model_name, false, "1", 30, fused_t);
  const State<T, D> separate = run<T, D>(model_name, false, "0", 30, separate_t);
  CHECK(same_bits(fused.x, separate.x));
  CHECK(same_bits(fused.v, separate.v));
  CHECK(same_bits(fused.C, separate.C));
  CHECK(same_bits(fused.F, separate.F));
  CHECK(same_bits(fused.plastic, separate.plastic));
  // the fused run had no separate material stages, the other had both
  CHECK(fused_t.stress == 0);
  CHECK(fused_t.project == 0);
  CHECK(separate_t.stress > 0);
  CHECK(separate_t.project > 0);
  // the particles moved and deformed (the comparison is not vacuous)
  State<T, D> init;
  Model<T, D> model;
  make_scene<T, D>(model_name, false, model, init);
  CHECK(!same_bits(fused.x, init.x));
  CHECK(!same_bits(fused.F, init.F));
}

}  // namespace

TEST_CASE("fused material stages: bit-identical to the separate stages, both particle loops") {
  for (const char* isa : {"", "generic"}) {
    INFO("isa := " << std::string(isa));
    Env env("DUCTILE_CPU_ISA", isa);
    for (const char* m : {"fluid", "fixed_corotated", "drucker_prager", "snow", "von_mises"}) {
      check_fused_matches<float, 3>(m);
      check_fused_matches<double, 2>(m);
    }
  }
}

TEST_CASE("fused material stages: a plastic model yields in the fused run") {
  // snow keeps J_P in `plastic`: it changed, so the projection ran inside G2P
  StageTimes t;
  const State<float, 3> s = run<float, 3>("snow", false, "1", 30, t);
  Model<float, 3> model;
  State<float, 3> init;
  make_scene<float, 3>("snow", false, model, init);
  CHECK(!same_bits(s.plastic, init.plastic));
}

TEST_CASE("fused material stages: two materials run the separate stages") {
  StageTimes t;
  run<float, 3>("fixed_corotated", true, "1", 3, t);
  CHECK(t.stress > 0);
  CHECK(t.project > 0);
}

TEST_CASE(
    "fused material stages: by default the fluid and fixed-corotated are fused, the SVD-based models not") {
  StageTimes t;
  for (const char* m : {"fluid", "fixed_corotated"}) {
    INFO("m := " << std::string(m));
    run<float, 3>(m, false, "", 3, t);
    CHECK(t.stress == 0);
    CHECK(t.project == 0);
  }
  for (const char* m : {"snow", "von_mises", "drucker_prager"}) {
    INFO("m := " << std::string(m));
    run<float, 3>(m, false, "", 3, t);
    CHECK(t.stress > 0);
    CHECK(t.project > 0);
  }
}

TEST_CASE("fused material stages: a NaN is named by the same stage and particle as without fusion") {
  auto message = [](const char* fuse, int component) {
    Env env("DUCTILE_CPU_FUSE", fuse);
    Model<double, 3> model;
    State<double, 3> state;
    make_scene<double, 3>("fixed_corotated", false, model, state);
    state.F[size_t(component) * state.n + 123] = std::nan("");
    Simulator<double, 3> sim(model, Device::kCpu);
    sim.set_state(state);
    try {
      sim.step();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  for (int component : {0, 4}) {
    const std::string fused = message("1", component), separate = message("0", component);
    INFO(fused);
    CHECK(fused.find("stage stress") != std::string::npos);
    CHECK(fused.find("particle 123") != std::string::npos);
    CHECK(fused == separate);
  }
}
