#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/loss.h"

namespace ductile {

namespace {

// The selection, or every particle when it is empty.
std::vector<int32_t> selection(const std::vector<int32_t>& particles, int n) {
  if (!particles.empty()) return particles;
  std::vector<int32_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  return all;
}

template <class T, int D>
class PositionLoss final : public Loss<T, D> {
 public:
  PositionLoss(int64_t step, std::vector<int32_t> p, std::vector<double> y, double w)
      : step_(step), particles_(std::move(p)), target_(std::move(y)), weight_(w) {}
  std::string name() const override { return "positions at step " + std::to_string(step_); }
  std::vector<int64_t> steps() const override { return {step_}; }
  double evaluate(int64_t, const State<T, D>& s, std::vector<double>& adj_x,
                  std::vector<double>&) const override {
    const auto sel = selection(particles_, s.n);
    const size_t m = sel.size();
    if (target_.size() != m * D)
      fail("loss", name() + ": " + std::to_string(target_.size() / D) + " target points for " +
                       std::to_string(m) + " particles");
    // (w / m) sum |x - y|^2 and its gradient 2 w (x - y) / m
    double sum = 0;
    const double k = weight_ / double(m);
    for (size_t j = 0; j < m; ++j)
      for (int d = 0; d < D; ++d) {
        const size_t i = size_t(d) * s.n + sel[j];
        const double r = double(s.x[i]) - target_[j * D + d];
        sum += r * r;
        adj_x[i] += 2 * k * r;
      }
    return k * sum;
  }

 private:
  int64_t step_;
  std::vector<int32_t> particles_;
  std::vector<double> target_;
  double weight_;
};

template <class T, int D>
class ChamferLoss final : public Loss<T, D> {
 public:
  ChamferLoss(int64_t step, std::vector<int32_t> p, std::vector<double> y, double w)
      : step_(step), particles_(std::move(p)), target_(std::move(y)), weight_(w) {
    if (target_.empty() || target_.size() % D) fail("loss", "chamfer: the target point cloud is empty");
  }
  std::string name() const override { return "chamfer distance at step " + std::to_string(step_); }
  std::vector<int64_t> steps() const override { return {step_}; }
  double evaluate(int64_t, const State<T, D>& s, std::vector<double>& adj_x,
                  std::vector<double>&) const override {
    const auto sel = selection(particles_, s.n);
    const size_t nx = sel.size(), ny = target_.size() / D;
    auto px = [&](size_t j, int d) { return double(s.x[size_t(d) * s.n + sel[j]]); };
    auto py = [&](size_t k, int d) { return target_[k * D + d]; };  // target: D values per point (AoS)
    auto dist2 = [&](size_t j, size_t k) {
      double r = 0;
      for (int d = 0; d < D; ++d) r += (px(j, d) - py(k, d)) * (px(j, d) - py(k, d));
      return r;
    };
    // nearest target of every particle and nearest particle of every target (brute force, in parallel)
    std::vector<size_t> near_y(nx), near_x(ny);
#pragma omp parallel for schedule(static) if (nx * ny >= 100000)
    for (int64_t j = 0; j < int64_t(nx); ++j) {
      double best = std::numeric_limits<double>::infinity();
      for (size_t k = 0; k < ny; ++k)
        if (double r = dist2(size_t(j), k); r < best) best = r, near_y[j] = k;
    }
#pragma omp parallel for schedule(static) if (nx * ny >= 100000)
    for (int64_t k = 0; k < int64_t(ny); ++k) {
      double best = std::numeric_limits<double>::infinity();
      for (size_t j = 0; j < nx; ++j)
        if (double r = dist2(j, size_t(k)); r < best) best = r, near_x[k] = j;
    }
    double a = 0, b = 0;
    const double ka = weight_ / double(nx), kb = weight_ / double(ny);
    for (size_t j = 0; j < nx; ++j) {
      a += dist2(j, near_y[j]);
      for (int d = 0; d < D; ++d) adj_x[size_t(d) * s.n + sel[j]] += 2 * ka * (px(j, d) - py(near_y[j], d));
    }
    for (size_t k = 0; k < ny; ++k) {
      b += dist2(near_x[k], k);
      for (int d = 0; d < D; ++d)
        adj_x[size_t(d) * s.n + sel[near_x[k]]] += 2 * kb * (px(near_x[k], d) - py(k, d));
    }
    return ka * a + kb * b;
  }

