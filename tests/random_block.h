// A block of random particles for the kernel tests, the same on every platform: positions uniform in
// [lo, lo + size)^D and velocities uniform in [-vmax, vmax) from Knuth's MMIX linear congruential generator,
// volume (dx / 2)^D, mass density * volume (times 1 + jitter (p mod period) when period > 0: distinct masses
// catch a lost permutation).
#pragma once

#include <cstdint>

#include "core/state.h"

namespace ductile::test {

template <class T>
struct RandomBlock {
  int n = 0;
  uint64_t seed = 1;
  T lo = T(0.2), size = T(0.3), vmax = T(1), density = T(1000);
  int mass_period = 0;
  T mass_jitter = T(0);
};

template <class T, int D>
void fill_random_block(State<T, D>& state, T dx, const RandomBlock<T>& b) {
  const int n = b.n;
  state.resize(n);
  uint64_t seed = b.seed;
  auto uniform = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return T(seed >> 40) * T(1.0 / 16777216.0);
  };
  const T vol = D == 3 ? dx * dx * dx / 8 : dx * dx / 4;
  const T vspan = T(2) * b.vmax;
  for (int p = 0; p < n; ++p) {
    for (int d = 0; d < D; ++d) state.x[size_t(d) * n + p] = b.lo + b.size * uniform();
    for (int d = 0; d < D; ++d) state.v[size_t(d) * n + p] = vspan * uniform() - b.vmax;
    state.vol0[p] = vol;
    state.mass[p] =
        b.mass_period > 0 ? b.density * vol * (1 + b.mass_jitter * T(p % b.mass_period)) : b.density * vol;
  }
}

}  // namespace ductile::test
