// Teacher forcing: windows that restart from the observed state, their gradient against finite differences,
// a small teacher-forced fit, the state columns of PLY frames, and clear errors for unusable observations.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "core/fit.h"
#include "core/io/ply.h"
#include "core/io/point_table.h"
#include "core/observations.h"
#include "core/optimizer.h"
#include "core/scene.h"
#include "core/teacher_forcing.h"
#include "io/temp_dir.h"
#include "test_util.h"

using namespace ductile;
using ductile::test::error_of;

namespace {

// A 2D jelly block thrown onto a frictional floor: 8 frames of 5 steps.
const char* kThrow = R"json({
  "format": 1, "name": "throw", "dimension": 2,
  "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.0625, "boundary": {"surface": "slip", "friction": 0.2}},
  "time": {"dt": 2e-3, "frame_dt": 0.01, "frames": 8},
  "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 2e3, "nu": 0.3, "density": 1000}],
  "objects": [{"name": "block", "material": "jelly", "velocity": [1, -2.5], "angular_velocity": 3,
               "shape": {"type": "box", "center": [0.4, 0.32], "size": [0.2, 0.15]}}],
  "colliders": [{"name": "floor", "type": "plane", "point": [0, 0.21], "normal": [0, 1], "surface": "slip",
                 "friction": 0.3}]
})json";

SceneData<double, 2> scene(double E, double nu) {
  SceneDocument doc = load_scene_text(
      kThrow, ".", {"materials.jelly.E=" + std::to_string(E), "materials.jelly.nu=" + std::to_string(nu)});
  return build_scene<double, 2>(doc);
}

// Every frame 0..frames of the scene's own run, with the whole state (as `outputs.state` writes it).
Observations observe(SceneData<double, 2>& s, bool with_F = true) {
  Observations obs;
  obs.source = "memory";
  obs.dim = 2;
  State<double, 2> st = s.state;
  for (int f = 0; f <= s.model.frames; ++f) {
    if (f > 0) {
      Tape<double, 2> run(s.model, Device::kCpu);
      run.forward(st, s.model.steps_per_frame, {});
      st = run.final_state();
    }
    ObservedFrame o;
    o.frame = f;
    for (int p = 0; p < st.n; ++p)
      for (int d = 0; d < 2; ++d) o.points.push_back(st.x[size_t(d) * st.n + p]);
    o.v.assign(st.v.begin(), st.v.end());
    if (with_F) {
      o.F.assign(st.F.begin(), st.F.end());
      o.C.assign(st.C.begin(), st.C.end());
      o.plastic.assign(st.plastic.begin(), st.plastic.end());
    }
    obs.frames.push_back(o);
  }
  return obs;
}

}  // namespace

TEST_CASE("teacher forcing: windows restart from the observed state, their gradient matches differences") {
  SceneData<double, 2> truth = scene(8e3, 0.25);
  const Observations obs = observe(truth);
  SceneData<double, 2> s = scene(5e3, 0.35);
  const double frame_dt = s.model.dt * s.model.steps_per_frame;
  auto windows = teacher_windows<double, 2>(obs, s.state, s.model.steps_per_frame, frame_dt, 8, 3);
  // frames 1-3 from the scene's state, 4-6 from observed frame 3, 7-8 from observed frame 6
  REQUIRE(windows.size() == 3);
  CHECK(windows[1].first == 3);
  CHECK(windows[2].last == 8);
  CHECK(windows[2].steps == 2 * s.model.steps_per_frame);
  CHECK(windows[1].observed_state);
  CHECK(windows[1].start.F == obs.frames[3].F);
  CHECK(windows[1].start.time == doctest::Approx(3 * frame_dt));
  Fit<double, 2> fit(s,
                     {FitParameterSpec::parse("materials/jelly/E", "t"),
                      FitParameterSpec::parse("materials/jelly/nu:linear", "t")},
                     {}, 0, Device::kCpu, CheckpointPolicy::parse("sqrt", "t"));
  fit.set_windows(&windows);
  // at the truth every window reproduces its frames
  std::vector<double> g;
  const std::vector<double> u_true = {std::log(8e3), 0.25 / 0.35};
  CHECK(fit.objective(u_true, g) < 1e-24);
  // away from it: central differences of the summed windows' loss in both unknowns
  const std::vector<double> u = {std::log(6e3), 0.3 / 0.35};
  const double loss = fit.objective(u, g);
  CHECK(loss > 1e-8);
  for (size_t k = 0; k < u.size(); ++k) {
    const double h = 1e-5;
    std::vector<double> up = u, um = u, scratch;
    up[k] += h, um[k] -= h;
    const double fd = (fit.objective(up, scratch) - fit.objective(um, scratch)) / (2 * h);
    INFO("unknown " << fit.names()[k] << ": adjoint " << g[k] << ", differences " << fd);
    CHECK(g[k] == doctest::Approx(fd).epsilon(1e-5));
  }
}

