// `ductile bench`: throughput of the standard scenes (the Taichi mpm3d benchmark box), built in code.
//
// Scene (taichi python/taichi/examples/simulation/mpm3d.py and taichi_benchmark suites/mpm): unit cube, grid
// dx = 1/G, N = G^3/4 particles uniformly random in [0.15, 0.55]^3 (fixed seed), dt = 8e-5, gravity 9.8 m/s^2
// along -y, walls 3 cells thick that remove the outward velocity component (Taichi's `bound = 3`). Taichi
// sets p_vol = (dx/2)^2 (sic, also in 3D) and p_rho = 1; we copy both, so mass = vol0 = (dx/2)^2. Scenes:
//   fluid            weakly compressible J-fluid of mpm3d: tau = K (J - 1) I with K = E = 400 Pa (model
//   "fluid",
//                    gamma = 1, no viscosity; mpm3d's P2G term -dt 4 E p_vol (J - 1) / dx^2 is exactly this),
//                    density 1; the fluid model's projection keeps F = J^(1/3) I
//   fixed_corotated  E = 400 Pa, nu = 0.2, density 1
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "apps/bench_scene.h"
#include "apps/commands.h"
#include "core/checkpoint.h"
#include "core/env.h"
#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/memory.h"
#include "core/simulator.h"
#include "materials/registry.h"

