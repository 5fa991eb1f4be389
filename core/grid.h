// The background grid: node positions, sizes and SoA storage views.
#pragma once

#include <cstdint>

#include "core/math.h"

namespace ductile {

// Geometry of a dense grid whose node (i, j, k) sits at origin + (i, j, k) * dx.
template <class T, int D>
struct GridSpec {
  Vec<T, D> origin;  // position of node 0 [m]
  T dx = 0;          // node spacing [m]
  T inv_dx = 0;
  int res[D] = {};  // nodes per axis

  DUCTILE_HD int64_t num_nodes() const {
    int64_t n = 1;
    for (int d = 0; d < D; ++d) n *= res[d];
    return n;
  }
  // Linear index with the last axis fastest.
  DUCTILE_HD int64_t index(const int* c) const {
    int64_t i = c[0];
    for (int d = 1; d < D; ++d) i = i * res[d] + c[d];
    return i;
  }
  DUCTILE_HD Vec<T, D> node_position(const int* c) const {
    Vec<T, D> r;
    for (int d = 0; d < D; ++d) r[d] = origin[d] + T(c[d]) * dx;
    return r;
  }
};

// Grid storage on one device: mass and momentum (then velocity) per node, component d at [d * nodes + i].
template <class T, int D>
struct GridView {
  GridSpec<T, D> spec;
  T* mass = nullptr;  // [kg]
  T* mv = nullptr;    // momentum during P2G, velocity after the grid update; D components
};

}  // namespace ductile
