#include "core/optimizer.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace ductile {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

Optimizer::Optimizer(OptimizerOptions o) : o_(std::move(o)) {
  if (o_.method != "adam" && o_.method != "lbfgs")
    fail("optimizer", "'" + o_.method + "': expected adam or lbfgs");
}

void Optimizer::project(std::vector<double>& u) const {
  for (size_t i = 0; i < u.size(); ++i) {
    if (i < o_.lo.size()) u[i] = std::max(u[i], o_.lo[i]);
    if (i < o_.hi.size()) u[i] = std::min(u[i], o_.hi[i]);
  }
}

double Optimizer::eval(const Objective& f, const std::vector<double>& u, std::vector<double>& g) {
  ++evals_;
  g.assign(u.size(), 0.0);
  const double v = f(u, g);
  if (!std::isfinite(v))
    fail("optimizer", "the loss is " + std::to_string(v) + " at evaluation " + std::to_string(evals_));
  for (size_t i = 0; i < g.size(); ++i)
    if (!std::isfinite(g[i]))
      fail("optimizer", "gradient entry " + std::to_string(i) + " is " + std::to_string(g[i]) +
                            " at evaluation " + std::to_string(evals_));
  return v;
}

void Optimizer::start(const std::vector<double>& u, const Objective& f) {
  u_ = u;
  project(u_);
  try {
    f_ = eval(f, u_, g_);
  } catch (const ObjectiveFailure& e) {
    fail("optimizer", std::string("the starting point cannot be evaluated: ") + e.what());
  }
  iter_ = 0;
  g0_ = std::sqrt(dot(g_, g_));
  stalled_ = 0;
  backoff_ = 1, backoffs_ = 0;
  m_.assign(u_.size(), 0.0), v_.assign(u_.size(), 0.0);
  s_.clear(), y_.clear();
}

void Optimizer::restart(const Objective& f) {
  try {
    f_ = eval(f, u_, g_);
  } catch (const ObjectiveFailure& e) {
    fail("optimizer",
         std::string("the new objective cannot be evaluated at the current values: ") + e.what());
  }
  s_.clear(), y_.clear();
  g0_ = std::sqrt(dot(g_, g_));
  stalled_ = 0;
}

bool Optimizer::iterate(const Objective& f) {
  stop_.clear();
  if (o_.method == "lbfgs" && std::sqrt(dot(g_, g_)) <= o_.grad_tol * g0_) {
    stop_ = "converged: the gradient fell below grad_tol of its first value";
    return false;
  }
  const double before = f_;
  const bool ok = o_.method == "adam" ? adam_step(f) : lbfgs_step(f);
  ++iter_;
  if (ok && o_.method == "lbfgs") {
    stalled_ = before - f_ <= o_.rel_tol * std::fabs(before) ? stalled_ + 1 : 0;
    if (stalled_ >= 2) {
      stop_ = "converged: two iterations lowered the loss by less than rel_tol of it";
      return false;
    }
  }
  return ok;
}

// Adam with bias correction; the gradient optionally clipped to a norm. Stability safeguard: a step that
// lands where the loss cannot be evaluated (an unstable law whose rollout fails) is taken back and retried at
// half the length, at most 10 times; the halving stays for later steps (backoff_, saved with the state).
bool Optimizer::adam_step(const Objective& f) {
  const double b1 = 0.9, b2 = 0.999, eps = 1e-12;
  std::vector<double> g = g_;
  const double gn = std::sqrt(dot(g, g));
  if (o_.grad_clip > 0 && gn > o_.grad_clip)
    for (double& x : g) x *= o_.grad_clip / gn;
  const int t = iter_ + 1;
  std::vector<double> dir(u_.size());
  for (size_t i = 0; i < u_.size(); ++i) {
    m_[i] = b1 * m_[i] + (1 - b1) * g[i];
    v_[i] = b2 * v_[i] + (1 - b2) * g[i] * g[i];
    const double mh = m_[i] / (1 - std::pow(b1, t)), vh = v_[i] / (1 - std::pow(b2, t));
    dir[i] = mh / (std::sqrt(vh) + eps);
  }
  const std::vector<double> u0 = u_;
  for (int halvings = 0;; ++halvings) {
    const double lr = o_.learning_rate * std::pow(o_.lr_decay, iter_) * backoff_;
    for (size_t i = 0; i < u_.size(); ++i) u_[i] = u0[i] - lr * dir[i];
    project(u_);
    try {
      f_ = eval(f, u_, g_);
      return true;
    } catch (const ObjectiveFailure& e) {
      if (halvings == 10) {
        u_ = u0;
        fail("optimizer",
             std::string("Adam stepped where the loss cannot be evaluated, also after 10 halvings "
                         "of the step (try a smaller --lr): ") +
                 e.what());
      }
      backoff_ *= 0.5;
      ++backoffs_;
    }
  }
}

