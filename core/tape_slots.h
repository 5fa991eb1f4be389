// The tape's particle order: particles sorted by grid cell ("slots"), and the maps between the caller's order
// and the slots.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/grid.h"
#include "core/parallel_for.h"
#include "core/state.h"
#include "kernels/bspline.h"

namespace ductile {

// The tape keeps particles sorted by cell (x slowest) so that the transfers walk the grid coherently: slot q
// holds particle perm[q]. A field stores component k of slot q at [k * n + q].

// fn(k, q0, q1) for component k's slots [q0, q1), in chunks over the threads (a pure permutation: any
// partition gives the same result).
template <class Fn>
inline void for_slot_chunks(size_t n, size_t width, const Fn& fn) {
  constexpr size_t kChunk = size_t(1) << 14;
  const size_t chunks = (n + kChunk - 1) / kChunk;
  cpu_parallel_for(
      int64_t(width * chunks),
      [&](int64_t c) {
        const size_t k = size_t(c) / chunks, q0 = (size_t(c) % chunks) * kChunk;
        fn(k, q0, std::min(n, q0 + kChunk));
      },
      2);
}
template <class V>
inline V to_slots(const V& src, const std::vector<int32_t>& perm) {
  const size_t n = perm.size(), width = n ? src.size() / n : 0;
  V dst(src.size());
  for_slot_chunks(n, width, [&](size_t k, size_t q0, size_t q1) {
    for (size_t q = q0; q < q1; ++q) dst[k * n + q] = src[k * n + size_t(perm[q])];
  });
  return dst;
}
// The slot of each particle: slot_of[perm[q]] = q (the inverse permutation).
inline std::vector<int32_t> slots_of(const std::vector<int32_t>& perm) {
  std::vector<int32_t> slot_of(perm.size());
  cpu_parallel_for(
      int64_t(perm.size()), [&](int64_t q) { slot_of[size_t(perm[size_t(q)])] = int32_t(q); }, 1 << 14);
  return slot_of;
}
// From slots back to the caller's order as a gather through slot_of (scattered reads, writes in order: a
// scatter through perm wrote a cache line per value), each value converted to Out.
template <class Out, class In>
inline std::vector<Out> gather_from_slots(const std::vector<In>& src, const std::vector<int32_t>& slot_of) {
  const size_t n = slot_of.size(), width = n ? src.size() / n : 0;
  std::vector<Out> dst(src.size());
  for_slot_chunks(n, width, [&](size_t k, size_t p0, size_t p1) {
    for (size_t p = p0; p < p1; ++p) dst[k * n + p] = Out(src[k * n + size_t(slot_of[p])]);
  });
  return dst;
}
template <class V>
inline V from_slots(const V& src, const std::vector<int32_t>& perm) {
  return gather_from_slots<typename V::value_type>(src, slots_of(perm));
}
// Every member of State (core/state.h): the arrays mapped, the rest copied (no copy of the arrays first).
template <class T, int D, class Map>
inline State<T, D> map_state(const State<T, D>& s, const Map& map) {
  State<T, D> r;
  r.n = s.n, r.time = s.time, r.step = s.step;
  r.x = map(s.x), r.v = map(s.v), r.C = map(s.C), r.F = map(s.F), r.plastic = map(s.plastic);
  r.mass = map(s.mass), r.vol0 = map(s.vol0), r.material = map(s.material), r.object = map(s.object);
  return r;
}

// Particles ordered by the grid cell they lie in (stable: equal cells keep their order). A least-significant-
// digit radix sort of (cell, particle) pairs, 11 bits a pass and only the passes the cell count needs (two
// at G = 128): each pass is a stable counting sort, so the result is that of a stable sort by cell, in
// linear time (a comparison sort of the indices took tens of ms at 0.5 M particles).
template <class T, int D>
inline std::vector<int32_t> cell_order(const State<T, D>& s, const GridSpec<T, D>& g) {
  const size_t n = size_t(s.n);
  std::vector<int64_t> key(n), key_tmp(n);
  cpu_parallel_for(
      int64_t(n),
      [&](int64_t p) {
        int64_t k = 0;
        for (int d = 0; d < D; ++d) {
          const int c =
              std::min(std::max(floor_int((s.x[size_t(d) * n + size_t(p)] - g.origin[d]) * g.inv_dx), 0),
                       g.res[d] - 1);
          k = k * g.res[d] + c;
        }
        key[size_t(p)] = k;
      },
      1 << 14);
  std::vector<int32_t> perm(n), perm_tmp(n);
  for (size_t p = 0; p < n; ++p) perm[p] = int32_t(p);
  int64_t cells = 1;
  for (int d = 0; d < D; ++d) cells *= g.res[d];
  int bits = 0;
  while (bits < 63 && (int64_t(1) << bits) < cells) ++bits;
  constexpr int kDigit = 11;
  constexpr int64_t kRadix = int64_t(1) << kDigit;
  std::vector<size_t> start(static_cast<size_t>(kRadix));
  for (int shift = 0; shift < bits; shift += kDigit) {
    std::fill(start.begin(), start.end(), 0);
    for (size_t i = 0; i < n; ++i) ++start[size_t((key[i] >> shift) & (kRadix - 1))];
    size_t sum = 0;
    for (auto& c : start) sum += c, c = sum - c;  // exclusive prefix sums: each digit's first place
    for (size_t i = 0; i < n; ++i) {
      const size_t to = start[size_t((key[i] >> shift) & (kRadix - 1))]++;
      key_tmp[to] = key[i], perm_tmp[to] = perm[i];
    }
    key.swap(key_tmp), perm.swap(perm_tmp);
  }
  return perm;
}

}  // namespace ductile