namespace ductile::app {

namespace {

struct BenchOptions {
  std::string scenes;  // comma-separated; empty: every available standard scene
  std::string grids = "64,128";
  int steps = 50;
  int warmup = 5;
  std::string threads;  // comma-separated thread counts; empty: OpenMP's default
  std::string backend = "cpu";
  int repeat = 1;
  bool scaling = false;
  std::string json;
  bool gradient = false;
  std::string checkpoints = "all,sqrt";
  std::string domain_scales = "1";  // comma-separated S: domain [0, S]^3 around the same particles
  bool compare_cpu = false;         // CUDA runs: run the same steps on the CPU and compare the particles
};

struct BenchResult {
  std::string scene;
  int n = 0, grid = 0, steps = 0, threads = 0, domain_scale = 1;
  int64_t grid_bytes = 0, grid_blocks = 0,
          nodes = 0;                   // grid storage after the run; nodes of the domain's box
  double rss_mb = 0, peak_rss_mb = 0;  // VmRSS after the run, VmHWM of the process so far
  double buffers_peak_mb = 0;          // the most the run's buffers held on its device (GPU memory with CUDA)
  double seconds = 0;
  double cpu_seconds = 0;  // user + system time of all threads (meaningful when other jobs share the CPU)
  StageTimes stages;
  double max_dx_cpu = -1, mean_dx_cpu = -1;  // --compare-cpu: |x - x_cpu| over particles, in cells
  double max_dv_cpu = -1;                    // and max |v - v_cpu| over max |v_cpu|
  double rate() const { return double(n) * steps / seconds; }
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> r;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) r.push_back(item);
  return r;
}

std::vector<int> split_ints(const std::string& s, const char* what) {
  std::vector<int> r;
  for (const auto& t : split(s)) {
    try {
      r.push_back(std::stoi(t));
    } catch (const std::exception&) {
      fail(std::string("--") + what, "expected comma-separated integers, got '" + s + "'");
    }
    if (r.back() <= 0) fail(std::string("--") + what, "expected positive integers, got '" + s + "'");
  }
  return r;
}

// Sets a parameter by name.
void set_param(Material<float, 3>& m, const std::string& name, float value) {
  const auto& specs = m.specs();
  for (size_t i = 0; i < specs.size(); ++i)
    if (name == specs[i].name) {
      m.values()[i] = value;
      return;
    }
  fail("bench", std::string("model '") + m.model() + "' has no parameter '" + name + "'");
}

// The CPU's model name (Linux), the 1-minute load average, and which particle loops the CPU backend runs.
std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}
double load_average() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  f >> l;
  return l;
}
std::string cpu_loops() {
  const bool generic = env_choice("DUCTILE_CPU_ISA", {"", "generic"}) == "generic";
  (void)generic;
#if defined(__x86_64__) && defined(__GNUC__)
  if (!generic && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2+fma";
#endif
  return "generic";
}

// A "VmRSS:" or "VmHWM:" line of /proc/self/status in MB (0 where unavailable).
double proc_status_mb(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::atof(line.c_str() + std::strlen(key)) / 1024.0;
  return 0;
}

// User plus system CPU time of this process [s].
double cpu_time() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

BenchResult run_one(const std::string& scene, int G, int steps, int warmup, int threads, Device dev,
                    int domain_scale, State<float, 3>* end = nullptr) {
  omp_set_num_threads(threads);
  reset_peak_bytes(dev);
  Model<float, 3> model;
  State<float, 3> state;
  build_bench_scene(scene, G, model, state, domain_scale);
  Simulator<float, 3> sim(model, dev);
  sim.set_state(state);
  for (int s = 0; s < warmup; ++s) sim.step();
  // on a GPU the stage times wait for the device after every stage: there the rate is timed without them,
  // and the stages over as many steps after
  const bool gpu = dev != Device::kCpu;
  sim.set_timing(!gpu);
  const double c0 = cpu_time();
  auto t0 = std::chrono::steady_clock::now();
  for (int s = 0; s < steps; ++s) sim.step();
  BenchResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.cpu_seconds = cpu_time() - c0;
  if (end) sim.get_state(*end);
  if (gpu) {
    sim.set_timing(true);
    for (int s = 0; s < steps; ++s) sim.step();
  }
  r.scene = scene, r.n = state.n, r.grid = G, r.steps = steps, r.threads = threads;
  r.stages = sim.stage_times();
  r.domain_scale = domain_scale;
  r.grid_bytes = sim.grid_bytes(), r.grid_blocks = sim.grid_blocks(), r.nodes = model.grid.num_nodes();
  r.rss_mb = proc_status_mb("VmRSS:"), r.peak_rss_mb = proc_status_mb("VmHWM:");
  r.buffers_peak_mb = double(held_bytes(dev).peak) / 1e6;
  return r;
}

// The largest and mean distance between the particles of two runs of the same scene, in cells.
void compare_states(const State<float, 3>& a, const State<float, 3>& b, int G, BenchResult& r) {
  double max_d = 0, sum = 0, max_dv = 0, max_v = 0;
  for (int p = 0; p < a.n; ++p) {
    double d2 = 0, v2 = 0, dv2 = 0;
    for (int d = 0; d < 3; ++d) {
      const size_t k = size_t(d) * a.n + p;
      const double e = double(a.x[k]) - double(b.x[k]), f = double(a.v[k]) - double(b.v[k]);
      d2 += e * e, dv2 += f * f, v2 += double(b.v[k]) * double(b.v[k]);
    }
    max_d = std::max(max_d, std::sqrt(d2) * G);
    sum += std::sqrt(d2) * G;
    max_dv = std::max(max_dv, std::sqrt(dv2)), max_v = std::max(max_v, std::sqrt(v2));
  }
  r.max_dx_cpu = max_d, r.mean_dx_cpu = a.n ? sum / a.n : 0;
  r.max_dv_cpu = max_v > 0 ? max_dv / max_v : max_dv;
}

void print_header() {
  std::printf("%-16s %8s %4s %3s %6s %8s %8s %11s | %7s %7s %7s %7s %7s | %3s %9s %8s %9s %8s\n", "scene",
              "N", "G", "thr", "steps", "seconds", "cpu s", "p-steps/s", "stress", "p2g", "grid", "g2p",
              "project", "S", "grid MB", "blocks", "buf MB", "RSS MB");
}

void print_row(const BenchResult& r) {
  const double k = 1e3 / r.steps;
  std::printf(
      "%-16s %8d %4d %3d %6d %8.3f %8.3f %9.2f M | %7.2f %7.2f %7.2f %7.2f %7.2f | %3d %9.2f %8lld %9.1f "
      "%8.1f\n",
      r.scene.c_str(), r.n, r.grid, r.threads, r.steps, r.seconds, r.cpu_seconds, r.rate() * 1e-6,
      r.stages.stress * k, r.stages.p2g * k, r.stages.grid * k, r.stages.g2p * k, r.stages.project * k,
      r.domain_scale, double(r.grid_bytes) / 1e6, (long long)r.grid_blocks, r.buffers_peak_mb, r.rss_mb);
  std::fflush(stdout);
}

nlohmann::json to_json(const BenchResult& r) {
  const double k = 1e3 / r.steps;
  nlohmann::json j = {{"scene", r.scene},
                      {"particles", r.n},
                      {"grid", r.grid},
                      {"threads", r.threads},
                      {"steps", r.steps},
                      {"seconds", r.seconds},
                      {"cpu_seconds", r.cpu_seconds},
                      {"particle_steps_per_second", r.rate()},
                      {"domain_scale", r.domain_scale},
                      {"domain_nodes", r.nodes},
                      {"grid_bytes", r.grid_bytes},
                      {"grid_blocks", r.grid_blocks},
                      {"rss_mb_after_run", r.rss_mb},
                      {"process_peak_rss_mb", r.peak_rss_mb},
                      {"buffers_peak_mb", r.buffers_peak_mb},
                      {"ms_per_step",
                       {{"stress", r.stages.stress * k},
                        {"p2g", r.stages.p2g * k},
                        {"grid", r.stages.grid * k},
                        {"g2p", r.stages.g2p * k},
                        {"project", r.stages.project * k}}}};
  if (r.max_dx_cpu >= 0)
    j["against_cpu"] = {
        {"max_cells", r.max_dx_cpu}, {"mean_cells", r.mean_dx_cpu}, {"max_dv_rel", r.max_dv_cpu}};
  return j;
}

// The median of the rates of a scene, grid and thread count over its repeats.
double median_rate(const std::vector<BenchResult>& rs, const std::string& scene, int grid, int threads,
                   int scale = 1) {
  std::vector<double> v;
  for (const auto& r : rs)
    if (r.scene == scene && r.grid == grid && r.threads == threads && r.domain_scale == scale)
      v.push_back(r.rate());
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

void run_bench(const BenchOptions& o) {
  std::vector<std::string> scenes = split(o.scenes);
  if (scenes.empty()) {
    if (MaterialRegistry::instance().has("fluid")) scenes.push_back("fluid");
    scenes.push_back("fixed_corotated");
  }
  for (const auto& s : scenes)
    if (s != "fluid" && s != "fixed_corotated" && s != "neural")
      fail("--scenes", "unknown scene '" + s + "' (known: fluid, fixed_corotated, neural)");
    else if (!MaterialRegistry::instance().has(s))
      fail("--scenes", "scene '" + s + "' needs material model '" + s + "', which this build lacks");
  std::vector<int> grids = split_ints(o.grids, "grid");
  if (o.gradient) {
    GradientBenchOptions g;
    g.scenes = scenes, g.grids = grids, g.policies = split(o.checkpoints), g.steps = o.steps, g.json = o.json;
    g.device = choose_device(o.backend);
    for (const auto& p : g.policies) CheckpointPolicy::parse(p, "--checkpoint");
    return run_gradient_bench(g);
  }
  std::vector<int> threads = split_ints(o.threads, "threads");
  if (threads.empty()) threads.push_back(omp_get_max_threads());
  if (o.scaling) threads = {1, 2};
  if (o.steps <= 0) fail("--steps", "expected a positive number of steps");
  if (o.repeat <= 0) fail("--repeat", "expected a positive number of repeats");

  const double load = load_average();
  const int procs = omp_get_num_procs();
  const Device dev = choose_device(o.backend);
  if (o.compare_cpu && dev == Device::kCpu)
    std::fprintf(stderr, "note: --compare-cpu compares a GPU run with the CPU; this run is on the CPU\n");
  std::printf("ductile bench: %d timed steps after %d warm-up steps, float, 3D, %s\n", o.steps, o.warmup,
              dev == Device::kCpu ? "CPU" : cuda_device_description().c_str());
  std::printf("machine: %s, %d hardware threads, particle loops %s, load average %.2f\n", cpu_model().c_str(),
              procs, cpu_loops().c_str(), load);
  if (load > 0.5 * procs)
    std::printf(
        "warning: the machine is busy: timings are unreliable, and a 2-thread run under OpenMP's default "
        "spin-waiting can be many times slower (try OMP_WAIT_POLICY=passive, bench/run_quiet.sh)\n");
  print_header();
  std::vector<BenchResult> results;
  const std::vector<int> scales = split_ints(o.domain_scales, "domain-scale");
  if (scales.empty()) fail("--domain-scale", "expected at least one scale");
  for (const auto& s : scenes)
    for (int G : grids)
      for (int t : threads)
        for (int r = 0; r < o.repeat; ++r)
          for (int S : scales) {
            State<float, 3> gpu, cpu;
            const bool compare = o.compare_cpu && dev != Device::kCpu;
            results.push_back(run_one(s, G, o.steps, o.warmup, t, dev, S, compare ? &gpu : nullptr));
            print_row(results.back());
            if (compare) {
              const BenchResult c = run_one(s, G, o.steps, o.warmup, t, Device::kCpu, S, &cpu);
              compare_states(gpu, cpu, G, results.back());
              const BenchResult& g = results.back();
              std::printf(
                  "  against the CPU (%.3f s, %.2f M p-steps/s there): |x - x_cpu| max %.3g, mean %.3g "
                  "cells; "
                  "max |v - v_cpu| / max |v_cpu| %.3g\n",
                  c.seconds, c.rate() * 1e-6, g.max_dx_cpu, g.mean_dx_cpu, g.max_dv_cpu);
            }
          }
  std::printf("peak RSS of this process: %.1f MB\n", proc_status_mb("VmHWM:"));
  std::printf(
      "(grid MB: the grid's storage at the end; blocks: those a sparse grid held at the last step, of 8^3 "
      "nodes on the CPU and 4^3 cells with CUDA (DUCTILE_CUDA_GRID=sparse); 0 for a dense grid; buf MB: the "
      "most the run's device buffers held at once: with CUDA all of its GPU memory but the CUDA context's, "
      "on the CPU the particle, grid and stress arrays, not the CPU backend's sort or sparse grid)\n");
  // thread scaling: median rate with the most threads over the median rate with one, per scene and grid
  if (threads.size() > 1) {
    std::printf("\nthread scaling (rate at %d threads / rate at %d%s):\n", threads.back(), threads.front(),
                o.repeat > 1 ? ", medians" : "");
    for (const auto& s : scenes)
      for (int G : grids)
        std::printf("  %-16s G=%-4d %.2fx\n", s.c_str(), G,
                    median_rate(results, s, G, threads.back(), scales[0]) /
                        median_rate(results, s, G, threads.front(), scales[0]));
  }
  // domain size: rate in the largest domain over the rate in the first
  if (scales.size() > 1) {
    std::printf("\ndomain scale (rate at S=%d / rate at S=%d, %d threads%s):\n", scales.back(),
                scales.front(), threads.back(), o.repeat > 1 ? ", medians" : "");
    for (const auto& s : scenes)
      for (int G : grids)
        std::printf("  %-16s G=%-4d %.2fx\n", s.c_str(), G,
                    median_rate(results, s, G, threads.back(), scales.back()) /
                        median_rate(results, s, G, threads.back(), scales.front()));
  }
  if (!o.json.empty()) {
    nlohmann::json j = {{"machine",
                         {{"cpu", cpu_model()},
                          {"hardware_threads", procs},
                          {"particle_loops", cpu_loops()},
                          {"load_average", load}}},
                        {"warmup_steps", o.warmup},
                        {"runs", nlohmann::json::array()}};
    for (const auto& r : results) j["runs"].push_back(to_json(r));
    io::write_file_atomic(o.json, j.dump(2) + "\n");
  }
}

}  // namespace

// The Taichi benchmark box with one material.
void build_bench_scene(const std::string& scene, int G, Model<float, 3>& model, State<float, 3>& state,
                       int domain_scale) {
  const float dx = 1.0f / float(G), S = float(domain_scale);
  model.set_grid(Vec<float, 3>{{0, 0, 0}}, Vec<float, 3>{{S, S, S}}, dx);
  model.walls.cells = 3;
  model.walls.surface = Surface::kSeparate;
  model.walls.friction = 0;
  model.dt = 8e-5f;
  model.gravity = Vec<float, 3>{{0, -9.8f, 0}};
  auto mat = MaterialRegistry::instance().make<float, 3>(scene);
  set_param(*mat, "density", 1);
  if (scene == "fluid") {
    set_param(*mat, "bulk_modulus", 400);  // gamma = 1: tau = K (J - 1) I, mpm3d's stress with K = E
    set_param(*mat, "gamma", 1);
    set_param(*mat, "viscosity", 0);
  } else if (scene == "neural") {
    set_param(*mat, "wave_speed", 1);  // fresh weights: the per-step cost of the law is what is measured
  } else {
    set_param(*mat, "E", 400);
    set_param(*mat, "nu", 0.2f);
  }
  model.material_names = {scene};
  model.materials.clear();
  model.materials.push_back(std::move(mat));
  // particles: a 64-bit LCG (Knuth's MMIX constants) gives the same positions on every platform
  const int n = G * G * G / 4;
  const float p_vol = (0.5f * dx) * (0.5f * dx);
  state.resize(n);
  uint64_t seed = 20261129;
  auto uniform = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return float(seed >> 40) * (1.0f / 16777216.0f);
  };
  for (int p = 0; p < n; ++p)
    for (int d = 0; d < 3; ++d) state.x[size_t(d) * n + p] = 0.15f + 0.4f * uniform();
  for (int p = 0; p < n; ++p) state.mass[p] = p_vol, state.vol0[p] = p_vol;
}

