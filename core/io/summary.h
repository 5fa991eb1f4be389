// summary.json: what a run did (sizes, throughput, status) and per-frame conserved quantities; rewritten
// atomically after every frame so a crashed run still leaves a valid summary of the frames written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/state.h"

namespace ductile::io {

// Totals of one frame's particle state; z components are 0 in 2D.
struct FrameStats {
  int frame = 0;
  double time = 0;            // [s]
  double mass = 0;            // [kg]
  double momentum[3] = {};    // [kg m/s]
  double kinetic_energy = 0;  // [J], translational: sum m |v|^2 / 2
};
template <class T, int D>
FrameStats frame_stats(int frame, const State<T, D>& s);

struct RunSummary {
  std::string scene;    // the scene file, or "<default>"
  std::string out_dir;  // absolute
  std::string backend;  // "cpu" or "cuda"
  int threads = 1;      // OpenMP threads (cpu backend)
  int dim = 3;
  double dt = 0;  // [s]
  int steps_per_frame = 0;
  int frames_planned = 0;  // frames after frame 0
  int64_t steps = 0;       // time steps taken
  int particles = 0;
  double wall_seconds = 0;
  std::string status = "running";  // "running", "completed" or "failed: <message>"
  std::vector<std::string> notes;  // e.g. outputs skipped and why
  std::vector<FrameStats> frames;  // one per frame written, frame 0 included
};

// The JSON text of a summary (keys: frames, frames_planned, steps, particles, wall_seconds,
// particle_steps_per_second, status, backend, threads, dt, ..., frame_stats: [{frame, time, mass, momentum,
// kinetic_energy}]).
std::string summary_json_text(const RunSummary& s);
// Writes summary_json_text() to `path` atomically.
void write_summary(const std::string& path, const RunSummary& s);

}  // namespace ductile::io