TEST_CASE("teacher forcing: a small teacher-forced fit lowers its loss to the truth") {
  SceneData<double, 2> truth = scene(8e3, 0.25);
  const Observations obs = observe(truth);
  SceneData<double, 2> s = scene(2e3, 0.25);
  auto windows = teacher_windows<double, 2>(obs, s.state, s.model.steps_per_frame,
                                            s.model.dt * s.model.steps_per_frame, 8, 2);
  Fit<double, 2> fit(s, {FitParameterSpec::parse("materials/jelly/E", "t")}, {}, 0, Device::kCpu,
                     CheckpointPolicy::parse("sqrt", "t"));
  fit.set_windows(&windows);
  OptimizerOptions oo;
  oo.lo = fit.lo(), oo.hi = fit.hi();
  Optimizer opt(oo);
  const Objective f = [&](const std::vector<double>& u, std::vector<double>& g) {
    return fit.objective(u, g);
  };
  opt.start(fit.u_now(), f);
  const double first = opt.value();
  for (int i = 0; i < 20 && opt.iterate(f);) ++i;
  CHECK(opt.value() < 1e-6 * first);
  CHECK(fit.values(opt.u())[0] == doctest::Approx(8e3).epsilon(1e-3));
}

TEST_CASE("teacher forcing: without observed F the windows start from the model's own F") {
  SceneData<double, 2> truth = scene(8e3, 0.25);
  const Observations obs = observe(truth, false);
  SceneData<double, 2> s = scene(8e3, 0.25);
  auto windows = teacher_windows<double, 2>(obs, s.state, s.model.steps_per_frame,
                                            s.model.dt * s.model.steps_per_frame, 8, 4);
  REQUIRE(windows.size() == 2);
  CHECK(windows[0].observed_state);  // frame 0: the scene's own state
  CHECK(!windows[1].observed_state);
  Fit<double, 2> fit(s, {FitParameterSpec::parse("materials/jelly/E", "t")}, {}, 0, Device::kCpu,
                     CheckpointPolicy::parse("sqrt", "t"));
  fit.set_windows(&windows);
  std::vector<double> g;
  // at the truth the model's own F at frame 4 is the observed one, so the loss vanishes
  CHECK(fit.objective({std::log(8e3)}, g) < 1e-24);
  CHECK(fit.objective({std::log(4e3)}, g) > 1e-8);
}

TEST_CASE("teacher forcing: observations that cannot start a window are refused, naming the frame") {
  SceneData<double, 2> truth = scene(8e3, 0.25);
  const Observations full = observe(truth);
  const int spf = truth.model.steps_per_frame;
  const double fdt = truth.model.dt * spf;
  const auto windows = [&](const Observations& o, int length) {
    return [&, o, length] { teacher_windows<double, 2>(o, truth.state, spf, fdt, 8, length); };
  };
  Observations missing = full;
  missing.frames.erase(missing.frames.begin() + 4);
  CHECK(error_of(windows(missing, 4)) ==
        "memory, frame 4: teacher forcing starts a window here, but there is no such observed frame");
  CHECK(error_of(windows(missing, 3)) == "");  // windows at frames 0, 3, 6
  Observations partial = full;
  partial.frames[2].particles = {0, 1};
  partial.frames[2].points.resize(4);
  CHECK(
      error_of(windows(partial, 2)).find("memory, frame 2: teacher forcing needs every particle in order") ==
      0);
  Observations cloud = full;
  cloud.frames[2].ordered = false;
  CHECK(error_of(windows(cloud, 2)).find("unordered points") != std::string::npos);
  Observations still = full;
  still.frames[6].v.clear();
  CHECK(error_of(windows(still, 3)) ==
        "memory, frame 6: teacher forcing needs velocities (properties vx, vy) to start a window");
  CHECK(error_of(windows(full, 0)).find("at least 1 frame") != std::string::npos);
}

TEST_CASE("teacher forcing: PLY frames carry the particle state (outputs.state) and read back") {
  test::TempDir dir;
  SceneData<double, 2> s = scene(8e3, 0.25);
  State<double, 2> st = s.state;
  for (size_t i = 0; i < st.F.size(); ++i) st.F[i] += 0.001 * double(i % 7), st.C[i] = 0.01 * double(i % 5);
  std::filesystem::create_directories(dir.path() / "run");
  io::write_ply(dir.file("run/frame_00000.ply"), io::particle_table(st, true));
  const Observations o = load_observations(dir.file("run"), 2, st.n);
  REQUIRE(o.frames.size() == 1);
  REQUIRE(o.frames[0].F.size() == st.F.size());
  for (size_t i = 0; i < st.F.size(); ++i) {
    CHECK(o.frames[0].F[i] == doctest::Approx(st.F[i]).epsilon(1e-7));
    CHECK(o.frames[0].C[i] == doctest::Approx(st.C[i]).epsilon(1e-7));
  }
  CHECK(o.frames[0].v.size() == st.v.size());
  CHECK(o.frames[0].plastic.size() == size_t(st.n));
  // without `state` only velocities; a partial set of F columns is an error naming the file
  io::write_ply(dir.file("run/frame_00000.ply"), io::particle_table(st));
  CHECK(load_observations(dir.file("run"), 2, st.n).frames[0].F.empty());
  io::PointTable t = io::particle_table(st, true);
  t.names[t.column("F11")] = "G11";
  io::write_ply(dir.file("run/frame_00000.ply"), t);
  const std::string msg = error_of([&] { load_observations(dir.file("run"), 2, st.n); });
  CHECK(msg.find("frame_00000.ply") != std::string::npos);
  CHECK(msg.find("has 'F00' but no 'F11'") != std::string::npos);
}
