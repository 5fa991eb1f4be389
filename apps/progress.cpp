#include "apps/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace ductile::app {

namespace {

// Seconds as "42s", "3m05s" or "1h02m".
std::string duration_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[32];
  long t = long(s + 0.5);
  if (t < 60)
    std::snprintf(buf, sizeof buf, "%lds", t);
  else if (t < 3600)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  return buf;
}

}  // namespace

Progress::Progress(int frames, int steps_per_frame, int particles, bool quiet, std::FILE* out)
    : frames_(frames),
      steps_per_frame_(steps_per_frame),
      particles_(particles),
      quiet_(quiet),
      tty_(isatty(fileno(out)) != 0),
      out_(out) {
  start_ = last_print_ = last_draw_ = std::chrono::steady_clock::now();
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

// "frame 12/100  t = 0.240 s  3.1e+06 particle-steps/s  ETA 1m10s"; the ETA scales the time so far by the
// steps left
std::string Progress::line(int frame, double time, int64_t steps) const {
  const double el = elapsed_seconds();
  const double rate = el > 0 ? double(particles_) * double(steps) / el : 0;
  const double total = double(frames_) * double(steps_per_frame_);
  const double eta = steps > 0 ? el * (total - double(steps)) / double(steps) : NAN;
  char buf[160];
  std::snprintf(buf, sizeof buf, "frame %d/%d  t = %.4g s  %.3g particle-steps/s  ETA %s", frame, frames_,
                time, rate, frame >= frames_ ? "0s" : duration_text(eta).c_str());
  return buf;
}

void Progress::update(int frame, double time, int64_t steps) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    redraw(frame, time, steps);
    return;
  }
  const int tenth = frames_ >= 10 ? frames_ / 10 : 1;
  const bool due = frame >= frames_ || frame - last_frame_printed_ >= tenth ||
                   std::chrono::duration<double>(now - last_print_).count() >= 10.0;
  if (!due) return;
  std::fprintf(out_, "%s\n", line(frame, time, steps).c_str());
  std::fflush(out_);
  last_frame_printed_ = frame;
  last_print_ = now;
}

void Progress::tick(double time, int64_t steps) {
  if (quiet_ || !tty_ || steps_per_frame_ <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_draw_).count() < 0.5) return;
  // the frame in progress
  redraw(int(std::min<int64_t>(frames_, steps / steps_per_frame_ + 1)), time, steps);
}

// Redraws the line in place; \033[K clears what a longer previous line left.
void Progress::redraw(int frame, double time, int64_t steps) {
  std::fprintf(out_, "\r%s\033[K", line(frame, time, steps).c_str());
  std::fflush(out_);
  drawn_ = true;
  last_draw_ = std::chrono::steady_clock::now();
}

void Progress::finish() {
  if (drawn_) std::fputc('\n', out_);
  drawn_ = false;
}

}  // namespace ductile::app
