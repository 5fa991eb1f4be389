// Particle state in structure-of-arrays form: component d of particle p lives at field[d * n + p].
#pragma once

#include <cstdint>
#include <vector>

#include "core/math.h"

namespace ductile {

// Raw pointers into particle arrays on one device; kernels read and write through it.
template <class T, int D>
struct ParticleView {
  int n = 0;
  T* x = nullptr;                     // positions, D components [m]
  T* v = nullptr;                     // velocities, D components [m/s]
  T* C = nullptr;                     // APIC affine velocity field, D*D components [1/s]
  T* F = nullptr;                     // deformation gradient, D*D components
  T* plastic = nullptr;               // one scalar of plastic state per particle (model-specific, e.g. Jp)
  const T* mass = nullptr;            // [kg]
  const T* vol0 = nullptr;            // initial volume [m^D]
  const int32_t* material = nullptr;  // index into Model::materials
};

// Loads and stores of SoA vectors and matrices.
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Vec<T, D> load_vec(const T* a, int n, int p) {
  Vec<T, D> r;
  for (int d = 0; d < D; ++d) r[d] = a[d * n + p];
  return r;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE void store_vec(T* a, int n, int p, const Vec<T, D>& r) {
  for (int d = 0; d < D; ++d) a[d * n + p] = r[d];
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE Mat<T, D> load_mat(const T* a, int n, int p) {
  Mat<T, D> r;
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) r(i, j) = a[(i * D + j) * n + p];
  return r;
}
template <class T, int D>
DUCTILE_HD DUCTILE_INLINE void store_mat(T* a, int n, int p, const Mat<T, D>& r) {
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) a[(i * D + j) * n + p] = r(i, j);
}

// Host-side particle state; the simulator mirrors it on its device.
template <class T, int D>
struct State {
  int n = 0;
  std::vector<T> x, v, C, F, plastic, mass, vol0;
  std::vector<int32_t> material;  // material index per particle
  std::vector<int32_t> object;    // object index per particle (from the scene)
  double time = 0;
  int64_t step = 0;

  // Sizes every array for n particles; F = I, C = 0, plastic = 1.
  void resize(int count) {
    n = count;
    x.assign(size_t(D) * n, T(0));
    v.assign(size_t(D) * n, T(0));
    C.assign(size_t(D * D) * n, T(0));
    F.assign(size_t(D * D) * n, T(0));
    for (int d = 0; d < D; ++d)
      for (int p = 0; p < n; ++p) F[size_t(d * D + d) * n + p] = T(1);
    plastic.assign(n, T(1));
    mass.assign(n, T(0));
    vol0.assign(n, T(0));
    material.assign(n, 0);
    object.assign(n, 0);
  }

  ParticleView<T, D> view() {
    return ParticleView<T, D>{n,           x.data(),    v.data(),       C.data(), F.data(), plastic.data(),
                              mass.data(), vol0.data(), material.data()};
  }
};

}  // namespace ductile
