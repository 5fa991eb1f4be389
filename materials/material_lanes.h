// A material evaluated across a batch of particles inside the CPU backend's transfers (kernels/cpu_rows.h):
// the Kirchhoff stress in the P2G batch and the plastic projection in the G2P batch. A step then reads the
// particles twice instead of four times and the stress never goes through memory. Analytic materials offer
// it (materials/analytic.h); the per-particle functions are the ones Material::stress and Material::project
// run, compiled the same way, so the results are bit-identical to the separate stages.
#pragma once

#include <cstdint>

#include "materials/param.h"

namespace ductile {

// Particles per batch: the CPU backend's batch of sorted slots.
constexpr int kLaneBatch = 16;

template <class T, int D>
struct MaterialLanes {
  using Lane = T[kLaneBatch];
  // tau[c][j] (component c = a * D + b of the Kirchhoff stress) of lane j from F[c][j], C[c][j] and
  // plastic[j] for every lane; returns bit j set where lane j's stress is not finite.
  using StressFn = uint32_t (*)(const T* prm, const T* const* F, const T* const* C, const T* plastic,
                                Lane* tau);
  // Return mapping in place on F[c][j] and plastic[j] of every lane; fault[j]: kStatusNonFinite,
  // kStatusInverted (det F <= 0 after projection) or 0.
  using ProjectFn = void (*)(const T* prm, T dt, Lane* F, Lane& plastic, uint32_t* fault);

  T prm[kMaxMaterialParams] = {};  // the material's parameter values, in its specs() order
  const char* model = nullptr;     // the model's name (the CUDA backend picks its device functions by it)
  StressFn stress = nullptr;
  ProjectFn project = nullptr;
};

}  // namespace ductile
