// The per-device half of the gradient engine: the transfer stages and their adjoints on particles kept in the
// State's order (the fast Backend reorders particles; the tape needs a fixed order to replay).
#pragma once

#include <memory>

#include "core/device.h"
#include "kernels/actuation.h"
#include "kernels/g2p.h"
#include "kernels/grid_update.h"
#include "kernels/p2g.h"

namespace ductile {

// The trial deformation gradient (I + dt C') F of G2P (kernels/g2p.h, g2p_advect) from the step's input F and
// its output C' (kept by the tape): the backward pass forms it per particle instead of gathering again.
template <class T, int D>
struct TrialF {
  int n;
  T dt;
  const T* C;  // C' of the step's output, D*D SoA components
  const T* F;  // F of the step's input
  T* F_out;
  DUCTILE_HD DUCTILE_INLINE void operator()(int i) const {
    Vec<T, D> xn;
    Mat<T, D> Fn;
    g2p_advect(dt, Vec<T, D>::zero(), Vec<T, D>::zero(), load_mat<T, D>(C, n, i), load_mat<T, D>(F, n, i), xn,
               Fn);
    store_mat<T, D>(F_out, n, i, Fn);
  }
};

template <class T, int D>
class DiffBackend {
 public:
  virtual ~DiffBackend() = default;
  virtual Device device() const = 0;
  // Prepares the scatters of one step for particles at positions x (n particles, SoA): the CPU groups them
  // into tiles of 2 x 2 cells across x and y so that scatters never race and add in a fixed order
  // (deterministic for any thread count); the GPU adds atomically.
  virtual void order(const T* x, int n, const GridSpec<T, D>& spec) = 0;
  // Bytes that the ordering keeps for n particles (in the tape's memory estimate).
  virtual double order_bytes(int n) const = 0;
  // Clears mass and momentum, then scatters every particle.
  virtual void p2g(const P2G<T, D>& k) = 0;
  virtual void grid_update(const GridUpdate<T, D>& k) = 0;
  // Particle i to slot i.
  virtual void g2p(const G2P<T, D>& k) = 0;
  // Clears k.adj_grid_v, then scatters every particle's node-velocity adjoint (same order as p2g).
  virtual void g2p_adjoint(const G2PAdjoint<T, D>& k) = 0;
  virtual void trial_F(const TrialF<T, D>& k) = 0;
  // Node adjoints, then the parameter adjoints summed over rows into params (P values on the device, +=).
  virtual void grid_update_adjoint(const GridUpdateAdjoint<T, D>& k, int P, T* params) = 0;
  virtual void p2g_adjoint(const P2GAdjoint<T, D>& k) = 0;
  // Adds the actuators' active stress to tau, and its adjoint (kernels/actuation.h).
  virtual void actuation(const Actuation<T, D>& k) = 0;
  virtual void actuation_adjoint(const ActuationAdjoint<T, D>& k) = 0;
  // Raises kStatusNonFinite at `stage` for the lowest particle with a non-finite value among `fields`
  // arrays of width components each (n particles, SoA); for the backward pass's checks.
  virtual void check_finite(const T* const* fields, const int* widths, int count, int n, uint32_t stage,
                            Status* status) = 0;
  // Waits for queued work and returns the status word (and resets it).
  virtual Status fetch_status(Status* device_status) = 0;
};

template <class T, int D>
std::unique_ptr<DiffBackend<T, D>> make_cpu_diff_backend();
template <class T, int D>
std::unique_ptr<DiffBackend<T, D>> make_cuda_diff_backend();

}  // namespace ductile
