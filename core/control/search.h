// Gradient-free baselines for controller training: (1+1) random search with the 1/5th success rule
// (Rechenberg 1973) and CMA-ES (Hansen, "The CMA Evolution Strategy: A Tutorial", 2016). They propose
// candidates generation by generation with a random stream seeded by the generation's number, so that a run
// resumed from a saved state proposes exactly what the uninterrupted run would have.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ductile {

class Search {
 public:
  virtual ~Search() = default;
  // The candidates of the current generation.
  virtual std::vector<std::vector<double>> ask() = 0;
  // Their losses, in the order ask() gave them; ends the generation.
  virtual void tell(const std::vector<double>& losses) = 0;
  const std::vector<double>& best() const { return best_; }
  double best_value() const { return best_f_; }
  int generation() const { return generation_; }
  virtual nlohmann::json save() const = 0;
  virtual void load(const nlohmann::json& j) = 0;

  // "random" or "cmaes", starting at u0 with step size sigma (in the unknowns' units).
  static std::unique_ptr<Search> make(const std::string& method, const std::vector<double>& u0, double sigma,
                                      uint64_t seed);

 protected:
  std::vector<double> best_;
  double best_f_ = 1e300;
  int generation_ = 0;
  uint64_t seed_ = 0;
};

}  // namespace ductile
