// Random search and CMA-ES (see search.h).
#include "core/control/search.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/error.h"

namespace ductile {

namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// Standard normal samples of one generation's stream.
VectorXd normal(uint64_t seed, int generation, int index, int n) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + uint64_t(generation) * 1000003ull + uint64_t(index));
  std::normal_distribution<double> z(0.0, 1.0);
  VectorXd v(n);
  for (int i = 0; i < n; ++i) v[i] = z(rng);
  return v;
}

std::vector<double> to_std(const VectorXd& v) {
  return std::vector<double>(v.data(), v.data() + v.size());
}
VectorXd to_eigen(const std::vector<double>& v) {
  return Eigen::Map<const VectorXd>(v.data(), Eigen::Index(v.size()));
}

// (1+1)-ES: one candidate x + sigma z per generation; sigma grows by e^(1/3) after a success and shrinks by
// e^(-1/12) after a failure, which holds the success rate near 1/5.
class RandomSearch final : public Search {
 public:
  RandomSearch(const std::vector<double>& u0, double sigma, uint64_t seed) : sigma_(sigma) {
    best_ = u0, seed_ = seed;
  }
  std::vector<std::vector<double>> ask() override {
    // generation 0 evaluates the start itself
    if (generation_ == 0) return {best_};
    const VectorXd x = to_eigen(best_) + sigma_ * normal(seed_, generation_, 0, int(best_.size()));
    return {to_std(x)};
  }
  void tell(const std::vector<double>& f) override {
    const std::vector<double> c = ask()[0];
    if (generation_ == 0 || f[0] < best_f_) {
      if (generation_ > 0) sigma_ *= std::exp(1.0 / 3);
      best_ = c, best_f_ = f[0];
    } else {
      sigma_ *= std::exp(-1.0 / 12);
    }
    ++generation_;
  }
  nlohmann::json save() const override {
    return {{"method", "random"},        {"best", best_}, {"best_value", best_f_}, {"sigma", sigma_},
            {"generation", generation_}, {"seed", seed_}};
  }
  void load(const nlohmann::json& j) override {
    best_ = j.at("best").get<std::vector<double>>(), best_f_ = j.at("best_value").get<double>();
    sigma_ = j.at("sigma").get<double>(), generation_ = j.at("generation").get<int>();
    seed_ = j.at("seed").get<uint64_t>();
  }

 private:
  double sigma_;
};

