#include "core/teacher_forcing.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace ductile {

namespace {

// The observed frame k, or null.
const ObservedFrame* frame_at(const Observations& obs, int k) {
  for (const auto& f : obs.frames)
    if (f.frame == k) return &f;
  return nullptr;
}

// s0 with the observed state of frame f written in (x, v; F, C, plastic when observed).
template <class T, int D>
State<T, D> observed_start(const Observations& obs, const ObservedFrame* f, int k, const State<T, D>& s0,
                           bool& observed_state) {
  const std::string where = obs.source + ", frame " + std::to_string(k);
  if (!f) fail(where, "teacher forcing starts a window here, but there is no such observed frame");
  const size_t n = size_t(s0.n);
  if (!f->ordered || !f->particles.empty() || f->points.size() != size_t(D) * n)
    fail(where, "teacher forcing needs every particle in order (" + std::to_string(n) +
                    " points, the scene's count); this frame has " + std::to_string(f->points.size() / D) +
                    (f->ordered ? " tracked points" : " unordered points"));
  if (f->v.size() != size_t(D) * n)
    fail(where, "teacher forcing needs velocities (properties vx, vy" + std::string(D == 3 ? ", vz" : "") +
                    ") to start a window");
  State<T, D> s = s0;
  for (size_t p = 0; p < n; ++p)
    for (int d = 0; d < D; ++d) s.x[size_t(d) * n + p] = T(f->points[p * D + size_t(d)]);
  for (size_t i = 0; i < s.v.size(); ++i) s.v[i] = T(f->v[i]);
  observed_state = f->F.size() == size_t(D * D) * n;
  if (observed_state) {
    for (size_t i = 0; i < s.F.size(); ++i) s.F[i] = T(f->F[i]);
    if (f->C.size() == s.C.size())
      for (size_t i = 0; i < s.C.size(); ++i) s.C[i] = T(f->C[i]);
    if (f->plastic.size() == n)
      for (size_t i = 0; i < n; ++i) s.plastic[i] = T(f->plastic[i]);
  }
  return s;
}

}  // namespace

template <class T, int D>
std::vector<TeacherWindow<T, D>> teacher_windows(const Observations& obs, const State<T, D>& s0,
                                                 int steps_per_frame, double frame_dt, int last_frame,
                                                 int length, int every, bool chamfer) {
  if (length < 1) fail("teacher forcing", "the window length must be at least 1 frame");
  every = std::max(every, 1);
  // the compared frames of all windows, for the weight of each term
  int terms = 0;
  for (const auto& f : obs.frames) terms += f.frame >= 1 && f.frame <= last_frame && f.frame % every == 0;
  if (!terms)
    fail(obs.source, "no observed frame between 1 and " + std::to_string(last_frame) + " to fit against");
  std::vector<TeacherWindow<T, D>> r;
  for (int first = 0; first < last_frame; first += length) {
    const int last = std::min(first + length, last_frame);
    int count = 0;
    for (const auto& f : obs.frames) count += f.frame > first && f.frame <= last && f.frame % every == 0;
    if (!count) continue;
    TeacherWindow<T, D> w;
    w.first = first, w.last = last;
    if (first == 0) {
      w.start = s0, w.observed_state = true;
    } else {
      w.start = observed_start(obs, frame_at(obs, first), first, s0, w.observed_state);
      w.start.time = s0.time + first * frame_dt;
      w.start.step = s0.step + int64_t(first) * steps_per_frame;
    }
    w.losses = observation_losses<T, D>(obs, steps_per_frame, last, every, chamfer, first, 1.0 / terms);
    for (const auto& l : w.losses)
      for (int64_t s : l->steps()) w.steps = std::max(w.steps, s);
    r.push_back(std::move(w));
  }
  return r;
}

#define DUCTILE_INSTANTIATE_TF(T, D)                                                                       \
  template std::vector<TeacherWindow<T, D>> teacher_windows<T, D>(const Observations&, const State<T, D>&, \
                                                                  int, double, int, int, int, bool);
DUCTILE_INSTANTIATE_TF(float, 2)
DUCTILE_INSTANTIATE_TF(float, 3)
DUCTILE_INSTANTIATE_TF(double, 2)
DUCTILE_INSTANTIATE_TF(double, 3)

}  // namespace ductile
