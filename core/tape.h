// The gradient engine: a forward run that keeps checkpoints of the particle state, and a backward pass that
// recomputes each step's grid from them and runs the stages' adjoints in reverse (docs/GRADIENTS.md).
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/checkpoint.h"
#include "core/loss.h"
#include "core/memory.h"
#include "core/model.h"
#include "core/output_adjoint.h"
#include "core/state.h"
#include "kernels/diff_backend.h"

namespace ductile {

// Everything the backward pass returns (host arrays, particles in the State's order).
template <class T, int D>
struct Gradients {
  double loss = 0;
  std::vector<double> x, v, C, F, plastic;    // adjoints of the initial state
  std::vector<double> mass;                   // of each particle's mass (constant over the run)
  std::vector<std::vector<double>> material;  // [material][parameter in specs() order], density included
  double gravity[3] = {0, 0, 0};
  double wall_friction = 0;
  std::vector<ColliderGradient> colliders;
  std::vector<double> force;  // [step][component][particle] when a force buffer was set
};

// What the tape did and held.
struct TapeStats {
  int64_t steps = 0;
  int interval = 1;        // checkpoint segment length K
  int64_t recomputed = 0;  // forward steps recomputed by the backward pass (grids excluded)
  double state_bytes = 0;  // one particle state
  double peak_bytes = 0;   // checkpoints + segment states + kept grids + working arrays, at most
  double grid_bytes = 0;   // one grid as a segment's recomputation keeps it
  int64_t grids_kept = 0;  // backward steps that used the grid kept from the segment's recomputation
  double forward_seconds = 0, backward_seconds = 0;
  // Where that wall time went [s]: consecutive laps of one clock, so each pass's parts sum to its total. On
  // CUDA every lap ends after a call that waits for the device (core/tape.cpp says which).
  struct ForwardSplit {
    double setup = 0;        // before the first step: ordering, allocation, uploads, the step-0 losses
    double order = 0;        //   of which on the host: cell order and the slot permutations
    double checkpoints = 0;  // checkpoint copies in the loop (first use allocates them)
    double steps = 0;        // the steps' stages and status fetches
    double first_step = 0;   //   of which the first step
    double losses = 0;       // losses in the loop: the state's download (at the last step: the final state)
    double finish = 0;       // the actuation's end; the final state's download when no loss read it
  } forward_split;
  struct BackwardSplit {
    double setup = 0;      // adjoint arrays zeroed, the final state's adjoint
    double recompute = 0;  // the segments' states recomputed from their checkpoints
    double adjoint = 0;    // the adjoint steps (with their grids' recomputation)
    double finish = 0;     // downloads and the host's reordering of the gradients
  } backward_split;
  // The forward steps' time by stage [s], only with Tape::set_stage_timing (else zero): each stage's lap
  // ends with a wait for the device, so on a GPU these steps run slower than untimed ones (no overlap of a
  // stage's launch with the previous stage's work).
  struct ForwardStages {
    double order = 0;        // the backend's particle ordering (CPU: scatter tiles; none on CUDA)
    double stress = 0;       // the materials' stress (and the actuation's)
    double p2g = 0;          // grid cleared, particle-to-grid scatter (on CUDA with its sort by cell)
    double grid_update = 0;  // colliders on the host and their upload, the grid update
    double g2p = 0;          // grid-to-particle gather
    double project = 0;      // the materials' plastic projection
    double status = 0;       // the status word's fetch
  } forward_stages;
};

template <class T, int D>
class ActuationDriver;

template <class T, int D>
class Tape {
 public:
  Tape(const Model<T, D>& model, Device device, CheckpointPolicy policy = {});
  ~Tape();

  // External force per step and particle ([step][component][particle], State order), applied as dt f of
  // momentum in the step's P2G; empty for none. Set before forward().
  void set_force(std::vector<T> force);
  // Soft-robot actuation (core/control/actuation_driver.h), or null; set before forward(). The driver adds
  // its active stress each step, its objective to the loss, and keeps the gradients of its controller.
  void set_actuation(ActuationDriver<T, D>* driver);
  // Runs `steps` steps from s0 keeping checkpoints and evaluates the losses at their steps; returns the total
  // loss. Throws Error naming the step, stage and particle on a fault.
  double forward(const State<T, D>& s0, int64_t steps, const std::vector<const Loss<T, D>*>& losses);
  // Adjoints of the states at chosen steps of the last forward() from a loss computed outside the tape (in
  // PyTorch, say): adj[step] = (dL/dx, dL/dv), D values per particle laid out like State::x, the caller's
  // particle order. backward() adds them to the losses' gradients. Replaced by the next call, cleared by
  // forward(). Throws Error for a step outside the run, a wrong size or a value not finite in T.
  void set_output_adjoints(const OutputAdjoints& adj);
  // The gradient of the last forward()'s loss (plus the output adjoints). Leaves the forward results (final
  // state, checkpoints) untouched, so it may run again. Throws Error naming the step, stage and particle (or
  // parameter) when an adjoint becomes NaN or infinite.
  Gradients<T, D> backward();
  // Each loss's value in the last forward(), in the order they were passed (summed over its steps).
  const std::vector<double>& loss_terms() const;
  // The state after the last forward().
  const State<T, D>& final_state() const { return final_; }
  const TapeStats& stats() const { return stats_; }
  // When on, forward() waits for the device after every stage of every step and times it (stats()'s
  // forward_stages): a diagnostic, slower on a GPU, so best a separate run from the one timed as a whole.
  void set_stage_timing(bool on);
  // Called as progress(phase, done, total) with phase "forward" or "backward", about every 1% of the run.
  void set_progress(std::function<void(const char*, int64_t, int64_t)> fn) { progress_ = std::move(fn); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  State<T, D> final_;
  TapeStats stats_;
  std::function<void(const char*, int64_t, int64_t)> progress_;
};

}  // namespace ductile
