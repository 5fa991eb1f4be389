// Active stress of soft-robot actuators and its adjoint. An actuated particle with rest fiber direction f,
// actuator k and actuator level L_k = a_k s_k (activation a_k in [-1, 1] times strength s_k [Pa]) adds the
// Kirchhoff stress
//   tau_act = L_k (F f)(F f)^T,
// i.e. the first Piola stress F A with A = L_k f f^T of ChainQueen (Hu et al. 2019) and DiffTaichi's diffmpm
// (Hu et al. 2020), where f is a coordinate axis. Positive levels pull the material together along the fiber
// (a contracting muscle); negative ones push it apart.
#pragma once

#include <cstdint>

#include "core/state.h"

namespace ductile {

// tau[(i*D+j)*n + p] += L (F f)_i (F f)_j for every actuated particle p (actuator[p] >= 0).
template <class T, int D>
struct Actuation {
  int n = 0;
  const T* F = nullptr;               // deformation gradient, D*D SoA
  const int32_t* actuator = nullptr;  // per particle: actuator index, or -1 for passive particles
  const T* fiber = nullptr;           // rest fiber direction, D SoA (unit)
  const T* level = nullptr;           // per actuator: activation times strength [Pa]
  T* tau = nullptr;

  // u = F f of particle p.
  DUCTILE_HD DUCTILE_INLINE Vec<T, D> stretched_fiber(int p) const {
    Vec<T, D> u;
    for (int i = 0; i < D; ++i) {
      T s = 0;
      for (int j = 0; j < D; ++j) s += F[(i * D + j) * n + p] * fiber[j * n + p];
      u[i] = s;
    }
    return u;
  }

  DUCTILE_HD void operator()(int p) const {
    const int k = actuator[p];
    if (k < 0) return;
    const Vec<T, D> u = stretched_fiber(p);
    const T L = level[k];
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) tau[(i * D + j) * n + p] += L * u[i] * u[j];
  }
};

// Adjoint: with G = d loss / d tau_act of particle p,
//   d loss / d F += L (G + G^T) u f^T,   d loss / d L_k += u^T G u (written per particle into adj_level_p, so
// that the caller sums them per actuator in a fixed order).
template <class T, int D>
struct ActuationAdjoint {
  Actuation<T, D> fwd;
  const T* adj_tau = nullptr;  // laid out like tau
  T* adj_F = nullptr;          // += , laid out like F
  T* adj_level_p = nullptr;    // per particle, overwritten (0 for passive particles)

  DUCTILE_HD void operator()(int p) const {
    const int n = fwd.n;
    const int k = fwd.actuator[p];
    if (k < 0) {
      adj_level_p[p] = T(0);
      return;
    }
    const Vec<T, D> u = fwd.stretched_fiber(p);
    const T L = fwd.level[k];
    // w = (G + G^T) u and u^T G u
    Vec<T, D> w;
    T uGu = 0;
    for (int i = 0; i < D; ++i) {
      T s = 0;
      for (int j = 0; j < D; ++j) {
        const T gij = adj_tau[(i * D + j) * n + p], gji = adj_tau[(j * D + i) * n + p];
        s += (gij + gji) * u[j];
        uGu += u[i] * gij * u[j];
      }
      w[i] = s;
    }
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) adj_F[(i * D + j) * n + p] += L * w[i] * fwd.fiber[j * n + p];
    adj_level_p[p] = uGu;
  }
};

}  // namespace ductile
