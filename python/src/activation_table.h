// The activations of ductile.rollout(actuation=...): an open-loop controller whose parameters are the table
// a[t][k] (step t, actuator k) itself, so that the tape's controller gradient is d loss / d a.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/control/controller.h"
#include "core/error.h"

namespace ductile::python {

class ActivationTable final : public Controller {
 public:
  // table: [steps][actuators], row-major.
  ActivationTable(int actuators, int64_t steps, std::vector<double> table)
      : steps_(steps), table_(std::move(table)) {
    actuators_ = actuators;
    if (table_.size() != size_t(steps) * size_t(actuators))
      fail("actuation", "expected " + std::to_string(steps) + " x " + std::to_string(actuators) + " values");
  }
  std::string type() const override { return "table"; }
  int size() const override { return int(table_.size()); }
  std::vector<double> parameters() const override { return table_; }
  void set_parameters(const std::vector<double>& p) override { table_ = p; }

  void act(const Observation& o, double* a) const override {
    const double* row = table_.data() + size_t(row_of(o.step)) * actuators_;
    std::copy(row, row + actuators_, a);
  }
  void act_vjp(const Observation& o, const double* adj_a, double* adj_params, Observation&) const override {
    double* row = adj_params + size_t(row_of(o.step)) * actuators_;
    for (int k = 0; k < actuators_; ++k) row[k] += adj_a[k];
  }

 private:
  int64_t row_of(int64_t step) const {
    if (step < 0 || step >= steps_)
      fail("actuation",
           "step " + std::to_string(step) + " lies outside the table's " + std::to_string(steps_));
    return step;
  }

  int64_t steps_;
  std::vector<double> table_;
};

}  // namespace ductile::python