// Two-loop recursion for the direction, then a projected backtracking line search (Armijo, c1 = 1e-4).
bool Optimizer::lbfgs_step(const Objective& f) {
  const size_t n = u_.size(), k = s_.size();
  std::vector<double> q = g_, alpha(k);
  for (size_t j = k; j-- > 0;) {
    alpha[j] = dot(s_[j], q) / dot(y_[j], s_[j]);
    for (size_t i = 0; i < n; ++i) q[i] -= alpha[j] * y_[j][i];
  }
  // initial Hessian scaling gamma = s.y / y.y; the first step is limited by the learning rate
  double gamma = 1;
  if (k)
    gamma = dot(s_[k - 1], y_[k - 1]) / dot(y_[k - 1], y_[k - 1]);
  else
    gamma = o_.learning_rate / std::max(std::sqrt(dot(g_, g_)), 1e-300);
  for (double& x : q) x *= gamma;
  for (size_t j = 0; j < k; ++j) {
    const double beta = dot(y_[j], q) / dot(y_[j], s_[j]);
    for (size_t i = 0; i < n; ++i) q[i] += s_[j][i] * (alpha[j] - beta);
  }
  std::vector<double> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = -q[i];
  if (dot(d, g_) >= 0) {  // not a descent direction: forget the curvature pairs, take the scaled gradient
    s_.clear(), y_.clear();
    const double sc = o_.learning_rate / std::max(std::sqrt(dot(g_, g_)), 1e-300);
    for (size_t i = 0; i < n; ++i) d[i] = -sc * g_[i];
  }
  // at most max_step in any unknown, then backtracking on the projected path
  double dmax = 0;
  for (double x : d) dmax = std::max(dmax, std::fabs(x));
  double step = dmax > o_.max_step ? o_.max_step / dmax : 1.0;
  std::vector<double> un(n), gn;
  for (int tries = 0; tries < 30; ++tries, step *= 0.5) {
    for (size_t i = 0; i < n; ++i) un[i] = u_[i] + step * d[i];
    project(un);
    std::vector<double> du(n);
    for (size_t i = 0; i < n; ++i) du[i] = un[i] - u_[i];
    if (dot(du, du) == 0) {
      stop_ = "the step no longer changes the unknowns (converged, or held by the bounds)";
      return false;
    }
    double fn;
    try {
      fn = eval(f, un, gn);
    } catch (const ObjectiveFailure& e) {
      stop_ = e.what();  // treated as an infinite loss: step back
      continue;
    }
    if (fn <= f_ + 1e-4 * dot(g_, du)) {
      std::vector<double> y(n);
      for (size_t i = 0; i < n; ++i) y[i] = gn[i] - g_[i];
      if (dot(du, y) > 1e-12 * std::sqrt(dot(du, du) * dot(y, y))) {  // keep pairs with positive curvature
        s_.push_back(du), y_.push_back(y);
        if (int(s_.size()) > o_.memory) s_.erase(s_.begin()), y_.erase(y_.begin());
      }
      u_ = un, g_ = gn, f_ = fn;
      return true;
    }
  }
  if (stop_.empty()) stop_ = "no decrease of the loss along the search direction in 30 halvings";
  return false;
}

nlohmann::json Optimizer::save() const {
  return {{"method", o_.method},
          {"u", u_},
          {"gradient", g_},
          {"value", f_},
          {"iteration", iter_},
          {"evaluations", evals_},
          {"m", m_},
          {"v", v_},
          {"s", s_},
          {"y", y_},
          {"g0", g0_},
          {"stalled", stalled_},
          {"backoff", backoff_},
          {"backoffs", backoffs_}};
}

void Optimizer::load(const nlohmann::json& j) {
  if (j.at("method").get<std::string>() != o_.method)
    fail("resume", "the saved fit used " + j.at("method").get<std::string>() + ", this one " + o_.method);
  u_ = j.at("u").get<std::vector<double>>();
  g_ = j.at("gradient").get<std::vector<double>>();
  f_ = j.at("value").get<double>();
  iter_ = j.at("iteration").get<int>();
  evals_ = j.at("evaluations").get<int>();
  m_ = j.at("m").get<std::vector<double>>();
  v_ = j.at("v").get<std::vector<double>>();
  s_ = j.at("s").get<std::vector<std::vector<double>>>();
  y_ = j.at("y").get<std::vector<std::vector<double>>>();
  g0_ = j.at("g0").get<double>();
  stalled_ = j.at("stalled").get<int>();
  backoff_ = j.value("backoff", 1.0);  // states saved before the safeguard existed
  backoffs_ = j.value("backoffs", 0);
}

}  // namespace ductile
