#include "core/io/summary.h"

#include <nlohmann/json.hpp>

#include "core/io/atomic_file.h"

namespace ductile::io {

template <class T, int D>
FrameStats frame_stats(int frame, const State<T, D>& s) {
  FrameStats f;
  f.frame = frame;
  f.time = s.time;
  for (int p = 0; p < s.n; ++p) {
    const double m = double(s.mass[p]);
    f.mass += m;
    for (int d = 0; d < D; ++d) {
      const double v = double(s.v[size_t(d) * s.n + p]);
      f.momentum[d] += m * v;
      f.kinetic_energy += 0.5 * m * v * v;
    }
  }
  return f;
}

template FrameStats frame_stats(int, const State<float, 2>&);
template FrameStats frame_stats(int, const State<float, 3>&);
template FrameStats frame_stats(int, const State<double, 2>&);
template FrameStats frame_stats(int, const State<double, 3>&);

std::string summary_json_text(const RunSummary& s) {
  using json = nlohmann::ordered_json;
  json j;
  j["status"] = s.status;
  j["scene"] = s.scene;
  j["out_dir"] = s.out_dir;
  j["backend"] = s.backend;
  j["threads"] = s.threads;
  j["dim"] = s.dim;
  j["dt"] = s.dt;
  j["steps_per_frame"] = s.steps_per_frame;
  j["frames"] = s.frames.size();
  j["frames_planned"] = s.frames_planned;
  j["steps"] = s.steps;
  j["particles"] = s.particles;
  j["wall_seconds"] = s.wall_seconds;
  j["particle_steps_per_second"] =
      s.wall_seconds > 0 ? double(s.particles) * double(s.steps) / s.wall_seconds : 0.0;
  j["notes"] = s.notes;
  json frames = json::array();
  for (const auto& f : s.frames)
    frames.push_back({{"frame", f.frame},
                      {"time", f.time},
                      {"mass", f.mass},
                      {"momentum", {f.momentum[0], f.momentum[1], f.momentum[2]}},
                      {"kinetic_energy", f.kinetic_energy}});
  j["frame_stats"] = std::move(frames);
  return j.dump(2) + "\n";
}

void write_summary(const std::string& path, const RunSummary& s) {
  write_file_atomic(path, summary_json_text(s));
}

}  // namespace ductile::io
