// Von Mises stress of particles from frames that carry their state (outputs.state: columns F00.., plastic):
// each particle's material (rebuilt from the run's scene) gives its Kirchhoff stress tau(F, plastic).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/io/point_table.h"
#include "core/scene.h"

namespace ductile::render {

class StressEvaluator {
 public:
  // The scene's materials with their parameters (as build_scene makes them).
  explicit StressEvaluator(const SceneDocument& doc);
  ~StressEvaluator();
  // Per row of `t`: the von Mises equivalent of the Cauchy stress sigma = tau / det F [Pa],
  // sqrt(3/2 s:s) with s = sigma - tr(sigma)/3 I (2D: the in-plane tensor, tr/2). Throws Error naming `name`
  // when the table lacks F00.. or material columns.
  std::vector<double> von_mises(const io::PointTable& t, const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ductile::render
