// parallel_for on the CPU: an OpenMP loop over [0, n) with a static schedule (deterministic partition).
#pragma once

#include <cstdint>

namespace ductile {

template <class Fn>
void cpu_parallel_for(int64_t n, const Fn& fn) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) fn(i);
}

}  // namespace ductile
