// Fitting named scene parameters to a loss: each scalar entry becomes an unknown u (log scale or linear,
// with bounds), and the objective runs the gradient tape (docs/FITTING.md).
#pragma once

#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/parameters.h"
#include "core/tape.h"
#include "core/teacher_forcing.h"

namespace ductile {

// "NAME[:SCALE[:MIN:MAX]]" with SCALE log, linear or auto (default: log for positive material parameters,
// linear otherwise) and MIN, MAX the bounds in the parameter's units (default: a material parameter's
// admissible range, else none).
struct FitParameterSpec {
  std::string name;
  std::string scale = "auto";
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();
  static FitParameterSpec parse(const std::string& text, const std::string& where);
};

template <class T, int D>
class Fit {
 public:
  Fit(SceneData<T, D>& data, const std::vector<FitParameterSpec>& specs,
      std::vector<const Loss<T, D>*> losses, int64_t steps, Device device, CheckpointPolicy policy);

  // One unknown per scalar entry: "materials/jelly/E", "gravity[1]".
  const std::vector<std::string>& names() const { return names_; }
  bool log_scale(size_t k) const { return log_[k]; }
  // The unknowns of the scene's current values, and their bounds.
  std::vector<double> u_now() const;
  const std::vector<double>& lo() const { return lo_; }
  const std::vector<double>& hi() const { return hi_; }
  // Parameter values of unknowns u.
  std::vector<double> values(const std::vector<double>& u) const;
  // Sets u into the scene, runs forward and backward; returns the loss and d loss / du in grad.
  double objective(const std::vector<double>& u, std::vector<double>& grad);
  // The scene document with the values of u written at their JSON pointers; `skipped` gets the names that
  // have no place in a scene file (collider positions, particle arrays).
  nlohmann::json fitted_scene(const nlohmann::json& doc, const std::vector<double>& u,
                              std::vector<std::string>& skipped) const;
  const TapeStats& last_stats() const { return stats_; }
  // Replaces the losses and the number of steps each evaluation runs (a growing window of observations).
  void set_losses(std::vector<const Loss<T, D>*> losses, int64_t steps) {
    losses_ = std::move(losses);
    steps_ = steps;
  }
  // Teacher forcing: each evaluation runs these windows instead (each from its start state, with its own
  // losses) and sums their losses and gradients; null: the losses of set_losses from the scene's state.
  // Windows whose F is not observed start from F, C and plastic of the model's own run to their frame.
  void set_windows(const std::vector<TeacherWindow<T, D>>* windows) { windows_ = windows; }
  // Sets the values of u into the scene (objective() does this before each run).
  void apply(const std::vector<double>& u);

 private:
  SceneData<T, D>& data_;
  std::vector<const Loss<T, D>*> losses_;
  int64_t steps_;
  Device device_;
  CheckpointPolicy policy_;
  std::vector<Parameter<T, D>> params_;
  std::vector<int> param_of_, entry_of_;
  std::vector<std::string> names_;
  std::vector<bool> log_;
  std::vector<double> scale_, lo_, hi_;
  TapeStats stats_;
  const std::vector<TeacherWindow<T, D>>* windows_ = nullptr;
  // The windows' loss and d loss / d parameters (per unknown), at the values already applied.
  double run_windows(std::vector<double>& grad);
};

}  // namespace ductile
