// The tape's particle order: particles sorted by grid cell ("slots"), and the maps between the caller's order
// and the slots.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/grid.h"
#include "core/state.h"
#include "kernels/bspline.h"

namespace ductile {

// The tape keeps particles sorted by cell (x slowest) so that the transfers walk the grid coherently: slot q
// holds particle perm[q]. A field stores component k of slot q at [k * n + q].
template <class V>
inline V to_slots(const V& src, const std::vector<int32_t>& perm) {
  const size_t n = perm.size(), width = n ? src.size() / n : 0;
  V dst(src.size());
  for (size_t k = 0; k < width; ++k)
    for (size_t q = 0; q < n; ++q) dst[k * n + q] = src[k * n + size_t(perm[q])];
  return dst;
}
template <class V>
inline V from_slots(const V& src, const std::vector<int32_t>& perm) {
  const size_t n = perm.size(), width = n ? src.size() / n : 0;
  V dst(src.size());
  for (size_t k = 0; k < width; ++k)
    for (size_t q = 0; q < n; ++q) dst[k * n + size_t(perm[q])] = src[k * n + q];
  return dst;
}
template <class T, int D, class Map>
inline State<T, D> map_state(const State<T, D>& s, const Map& map) {
  State<T, D> r = s;
  r.x = map(s.x), r.v = map(s.v), r.C = map(s.C), r.F = map(s.F), r.plastic = map(s.plastic);
  r.mass = map(s.mass), r.vol0 = map(s.vol0), r.material = map(s.material), r.object = map(s.object);
  return r;
}

// Particles ordered by the grid cell they lie in (stable).
template <class T, int D>
inline std::vector<int32_t> cell_order(const State<T, D>& s, const GridSpec<T, D>& g) {
  std::vector<int64_t> key(size_t(s.n));
  for (int p = 0; p < s.n; ++p) {
    int64_t k = 0;
    for (int d = 0; d < D; ++d) {
      const int c =
          std::min(std::max(floor_int((s.x[size_t(d) * s.n + p] - g.origin[d]) * g.inv_dx), 0), g.res[d] - 1);
      k = k * g.res[d] + c;
    }
    key[size_t(p)] = k;
  }
  std::vector<int32_t> perm(size_t(s.n));
  for (int p = 0; p < s.n; ++p) perm[size_t(p)] = p;
  std::stable_sort(perm.begin(), perm.end(),
                   [&](int32_t a, int32_t b) { return key[size_t(a)] < key[size_t(b)]; });
  return perm;
}

}  // namespace ductile