void add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench", "Measure simulation throughput on the standard benchmark scenes");
  cmd->add_option("--scenes", o->scenes,
                  "Comma-separated scenes: fluid, fixed_corotated, neural (default: fluid, fixed_corotated)");
  cmd->add_option("--grid", o->grids, "Comma-separated grid resolutions G (dx = 1/G, N = G^3/4)");
  cmd->add_option("--steps", o->steps, "Timed steps per run (warm-up steps excluded)");
  cmd->add_option("--warmup", o->warmup, "Untimed steps before timing");
  cmd->add_option("--threads", o->threads, "Comma-separated OpenMP thread counts (default: OpenMP's)");
  cmd->add_option("--repeat", o->repeat, "Runs of each configuration (the scaling uses the medians)");
  cmd->add_flag("--scaling", o->scaling, "Run with 1 and 2 threads and report the speed-up");
  cmd->add_option("--json", o->json, "Also write the results as JSON to this file");
  cmd->add_option("--backend", o->backend, "cpu (default), cuda or auto")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  cmd->add_option("--domain-scale", o->domain_scales,
                  "Comma-separated S: run each scene in the domain [0, S]^3 (S^3 times the volume, same "
                  "particles and dx; the sparse grid's benchmark), e.g. 1,4");
  cmd->add_flag("--compare-cpu", o->compare_cpu,
                "With --backend cuda: run each configuration on the CPU too and print how far apart the "
                "particles end, in cells (float atomics sum in another order on the GPU)");
  cmd->add_flag("--gradient", o->gradient,
                "Time gradients instead: tape forward, backward, ratio and memory");
  cmd->add_option("--checkpoint", o->checkpoints,
                  "With --gradient: comma-separated policies (all, sqrt, every:K)");
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace ductile::app
