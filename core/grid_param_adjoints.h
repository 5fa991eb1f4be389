// The grid update's parameter adjoints of one step (gravity, wall friction, each collider's pose, velocities
// and friction, laid out by GridParamLayout) added to a Gradients: colliders map theirs to their motion's
// parameters.
#pragma once

#include <vector>

#include "core/model.h"
#include "core/tape.h"

namespace ductile {

template <class T, int D>
void add_grid_param_adjoints(const Model<T, D>& model, const std::vector<T>& a, double time,
                             Gradients<T, D>& g) {
  using L = GridParamLayout<D>;
  for (int d = 0; d < D; ++d) g.gravity[d] += double(a[L::kGravity + d]);
  g.wall_friction += double(a[L::kWallFriction]);
  for (size_t k = 0; k < model.colliders.size(); ++k) {
    ColliderGradient& cg = g.colliders[k];
    cg.friction += double(a[L::friction(int(k))]);
    ColliderAdjoint ca;
    for (int d = 0; d < D; ++d) {
      ca.lin[d] = double(a[L::lin(int(k)) + d]), ca.t[d] = double(a[L::trans(int(k)) + d]);
      for (int e = 0; e < D; ++e) ca.R[d][e] = double(a[L::rot(int(k)) + D * d + e]);
    }
    for (int w = 0; w < L::kOmega; ++w) ca.omega[3 - L::kOmega + w] = double(a[L::omega(int(k)) + w]);
    model.colliders[k].adj_at(time, ca, cg);
  }
}

}  // namespace ductile
