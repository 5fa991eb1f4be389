#include "apps/progress.h"

#include <unistd.h>

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

Progress::Progress(int frames, int particles, bool quiet, std::FILE* out)
    : frames_(frames), particles_(particles), quiet_(quiet), tty_(isatty(fileno(out)) != 0), out_(out) {
  start_ = last_print_ = std::chrono::steady_clock::now();
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

// "frame 12/100  t = 0.240 s  3.1e+06 particle-steps/s  ETA 1m10s"
std::string Progress::line(int frame, double time, int64_t steps) const {
  const double el = elapsed_seconds();
  const double rate = el > 0 ? double(particles_) * double(steps) / el : 0;
  const double eta = frame > 0 ? el * double(frames_ - frame) / double(frame) : NAN;
  char buf[160];
  std::snprintf(buf, sizeof buf, "frame %d/%d  t = %.4g s  %.3g particle-steps/s  ETA %s", frame, frames_,
                time, rate, frame >= frames_ ? "0s" : duration_text(eta).c_str());
  return buf;
}

void Progress::update(int frame, double time, int64_t steps) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    // redraw in place; \033[K clears what a longer previous line left
    std::fprintf(out_, "\r%s\033[K", line(frame, time, steps).c_str());
    std::fflush(out_);
    drawn_ = true;
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

void Progress::finish() {
  if (drawn_) std::fputc('\n', out_);
  drawn_ = false;
}

}  // namespace ductile::app
