// Teacher forcing (NCLaw's training, Ma et al. 2023): the observed trajectory is cut into windows of K
// frames, and each window is simulated from the observed state at its first frame instead of from the end of
// the previous window, so that errors do not accumulate over the whole rollout. The losses of all windows
// are summed; the window length grows on a schedule (docs/FITTING.md, "Teacher forcing").
#pragma once

#include <memory>
#include <vector>

#include "core/loss.h"
#include "core/observations.h"
#include "core/state.h"

namespace ductile {

template <class T, int D>
struct TeacherWindow {
  int first = 0, last = 0;      // starts at observed frame `first`, compared at frames first+1 .. last
  State<T, D> start;            // the state it starts from
  bool observed_state = false;  // F (and C, plastic) came from the observation; else from the model's run
  int64_t steps = 0;            // (last - first) x steps per frame
  std::vector<std::unique_ptr<Loss<T, D>>> losses;
  std::vector<const Loss<T, D>*> loss_ptrs() const {
    std::vector<const Loss<T, D>*> r;
    for (const auto& l : losses) r.push_back(l.get());
    return r;
  }
};

// Windows of `length` frames covering observed frames 1..last_frame (every `every`-th is compared; a window
// without a compared frame is left out). The window at frame 0 starts from the scene's state s0. A window at
// frame k > 0 starts from s0's masses and materials with x and v of observed frame k, which must be an
// ordered frame of all s0.n particles with velocities (vx ..), and F, C, plastic of that frame when it has
// them (`outputs.state`); otherwise observed_state is false and the caller fills them from the model's own
// run. Each loss term is weighted 1 / (the number of compared frames of all windows), so that the total is
// the mean over frames, as without teacher forcing. Throws Error naming the frame and the source when an
// observation cannot start a window.
template <class T, int D>
std::vector<TeacherWindow<T, D>> teacher_windows(const Observations& obs, const State<T, D>& s0,
                                                 int steps_per_frame, double frame_dt, int last_frame,
                                                 int length, int every = 1, bool chamfer = false);

}  // namespace ductile
