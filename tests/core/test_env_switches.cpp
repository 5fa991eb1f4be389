// The environment switches (core/env.h, docs/ARCHITECTURE.md): an unknown value is an error naming the
// variable and the values it takes, not a silent default.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "core/env.h"
#include "core/error.h"
#include "core/scene.h"
#include "core/simulator.h"

using namespace ductile;

namespace {

const char* kScene = R"({
  "format": 1, "dimension": 2,
  "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.05},
  "time": {"dt": 1e-4, "frame_dt": 0.01, "frames": 1},
  "materials": [{"name": "water", "model": "fluid"}],
  "objects": [{"name": "a", "material": "water", "shape": {"type": "box", "center": [0.5, 0.5], "size": [0.2, 0.2]}}]
})";

// The message of the Error that making a CPU simulator of kScene and taking one step throws ("" if none).
std::string step_error() {
  SceneDocument doc = load_scene_text(kScene, ".");
  SceneData<float, 2> s = build_scene<float, 2>(doc);
  try {
    Simulator<float, 2> sim(s.model, Device::kCpu);
    sim.set_state(s.state);
    sim.step();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("env switches: unset or listed values pass, others are errors naming the variable") {
  unsetenv("DUCTILE_TEST_SWITCH");
  CHECK(env_choice("DUCTILE_TEST_SWITCH", {"", "a", "b"}).empty());
  setenv("DUCTILE_TEST_SWITCH", "b", 1);
  CHECK(env_choice("DUCTILE_TEST_SWITCH", {"", "a", "b"}) == "b");
  setenv("DUCTILE_TEST_SWITCH", "c", 1);
  try {
    env_choice("DUCTILE_TEST_SWITCH", {"", "a", "b"});
    FAIL("no error for an unknown value");
  } catch (const Error& e) {
    const std::string m = e.what();
    CHECK(m.find("DUCTILE_TEST_SWITCH") != std::string::npos);
    CHECK(m.find("unknown value 'c' (a, b)") != std::string::npos);
  }
  unsetenv("DUCTILE_TEST_SWITCH");
}

TEST_CASE("env switches: the CPU simulator refuses unknown values of its switches") {
  CHECK(step_error().empty());
  for (const char* name : {"DUCTILE_CPU_FUSE", "DUCTILE_CPU_GRID", "DUCTILE_CPU_ISA", "DUCTILE_CPU_STREAM"}) {
    INFO(name);
    setenv(name, "bogus", 1);
    const std::string m = step_error();
    CHECK(m.find(name) != std::string::npos);
    CHECK(m.find("unknown value 'bogus'") != std::string::npos);
    unsetenv(name);
  }
  CHECK(step_error().empty());
}
