// A table of named float columns, one row per point: the in-memory form of a PLY vertex element.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/state.h"

namespace ductile::io {

struct PointTable {
  std::vector<std::string> names;  // column names, in file order
  size_t count = 0;                // rows
  std::vector<float> values;       // row-major: values[row * names.size() + column]

  // The index of a column, or -1 when there is none.
  int column(const std::string& name) const {
    for (size_t k = 0; k < names.size(); ++k)
      if (names[k] == name) return int(k);
    return -1;
  }
  float at(size_t row, int col) const { return values[row * names.size() + size_t(col)]; }
};

// Particle attributes as written per frame: x y z vx vy vz (z, vz = 0 in 2D), material and object indices
// (stored as floats, exact below 2^24), J = det F. With `state` (the scene's `outputs.state`) also the whole
// particle state that teacher forcing restarts from: F00 F01 .. (F, row-major, D x D), C00 .. (the affine
// velocity), plastic (the model's scalar plastic state).
template <class T, int D>
PointTable particle_table(const State<T, D>& s, bool state = false);

}  // namespace ductile::io
