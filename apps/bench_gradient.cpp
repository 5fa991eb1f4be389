// `ductile bench --gradient`: the cost of a gradient on the standard scenes. Per scene, grid and checkpoint
// policy: the fast simulator's forward time, the tape's forward and backward times, backward over forward,
// the tape's memory and the process's peak memory, and where the tape's time went (TapeStats' splits). The
// loss is the mean squared distance of the particles to their initial positions after the last step. The
// simulator runs one step and the tape a short forward and backward pass untimed first, so that CUDA's
// loading of each kernel on its first launch and the tape's first allocations of its working arrays are not
// timed.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/bench_scene.h"
#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/memory.h"
#include "core/simulator.h"
#include "core/tape.h"

namespace ductile::app {

namespace {

// CPU time of this process so far, all threads [s]: on a shared machine it counts the work done, where wall
// time also counts waiting for cores.
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Peak resident memory of this process so far [MB] (Linux).
double peak_rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

// Untimed steps of the tape's warm-up run before the timed one (forward and backward, same tape).
constexpr int kTapeWarmup = 2;

nlohmann::json run_one(const std::string& scene, int G, int steps, const std::string& policy, Device dev) {
  reset_peak_bytes(dev);
  Model<float, 3> model;
  State<float, 3> state;
  build_bench_scene(scene, G, model, state);
  // the fast simulator's forward time for the same steps, after one untimed step from the same start
  Simulator<float, 3> sim(model, dev);
  sim.set_state(state);
  sim.step();
  sim.set_state(state);
  auto t0 = std::chrono::steady_clock::now();
  double c0 = cpu_seconds();
  for (int s = 0; s < steps; ++s) sim.step();
  const double fast = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double fast_cpu = cpu_seconds() - c0;
  // the tape
  std::vector<double> target(size_t(3) * state.n);
  for (int p = 0; p < state.n; ++p)
    for (int d = 0; d < 3; ++d) target[size_t(p) * 3 + d] = state.x[size_t(d) * state.n + p];
  auto loss = make_position_loss<float, 3>(steps, {}, target);
  Tape<float, 3> tape(model, dev, CheckpointPolicy::parse(policy, "--checkpoint"));
  const int warmup = std::min(kTapeWarmup, steps);
  if (warmup > 0) {
    auto warm_loss = make_position_loss<float, 3>(warmup, {}, target);
    tape.forward(state, warmup, {warm_loss.get()});
    tape.backward();
  }
  c0 = cpu_seconds();
  tape.forward(state, steps, {loss.get()});
  const double c1 = cpu_seconds();
  tape.backward();
  const double fwd_cpu = c1 - c0, bwd_cpu = cpu_seconds() - c1;
  const TapeStats st = tape.stats();
  // the steps' time by stage: one more forward that waits for the device after every stage (on a GPU slower
  // than the timed one, hence apart from it)
  tape.set_stage_timing(true);
  tape.forward(state, steps, {loss.get()});
  tape.set_stage_timing(false);
  const TapeStats staged = tape.stats();
  const auto& sg = staged.forward_stages;
  const double ratio = st.backward_seconds / st.forward_seconds;
  std::printf("%-16s %8d %4d %6d %-8s %4d | %7.3f %7.3f %7.3f | %5.2f %5.2f | %5.2f %5.2f | %8.1f %8.1f\n",
              scene.c_str(), state.n, G, steps, policy.c_str(), st.interval, fast, st.forward_seconds,
              st.backward_seconds, ratio, st.backward_seconds / fast, bwd_cpu / fwd_cpu, bwd_cpu / fast_cpu,
              st.peak_bytes / 1e6, peak_rss_mb());
  const auto& fs = st.forward_split;
  const auto& bs = st.backward_split;
  std::printf(
      "  split [s]  tape: setup %.4f (order %.4f) ckpt %.4f steps %.4f (first %.4f) loss %.4f end %.4f"
      "  back: setup %.4f recompute %.4f adjoint %.4f end %.4f\n",
      fs.setup, fs.order, fs.checkpoints, fs.steps, fs.first_step, fs.losses, fs.finish, bs.setup,
      bs.recompute, bs.adjoint, bs.finish);
  std::printf(
      "  stages [s] (a further forward, %.4f s of steps): order %.4f stress %.4f p2g %.4f grid %.4f g2p %.4f "
      "project %.4f status %.4f\n",
      staged.forward_split.steps, sg.order, sg.stress, sg.p2g, sg.grid_update, sg.g2p, sg.project, sg.status);
  std::fflush(stdout);
  return {
      {"scene", scene},
      {"particles", state.n},
      {"grid", G},
      {"steps", steps},
      {"checkpoint", policy},
      {"interval", st.interval},
      {"recomputed_steps", st.recomputed},
      {"grids_kept", st.grids_kept},
      {"threads", omp_get_max_threads()},
      {"fast_forward_seconds", fast},
      {"tape_forward_seconds", st.forward_seconds},
      {"backward_seconds", st.backward_seconds},
      {"backward_over_tape_forward", ratio},
      {"backward_over_fast_forward", st.backward_seconds / fast},
      {"fast_forward_cpu_seconds", fast_cpu},
      {"tape_forward_cpu_seconds", fwd_cpu},
      {"backward_cpu_seconds", bwd_cpu},
      {"cpu_backward_over_tape_forward", bwd_cpu / fwd_cpu},
      {"cpu_backward_over_fast_forward", bwd_cpu / fast_cpu},
      {"tape_megabytes", st.peak_bytes / 1e6},
      {"process_peak_megabytes", peak_rss_mb()},
      // the most the simulator's and the tape's device buffers held at once (GPU memory with CUDA)
      {"buffers_peak_megabytes", double(held_bytes(dev).peak) / 1e6},
      {"fast_warmup_steps", 1},
      {"tape_warmup_steps", warmup},
      {"tape_forward_split_seconds",
       {{"setup", fs.setup},
        {"order", fs.order},
        {"checkpoints", fs.checkpoints},
        {"steps", fs.steps},
        {"first_step", fs.first_step},
        {"losses", fs.losses},
        {"finish", fs.finish}}},
      {"backward_split_seconds",
       {{"setup", bs.setup}, {"recompute", bs.recompute}, {"adjoint", bs.adjoint}, {"finish", bs.finish}}},
      {"staged_forward_step_seconds", staged.forward_split.steps},
      {"staged_forward_stage_seconds",
       {{"order", sg.order},
        {"stress", sg.stress},
        {"p2g", sg.p2g},
        {"grid_update", sg.grid_update},
        {"g2p", sg.g2p},
        {"project", sg.project},
        {"status", sg.status}}}};
}

}  // namespace

void run_gradient_bench(const GradientBenchOptions& o) {
  std::printf("ductile bench --gradient: float, 3D, %s, %d threads, %d steps\n", device_name(o.device),
              omp_get_max_threads(), o.steps);
  std::printf("%-16s %8s %4s %6s %-8s %4s | %7s %7s %7s | %5s %5s | %5s %5s | %8s %8s\n", "scene", "N", "G",
              "steps", "policy", "K", "fast", "tape", "back", "b/tf", "b/ff", "b/tf", "b/ff", "tape MB",
              "peak MB");
  std::printf("%-16s %8s %4s %6s %-8s %4s | %-23s | %-11s | %-11s |\n", "", "", "", "", "", "",
              "wall seconds", "wall", "cpu time");
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& s : o.scenes)
    for (int G : o.grids)
      for (const auto& p : o.policies) runs.push_back(run_one(s, G, o.steps, p, o.device));
  std::printf(
      "(b/tf = backward over the tape's forward, b/ff = backward over the fast simulator's forward, by wall "
      "time and by the process's CPU time (all threads: the work, less sensitive to other jobs on the "
      "cores); peak MB is the process's high-water mark so far)\n");
  std::printf(
      "(untimed warm-up before each row: one simulator step, then a %d-step tape forward and backward on the "
      "same tape, so that CUDA's first kernel loads and the tape's first allocations of its working arrays "
      "are not timed; checkpoints beyond the warm-up's are allocated in the timed run)\n"
      "(split: the tape's forward = setup (of which order: the host's cell order and slot permutations; then "
      "allocation and uploads) + ckpt (checkpoint copies) + steps (of which the first) + loss (the state's "
      "download and the host's evaluation; the last step's download is the final state) + end; its "
      "backward = setup + recompute (the segments' states) + adjoint (the adjoint steps with their grids) "
      "+ end (downloads, the host's reordering); on CUDA each part ends with a wait for the device)\n"
      "(stages: the steps of one more tape forward, untimed as a whole, waiting for the device after every "
      "stage: order (the backend's particle ordering), stress, p2g (with clearing the grid), grid "
      "(colliders, "
      "grid update), g2p, project, status (the status word's fetch))\n",
      kTapeWarmup);
  if (!o.json.empty()) {
    io::write_file_atomic(o.json, nlohmann::json{{"gradient_runs", runs}}.dump(2) + "\n");
  }
}

}  // namespace ductile::app
