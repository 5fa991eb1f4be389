// The material interface: batched constitutive evaluation and plastic projection for the particles of one
// material, on the simulator's device. Analytic models adapt to it through AnalyticMaterial (analytic.h);
// neural models implement it with LibTorch.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/state.h"
#include "core/status.h"
#include "materials/material_lanes.h"
#include "materials/param.h"

namespace ductile {

// The particles of one material: indices into the particle arrays, on the simulator's device.
struct MaterialBatch {
  const int32_t* index = nullptr;
  int count = 0;
};

template <class T, int D>
class Material {
 public:
  virtual ~Material() = default;
  // Model name as used in scene files.
  virtual const char* model() const = 0;
  // Parameter table (names, units, ranges); values() follows its order.
  virtual const std::vector<ParamSpec>& specs() const = 0;
  std::vector<T>& values() { return values_; }
  const std::vector<T>& values() const { return values_; }
  T value(const std::string& name) const;

  // Kirchhoff stress tau = P F^T for each particle in the batch, written at tau[(i*D+j)*n + p].
  virtual void stress(Device dev, const ParticleView<T, D>& p, const MaterialBatch& batch, T* tau,
                      Status* status) const = 0;
  // Plastic return mapping on the trial F (in place on p.F and p.plastic); identity for elastic models.
  virtual void project(Device dev, T dt, const ParticleView<T, D>& p, const MaterialBatch& batch,
                       Status* status) const = 0;
  // Vector-Jacobian product of stress: with adj_tau laid out like tau, accumulates (+=) the adjoints of F, C
  // and plastic (per-particle SoA arrays laid out like p.F, p.C and p.plastic; adj_C and adj_plastic may be
  // null when not wanted) and of the parameters (adj_params: one entry per parameter in specs() order, or
  // null). Every pointer lives on `dev`. The parameter sums are deterministic on the CPU (fixed order,
  // independent of the thread count). A NaN or infinite adjoint raises kStatusNonFinite at stage
  // kStageStress. adj_params holds specs().size() + learnable_size() entries.
  virtual void stress_vjp(Device dev, const ParticleView<T, D>& p, const MaterialBatch& batch,
                          const T* adj_tau, T* adj_F, T* adj_C, T* adj_plastic, T* adj_params,
                          Status* status) const = 0;
  // Vector-Jacobian product of project: `trial` holds the trial F and the plastic state before projection;
  // from the adjoints of the projected F and plastic, accumulates (+=) those of the trial F, of plastic
  // before projection and of the parameters. Output arrays must not alias the input adjoints; adj_plastic_out
  // and adj_plastic_in may be null (no plastic adjoint), adj_params may be null. Plastic branches are
  // differentiated piecewise (docs/GRADIENTS.md). Non-finite adjoints raise kStatusNonFinite at
  // kStageProject.
  virtual void project_vjp(Device dev, T dt, const ParticleView<T, D>& trial, const MaterialBatch& batch,
                           const T* adj_F_out, const T* adj_plastic_out, T* adj_F_trial, T* adj_plastic_in,
                           T* adj_params, Status* status) const = 0;
  // Largest stable time step for this material at grid spacing dx (elastic wave speed, CFL-like bound).
  virtual T wave_speed() const = 0;
  // The stress and projection as functions of a batch of particles, for the CPU backend to run inside its
  // transfers (materials/material_lanes.h): fills `out` and returns true where offered (analytic models),
  // false otherwise (the simulator then runs the batched stages above).
  virtual bool lanes(MaterialLanes<T, D>& out) const {
    (void)out;
    return false;
  }

  // Files and options a scene names for this material: a file key (a neural material's "weights") and its
  // absolute path, or an option key (MaterialEntry::options, such as "plastic") and its value written as
  // "true", "false" or a number; options come before files. Models without such keys never receive a call.
  virtual void configure(const std::string& key, const std::string& path) {
    throw std::runtime_error(std::string(model()) + " takes no file '" + key + "' (" + path + ")");
  }
  // Learnable parameters beyond specs() (a network's weights): their number, values and replacement. The
  // vector-Jacobian products write their adjoints after the specs() entries of adj_params.
  virtual int learnable_size() const { return 0; }
  virtual std::vector<T> learnable() const { return {}; }
  virtual void set_learnable(const std::vector<T>&) {}
  // Writes the learnable parameters where configure() reads them back (a neural material's "weights" file).
  virtual void save_learnable(const std::string& path) const {
    throw std::runtime_error(std::string(model()) + " has no learnable parameters to save (" + path + ")");
  }

 protected:
  std::vector<T> values_;
};

template <class T, int D>
T Material<T, D>::value(const std::string& name) const {
  const auto& s = specs();
  for (size_t i = 0; i < s.size(); ++i)
    if (name == s[i].name) return values_[i];
  return T(0);
}

}  // namespace ductile
