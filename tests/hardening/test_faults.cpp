// Numerical faults and resource guards: time steps beyond the CFL condition, the domain-boundary policies
// (error, clamp, delete; refused by gradient runs), non-finite states named by stage and particle, the
// memory limit, and checkpoints that restore the simulator bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "core/io/checkpoint_file.h"
#include "core/resources.h"
#include "core/scene.h"
#include "core/simulator.h"
#include "core/tape.h"

using namespace ductile;
using json = nlohmann::json;

namespace {

// A 2D jelly disk touching the right wall; misplace() injects the fault.
json thrown(const std::string& policy) {
  json j = json::parse(R"({
    "format": 1, "dimension": 2,
    "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.05, "boundary": {"surface": "separate", "cells": 1}},
    "time": {"dt": 2e-4, "frame_dt": 0.01, "frames": 4}, "gravity": [0, -9.81],
    "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 1e4, "nu": 0.2, "density": 1000}],
    "objects": [{"name": "disk", "material": "jelly",
                 "shape": {"type": "sphere", "center": [0.85, 0.5], "radius": 0.12}}]})");
  j["domain"]["boundary"]["policy"] = policy;
  return j;
}

// Every fifth particle with x > 0.9 moved just past the right face (x = 1.01, inside the grid's padding): it
// is outside the domain after the first step.
template <class T, int D>
int misplace(State<T, D>& s) {
  int moved = 0;
  for (int p = 0; p < s.n; p += 5)
    if (s.x[p] > T(0.9)) s.x[p] = T(1.01), ++moved;
  return moved;
}

SceneDocument load(const json& j) {
  return load_scene_text(j.dump(), ".");
}

