// First- and quasi-second-order minimizers for fitting: Adam (Kingma and Ba 2015) and L-BFGS (Nocedal and
// Wright, "Numerical Optimization", algorithm 7.4 with a backtracking Armijo line search), both projected
// onto box bounds. They work on a vector u of unknowns (fit.h maps parameters to u: log scale or linear) and
// keep their whole state in JSON so that an interrupted fit resumes where it stopped.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace ductile {

// Thrown by an objective that cannot be evaluated at u (a simulation that blows up at extreme parameters):
// the line search treats it as an infinite loss and steps back.
struct ObjectiveFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The objective: value and gradient at u.
using Objective = std::function<double(const std::vector<double>& u, std::vector<double>& grad)>;

struct OptimizerOptions {
  std::string method = "lbfgs";  // "adam" or "lbfgs"
  // Adam's step in u; the length of L-BFGS's first step (and of any step after its memory is reset)
  double learning_rate = 0.05;
  double lr_decay = 1.0;  // Adam: the step shrinks by this factor every iteration (an exponential schedule)
  int memory = 8;         // L-BFGS pairs kept
  double grad_clip = 0;   // Adam: clip the gradient to this norm (0: off)
  double max_step = 1.0;  // L-BFGS: largest change of any unknown per iteration (a trust region)
  // L-BFGS stops (converged) when the gradient's norm falls below grad_tol times its first value, or when
  // two iterations in a row lower the loss by less than rel_tol of it
  double grad_tol = 1e-9;
  double rel_tol = 1e-12;
  std::vector<double> lo, hi;  // bounds on u (empty: none)
};

// One optimizer; iterate() makes one step (several objective evaluations for L-BFGS's line search).
class Optimizer {
 public:
  explicit Optimizer(OptimizerOptions o);
  // Starts from u (projected onto the bounds); evaluates the objective there.
  void start(const std::vector<double>& u, const Objective& f);
  // One step; returns false when no further progress is possible (a line search that finds no decrease).
  bool iterate(const Objective& f);
  // After the objective changed (a longer window of observations): evaluates it at u, forgets L-BFGS's
  // curvature pairs and convergence history; Adam's moments and the iteration count stay.
  void restart(const Objective& f);
  const std::vector<double>& u() const { return u_; }
  double value() const { return f_; }
  const std::vector<double>& gradient() const { return g_; }
  int iteration() const { return iter_; }
  // Why the last iterate() returned false ("" when it did not).
  const std::string& stop_reason() const { return stop_; }
  int evaluations() const { return evals_; }
  // Adam's stability safeguard: how many steps were taken back and halved (the rollout failed there).
  int backoffs() const { return backoffs_; }
  // The whole state, and its restoration (for --resume).
  nlohmann::json save() const;
  void load(const nlohmann::json& j);

 private:
  void project(std::vector<double>& u) const;
  bool adam_step(const Objective& f);
  bool lbfgs_step(const Objective& f);
  double eval(const Objective& f, const std::vector<double>& u, std::vector<double>& g);

  OptimizerOptions o_;
  std::vector<double> u_, g_;
  double f_ = 0;
  int iter_ = 0, evals_ = 0;
  std::vector<double> m_, v_;               // Adam moments
  std::vector<std::vector<double>> s_, y_;  // L-BFGS pairs
  std::string stop_;
  double g0_ = 0;       // the first gradient's norm
  int stalled_ = 0;     // consecutive iterations below rel_tol
  double backoff_ = 1;  // Adam: factor on the step, halved at each step taken back
  int backoffs_ = 0;    // Adam: steps taken back so far
};

}  // namespace ductile