// CMA-ES with the default population lambda = 4 + floor(3 ln n), weighted recombination of the best
// mu = lambda / 2, cumulative step-size adaptation and rank-one plus rank-mu covariance updates.
class CmaEs final : public Search {
 public:
  CmaEs(const std::vector<double>& u0, double sigma, uint64_t seed) : n_(int(u0.size())), sigma_(sigma) {
    seed_ = seed;
    mean_ = to_eigen(u0);
    best_ = u0;
    lambda_ = 4 + int(std::floor(3 * std::log(double(n_))));
    mu_ = lambda_ / 2;
    w_.resize(mu_);
    for (int i = 0; i < mu_; ++i) w_[i] = std::log(mu_ + 0.5) - std::log(i + 1.0);
    w_ /= w_.sum();
    mueff_ = 1.0 / w_.squaredNorm();
    const double n = n_;
    cc_ = (4 + mueff_ / n) / (n + 4 + 2 * mueff_ / n);
    cs_ = (mueff_ + 2) / (n + mueff_ + 5);
    c1_ = 2 / ((n + 1.3) * (n + 1.3) + mueff_);
    cmu_ = std::min(1 - c1_, 2 * (mueff_ - 2 + 1 / mueff_) / ((n + 2) * (n + 2) + mueff_));
    damps_ = 1 + 2 * std::max(0.0, std::sqrt((mueff_ - 1) / (n + 1)) - 1) + cs_;
    chin_ = std::sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
    C_ = MatrixXd::Identity(n_, n_);
    pc_ = ps_ = VectorXd::Zero(n_);
  }
  std::vector<std::vector<double>> ask() override {
    // x_k = m + sigma B D z_k with C = B D^2 B^T
    Eigen::SelfAdjointEigenSolver<MatrixXd> es(C_);
    const MatrixXd BD = es.eigenvectors() * es.eigenvalues().cwiseMax(0).cwiseSqrt().asDiagonal();
    std::vector<std::vector<double>> xs;
    for (int k = 0; k < lambda_; ++k)
      xs.push_back(to_std(mean_ + sigma_ * BD * normal(seed_, generation_, k, n_)));
    return xs;
  }
  void tell(const std::vector<double>& f) override {
    const std::vector<std::vector<double>> xs = ask();
    std::vector<int> order(static_cast<size_t>(lambda_));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return f[size_t(a)] < f[size_t(b)]; });
    if (f[size_t(order[0])] < best_f_) best_f_ = f[size_t(order[0])], best_ = xs[size_t(order[0])];
    // recombination
    const VectorXd old = mean_;
    mean_.setZero();
    for (int i = 0; i < mu_; ++i) mean_ += w_[i] * to_eigen(xs[size_t(order[size_t(i)])]);
    const VectorXd y = (mean_ - old) / sigma_;
    // evolution paths (C^-1/2 from the eigen decomposition)
    Eigen::SelfAdjointEigenSolver<MatrixXd> es(C_);
    const VectorXd d = es.eigenvalues().cwiseMax(1e-300).cwiseSqrt();
    const MatrixXd invsqrt =
        es.eigenvectors() * d.cwiseInverse().asDiagonal() * es.eigenvectors().transpose();
    ps_ = (1 - cs_) * ps_ + std::sqrt(cs_ * (2 - cs_) * mueff_) * invsqrt * y;
    const double n = n_;
    const bool hsig =
        ps_.norm() / std::sqrt(1 - std::pow(1 - cs_, 2.0 * (generation_ + 1))) / chin_ < 1.4 + 2 / (n + 1);
    pc_ = (1 - cc_) * pc_ + (hsig ? std::sqrt(cc_ * (2 - cc_) * mueff_) : 0.0) * y;
    // covariance: rank-one and rank-mu updates
    MatrixXd rank_mu = MatrixXd::Zero(n_, n_);
    for (int i = 0; i < mu_; ++i) {
      const VectorXd yi = (to_eigen(xs[size_t(order[size_t(i)])]) - old) / sigma_;
      rank_mu += w_[i] * yi * yi.transpose();
    }
    C_ = (1 - c1_ - cmu_) * C_ + c1_ * (pc_ * pc_.transpose() + (hsig ? 0.0 : cc_ * (2 - cc_)) * C_) +
         cmu_ * rank_mu;
    C_ = 0.5 * (C_ + C_.transpose());
    sigma_ *= std::exp((cs_ / damps_) * (ps_.norm() / chin_ - 1));
    ++generation_;
  }
  nlohmann::json save() const override {
    return {{"method", "cmaes"},         {"best", best_},
            {"best_value", best_f_},     {"sigma", sigma_},
            {"generation", generation_}, {"seed", seed_},
            {"mean", to_std(mean_)},     {"pc", to_std(pc_)},
            {"ps", to_std(ps_)},         {"C", std::vector<double>(C_.data(), C_.data() + C_.size())}};
  }
  void load(const nlohmann::json& j) override {
    best_ = j.at("best").get<std::vector<double>>(), best_f_ = j.at("best_value").get<double>();
    sigma_ = j.at("sigma").get<double>(), generation_ = j.at("generation").get<int>();
    seed_ = j.at("seed").get<uint64_t>();
    mean_ = to_eigen(j.at("mean").get<std::vector<double>>());
    pc_ = to_eigen(j.at("pc").get<std::vector<double>>());
    ps_ = to_eigen(j.at("ps").get<std::vector<double>>());
    const std::vector<double> c = j.at("C").get<std::vector<double>>();
    C_ = Eigen::Map<const MatrixXd>(c.data(), n_, n_);
  }

 private:
  int n_, lambda_, mu_;
  double sigma_, mueff_, cc_, cs_, c1_, cmu_, damps_, chin_;
  VectorXd w_, mean_, pc_, ps_;
  MatrixXd C_;
};

}  // namespace

std::unique_ptr<Search> Search::make(const std::string& method, const std::vector<double>& u0, double sigma,
                                     uint64_t seed) {
  if (u0.empty()) fail("search", "nothing to optimize");
  if (method == "random") return std::make_unique<RandomSearch>(u0, sigma, seed);
  if (method == "cmaes") return std::make_unique<CmaEs>(u0, sigma, seed);
  fail("--method", "unknown method '" + method + "' (adam, random or cmaes)");
}

}  // namespace ductile