 private:
  int64_t step_;
  std::vector<int32_t> particles_;
  std::vector<double> target_;
  double weight_;
};

template <class T, int D>
class CenterOfMassLoss final : public Loss<T, D> {
 public:
  CenterOfMassLoss(int64_t step, std::vector<int32_t> p, const CenterOfMassSpec& spec, double w)
      : step_(step), particles_(std::move(p)), spec_(spec), weight_(w) {}
  std::string name() const override {
    return std::string("centre of mass ") + (spec_.velocity ? "velocity" : "position") + " at step " +
           std::to_string(step_);
  }
  std::vector<int64_t> steps() const override { return {step_}; }
  double evaluate(int64_t, const State<T, D>& s, std::vector<double>& adj_x,
                  std::vector<double>& adj_v) const override {
    const auto sel = selection(particles_, s.n);
    const std::vector<T>& q = spec_.velocity ? s.v : s.x;
    std::vector<double>& adj = spec_.velocity ? adj_v : adj_x;
    double M = 0, c[D] = {};
    for (int32_t p : sel) M += double(s.mass[p]);
    if (!(M > 0)) fail("loss", name() + ": the selected particles have no mass");
    for (int32_t p : sel)
      for (int d = 0; d < D; ++d) c[d] += double(s.mass[p]) * double(q[size_t(d) * s.n + p]) / M;
    // dL/dc, then dc/dq_p = m_p / M
    double g[D], value = 0;
    for (int d = 0; d < D; ++d) {
      if (spec_.has_target) {
        const double r = c[d] - spec_.target[d];
        value += r * r;
        g[d] = 2 * r;
      } else {
        value += spec_.direction[d] * c[d];
        g[d] = spec_.direction[d];
      }
    }
    for (int32_t p : sel)
      for (int d = 0; d < D; ++d) adj[size_t(d) * s.n + p] += weight_ * g[d] * double(s.mass[p]) / M;
    return weight_ * value;
  }
  // c = sum m_p q_p / M: dc/dm_p = (q_p - c) / M
  void mass_gradient(int64_t, const State<T, D>& s, std::vector<double>& adj_mass) const override {
    const auto sel = selection(particles_, s.n);
    const std::vector<T>& q = spec_.velocity ? s.v : s.x;
    double M = 0, c[D] = {};
    for (int32_t p : sel) M += double(s.mass[p]);
    for (int32_t p : sel)
      for (int d = 0; d < D; ++d) c[d] += double(s.mass[p]) * double(q[size_t(d) * s.n + p]) / M;
    for (int32_t p : sel)
      for (int d = 0; d < D; ++d) {
        const double g = spec_.has_target ? 2 * (c[d] - spec_.target[d]) : spec_.direction[d];
        adj_mass[size_t(p)] += weight_ * g * (double(q[size_t(d) * s.n + p]) - c[d]) / M;
      }
  }

 private:
  int64_t step_;
  std::vector<int32_t> particles_;
  CenterOfMassSpec spec_;
  double weight_;
};

}  // namespace

template <class T, int D>
std::unique_ptr<Loss<T, D>> make_position_loss(int64_t step, std::vector<int32_t> particles,
                                               std::vector<double> target, double weight) {
  return std::make_unique<PositionLoss<T, D>>(step, std::move(particles), std::move(target), weight);
}
template <class T, int D>
std::unique_ptr<Loss<T, D>> make_chamfer_loss(int64_t step, std::vector<int32_t> particles,
                                              std::vector<double> target, double weight) {
  return std::make_unique<ChamferLoss<T, D>>(step, std::move(particles), std::move(target), weight);
}
template <class T, int D>
std::unique_ptr<Loss<T, D>> make_center_of_mass_loss(int64_t step, std::vector<int32_t> particles,
                                                     const CenterOfMassSpec& spec, double weight) {
  return std::make_unique<CenterOfMassLoss<T, D>>(step, std::move(particles), spec, weight);
}

#define DUCTILE_INSTANTIATE_LOSSES(T, D)                                                             \
  template std::unique_ptr<Loss<T, D>> make_position_loss<T, D>(int64_t, std::vector<int32_t>,       \
                                                                std::vector<double>, double);        \
  template std::unique_ptr<Loss<T, D>> make_chamfer_loss<T, D>(int64_t, std::vector<int32_t>,        \
                                                               std::vector<double>, double);         \
  template std::unique_ptr<Loss<T, D>> make_center_of_mass_loss<T, D>(int64_t, std::vector<int32_t>, \
                                                                      const CenterOfMassSpec&, double);
DUCTILE_INSTANTIATE_LOSSES(float, 2)
DUCTILE_INSTANTIATE_LOSSES(float, 3)
DUCTILE_INSTANTIATE_LOSSES(double, 2)
DUCTILE_INSTANTIATE_LOSSES(double, 3)

}  // namespace ductile
