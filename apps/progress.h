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
  // `frames`: frames to simulate after frame 0; `particles`: for the throughput.
  Progress(int frames, int particles, bool quiet, std::FILE* out = stderr);
  // Reports that frame `frame` (1..frames) finished at simulated time `time` after `steps` steps in total.
  void update(int frame, double time, int64_t steps);
  // Ends the redrawn line (call once before printing anything else).
  void finish();
  double elapsed_seconds() const;

 private:
  std::string line(int frame, double time, int64_t steps) const;

  int frames_, particles_;
  bool quiet_, tty_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_, last_print_;
  int last_frame_printed_ = 0;
  bool drawn_ = false;
};

}  // namespace ductile::app
