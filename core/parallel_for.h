// parallel_for on the CPU: an OpenMP loop over [0, n) with a static schedule (deterministic partition), run
// on one thread below min_parallel iterations, where waking the team would cost more than the loop.
#pragma once

#include <cstdint>

namespace ductile {

template <class Fn>
void cpu_parallel_for(int64_t n, const Fn& fn, int64_t min_parallel = 256) {
#pragma omp parallel for schedule(static) if (n >= min_parallel)
  for (int64_t i = 0; i < n; ++i) fn(i);
}

}  // namespace ductile
