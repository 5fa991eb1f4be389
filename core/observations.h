// Observed motion to fit against: point sets per frame, read from the PLY frames `ductile simulate` writes or
// from a CSV of tracked points (docs/FITTING.md, "Observed motion").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/loss.h"
#include "core/scene.h"

namespace ductile {

struct ObservedFrame {
  int frame = 0;
  std::vector<int32_t> particles;  // which scene particles the points track (empty: all, or unordered)
  bool ordered = true;             // point k is particle particles[k] (or k); false: an unordered cloud
  std::vector<double> points;      // D values per point
  // Optional particle state of an ordered PLY frame of every particle (empty when absent), in the State's
  // layout (component-major: v[d * n + p], F[(i * D + j) * n + p]): velocities (vx ..), and the columns of
  // `outputs.state` (F00 .., C00 .., plastic). Teacher forcing restarts its windows from them.
  std::vector<double> v, F, C, plastic;
};

struct Observations {
  std::string source;
  int dim = 3;
  std::vector<ObservedFrame> frames;  // by increasing frame
};

// Reads PATH: a directory holding frame_NNNNN.ply files (or a `particles/` folder of them), or a CSV file
// with the header `frame,particle,x,y[,z]` (tracked particles) or `frame,x,y[,z]` (unordered points). A PLY
// frame whose point count differs from `particles` (the scene's) is an unordered cloud. Throws Error naming
// the file (and line) on anything malformed.
Observations load_observations(const std::string& path, int dim, int particles);

// One loss term per observed frame in [first_frame + 1, last_frame] (every `every`-th), each weighted
// `weight` (0: 1 / the number of terms): mean squared distance for ordered points, Chamfer distance for
// clouds (or for all, with chamfer). Frame f is read (f - first_frame) x steps_per_frame steps after the
// initial state (first_frame > 0: a teacher-forced window that starts at that frame).
template <class T, int D>
std::vector<std::unique_ptr<Loss<T, D>>> observation_losses(const Observations& obs, int steps_per_frame,
                                                            int last_frame, int every = 1,
                                                            bool chamfer = false, int first_frame = 0,
                                                            double weight = 0);

}  // namespace ductile
