// Progress of a run on stderr: on a terminal one line redrawn in place; otherwise (logs, CI) a plain line
// every ~10% of the frames or every 10 s, so logs stay free of control characters.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ductile::app {

class Progress {
 public:
  // `frames`: frames to simulate after frame 0, of `steps_per_frame` steps; `particles`: for the throughput.
  Progress(int frames, int steps_per_frame, int particles, bool quiet, std::FILE* out = stderr);
  // Reports that frame `frame` (1..frames) finished at simulated time `time` after `steps` steps in total.
  void update(int frame, double time, int64_t steps);
  // Called after every step: on a terminal, redraws at most twice a second while a long frame runs.
  void tick(double time, int64_t steps);
  // Ends the redrawn line (call once before printing anything else).
  void finish();
  double elapsed_seconds() const;

 private:
  std::string line(int frame, double time, int64_t steps) const;
  void redraw(int frame, double time, int64_t steps);

  int frames_, steps_per_frame_, particles_;
  bool quiet_, tty_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_, last_print_, last_draw_;
  int last_frame_printed_ = 0;
  bool drawn_ = false;
};

}  // namespace ductile::app
