// The status word kernels write instead of throwing: fault bits plus the lowest offending particle index.
#pragma once

#include <cstdint>

#include "core/hd.h"

namespace ductile {

enum StatusBit : uint32_t {
  kStatusNonFinite = 1u << 0,    // NaN or infinity in a particle quantity
  kStatusOutOfDomain = 1u << 1,  // a particle left the simulation domain
  kStatusInverted = 1u << 2,     // det F <= 0
  // the CUDA backend's sparse grid had fewer blocks than the step claimed (set by the host after the step):
  // the pool grew and the simulator runs the step again
  kStatusGridFull = 1u << 3,
};

// Stages of a step, in order; the host names the first one that raised a bit.
enum Stage : uint32_t { kStageStress = 0, kStageP2G = 1, kStageGrid = 2, kStageG2P = 3, kStageProject = 4 };
inline const char* stage_name(uint32_t s) {
  static const char* names[] = {"stress", "p2g", "grid_update", "g2p", "plastic_projection"};
  return s < 5 ? names[s] : "unknown";
}

struct Status {
  uint32_t bits = 0;
  int32_t particle = 0x7fffffff;  // lowest particle index that raised a bit
  uint32_t stages = 0;            // bit s set when stage s raised
  // lowest particle index per stage: a NaN raised in one stage spreads through the grid to other particles
  // in later stages, so the diagnosis names the particle of the first stage that raised
  int32_t stage_particle[5] = {0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff};
};

// Lowest of *p and v (atomic on both targets).
DUCTILE_HD DUCTILE_INLINE void atomic_min_i32(int32_t* p, int32_t v) {
#if defined(__CUDA_ARCH__)
  atomicMin(p, v);
#else
  int32_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (v < cur && !__atomic_compare_exchange_n(p, &cur, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
#endif
}

// Raises a bit from any thread (atomic on both targets).
DUCTILE_HD DUCTILE_INLINE void raise_status(Status* s, uint32_t bit, int32_t particle, uint32_t stage) {
#if defined(__CUDA_ARCH__)
  atomicOr(&s->bits, bit);
  atomicOr(&s->stages, 1u << stage);
#else
  __atomic_fetch_or(&s->bits, bit, __ATOMIC_RELAXED);
  __atomic_fetch_or(&s->stages, 1u << stage, __ATOMIC_RELAXED);
#endif
  atomic_min_i32(&s->particle, particle);
  if (stage < 5) atomic_min_i32(&s->stage_particle[stage], particle);
}

}  // namespace ductile