// Steps until `steps` are done or the simulator throws; returns the message (empty when none).
template <class T, int D>
std::string run(Simulator<T, D>& sim, int steps) {
  try {
    for (int k = 0; k < steps; ++k) sim.step();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("hardening: a fixed time step beyond the CFL condition is refused, unless explicitly allowed") {
  json j = thrown("error");
  // wave speed of E = 1e4, density 1000: about 3.4 m/s; dx / c ~ 0.015 s
  j["time"]["dt"] = 0.05;
  j["time"]["frame_dt"] = 0.1;
  try {
    load(j);
    FAIL("a dt beyond the CFL condition was accepted");
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK(m.rfind("/time/dt: ", 0) == 0);
    CHECK(m.find("CFL condition") != std::string::npos);
    CHECK(m.find("auto") != std::string::npos);
  }
  j["time"]["allow_cfl_violation"] = true;
  const SceneDocument doc = load(j);
  REQUIRE(doc.warnings.size() == 1);
  CHECK(doc.warnings[0].find("CFL") != std::string::npos);
  // between cfl * bound and the bound: a warning only
  j["time"].erase("allow_cfl_violation");
  j["time"]["dt"] = 0.01;
  CHECK(load(j).warnings.size() == 1);
}

TEST_CASE("hardening: boundary policy 'error' names the step, stage, particle and material") {
  const SceneDocument doc = load(thrown("error"));
  SceneData<double, 2> sc = build_scene<double, 2>(doc);
  REQUIRE(misplace(sc.state) > 0);
  Simulator<double, 2> sim(sc.model, Device::kCpu);
  sim.set_state(sc.state);
  const std::string m = run(sim, 200);
  INFO(m);
  CHECK(m.find("particle left the domain") != std::string::npos);
  CHECK(m.find("stage g2p") != std::string::npos);
  CHECK(m.find("particle ") != std::string::npos);
  CHECK(m.find("'jelly'") != std::string::npos);
}

TEST_CASE("hardening: boundary policy 'clamp' keeps every particle on the domain, 'delete' removes them") {
  for (const char* policy : {"clamp", "delete"}) {
    INFO(policy);
    const SceneDocument doc = load(thrown(policy));
    SceneData<double, 2> sc = build_scene<double, 2>(doc);
    const int n0 = sc.state.n;
    REQUIRE(misplace(sc.state) > 0);
    Simulator<double, 2> sim(sc.model, Device::kCpu);
    sim.set_state(sc.state);
    REQUIRE(run(sim, 200) == "");
    CHECK(sim.boundary_events() > 0);
    State<double, 2> s;
    sim.get_state(s);
    for (int p = 0; p < s.n; ++p)
      for (int d = 0; d < 2; ++d) {
        CHECK(s.x[size_t(d) * s.n + p] >= 0.0);
        CHECK(s.x[size_t(d) * s.n + p] <= 1.0);
      }
    if (std::string(policy) == "clamp") {
      CHECK(s.n == n0);
      CHECK(sim.original_index().empty());
    } else {
      CHECK(s.n < n0);
      CHECK(sim.boundary_events() == n0 - s.n);
      // the survivors keep their initial order and masses
      REQUIRE(sim.original_index().size() == size_t(s.n));
      for (int p = 0; p < s.n; ++p) {
        CHECK(s.mass[p] == sc.state.mass[sim.original_index()[p]]);
        if (p > 0) CHECK(sim.original_index()[p] > sim.original_index()[p - 1]);
      }
    }
  }
}

TEST_CASE("hardening: gradient runs refuse boundary policies without an adjoint") {
  for (const char* policy : {"clamp", "delete"}) {
    const SceneDocument doc = load(thrown(policy));
    SceneData<double, 2> sc = build_scene<double, 2>(doc);
    try {
      Tape<double, 2> tape(sc.model, Device::kCpu);
      FAIL("the tape accepted policy " << std::string(policy));
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("not differentiable") != std::string::npos);
    }
  }
}

TEST_CASE("hardening: a NaN in the state is named by stage, particle and material") {
  const SceneDocument doc = load(thrown("clamp"));
  SceneData<double, 2> sc = build_scene<double, 2>(doc);
  sc.state.F[7] = std::nan("");  // F_00 of particle 7
  Simulator<double, 2> sim(sc.model, Device::kCpu);
  sim.set_state(sc.state);
  const std::string m = run(sim, 1);
  INFO(m);
  CHECK(m.find("NaN or infinity") != std::string::npos);
  CHECK(m.find("step 1") != std::string::npos);
  CHECK(m.find("stage stress") != std::string::npos);
  CHECK(m.find("particle 7") != std::string::npos);
  CHECK(m.find("'jelly'") != std::string::npos);
}

TEST_CASE("hardening: the memory limit refuses a scene before sampling or allocating it") {
  json j = thrown("error");
  j["domain"]["dx"] = 0.002;  // 250,000 cells; ~4 particles each in the disk
  const SceneDocument doc = load(j);
  set_memory_limit(10e6);
  try {
    build_scene<float, 2>(doc);
    set_memory_limit(0);
    FAIL("a scene beyond the memory limit was built");
  } catch (const Error& e) {
    set_memory_limit(0);
    const std::string m = e.what();
    INFO(m);
    CHECK(m.find("--max-memory") != std::string::npos);
    CHECK(m.find("coarser grid") != std::string::npos);
  }
  CHECK_NOTHROW(build_scene<float, 2>(doc));
  // sizes
  CHECK(parse_memory_size("4GB", "t") == 4e9);
  CHECK(parse_memory_size("512M", "t") == 512e6);
  CHECK(parse_memory_size("2GiB", "t") == 2.0 * 1024 * 1024 * 1024);
  CHECK_THROWS_AS(parse_memory_size("lots", "t"), Error);
  CHECK_THROWS_AS(parse_memory_size("-1GB", "t"), Error);
  CHECK(available_memory_bytes() > 0);
}

TEST_CASE("hardening: a restored simulator continues bit for bit, checkpoints reject damage") {
  for (const char* policy : {"clamp", "delete"}) {
    INFO(policy);
    const SceneDocument doc = load(thrown(policy));
    SceneData<float, 2> sc = build_scene<float, 2>(doc);
    REQUIRE(misplace(sc.state) > 0);
    Simulator<float, 2> a(sc.model, Device::kCpu), b(sc.model, Device::kCpu);
    a.set_state(sc.state);
    REQUIRE(run(a, 60) == "");
    io::CheckpointFile c;
    c.kind = "test";
    a.save(c);
    const auto bytes = io::checkpoint_bytes(c);
    b.set_state(sc.state);
    b.restore(io::parse_checkpoint(bytes, "mem"), "mem");
    REQUIRE(run(a, 60) == "");
    REQUIRE(run(b, 60) == "");
    State<float, 2> sa, sb;
    a.get_state(sa);
    b.get_state(sb);
    CHECK(sa.n == sb.n);
    CHECK(sa.x == sb.x);
    CHECK(sa.v == sb.v);
    CHECK(sa.F == sb.F);
    CHECK(sa.C == sb.C);
    CHECK(a.time() == b.time());
    CHECK(a.steps() == b.steps());
    CHECK(a.original_index() == b.original_index());
    // every single flipped byte and every truncation is refused with an Error
    for (size_t k = 0; k < bytes.size(); k += 97) {
      std::string bad = bytes;
      bad[k] ^= 0x20;
      CHECK_THROWS_AS(io::parse_checkpoint(bad, "mem"), Error);
      CHECK_THROWS_AS(io::parse_checkpoint(bytes.substr(0, k), "mem"), Error);
    }
  }
}
