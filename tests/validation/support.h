// Scene building for the validation tests: materials set by parameter name, boxes filled with particles on a
// regular lattice, and reductions over particle state (mass, centre of mass, kinetic energy, extents).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/model.h"
#include "core/simulator.h"
#include "core/state.h"
#include "materials/registry.h"

namespace ductile::validation {

// Adds a material of the registered model `name` with the named parameters (the rest keep their defaults) and
// returns its index in the model.
template <class T, int D>
int add_material(Model<T, D>& model, const std::string& name,
                 const std::vector<std::pair<std::string, double>>& params) {
  auto mat = MaterialRegistry::instance().make<T, D>(name);
  const auto& specs = mat->specs();
  for (const auto& kv : params) {
    size_t i = 0;
    while (i < specs.size() && kv.first != specs[i].name) ++i;
    if (i == specs.size())
      fail("validation scene", "model '" + name + "' has no parameter '" + kv.first + "'");
    mat->values()[i] = T(kv.second);
  }
  model.material_names.push_back(name);
  model.materials.push_back(std::move(mat));
  return int(model.materials.size()) - 1;
}

// True when the registry knows the model (the tests of models still being written skip themselves).
inline bool has_material(const std::string& name) {
  return MaterialRegistry::instance().has(name);
}

// Particles collected box by box, then turned into a State.
template <class T, int D>
struct Particles {
  std::vector<Vec<T, D>> x;
  std::vector<T> mass, vol0;
  std::vector<int32_t> material;

  // Fills [lo, hi) with `per_axis` particles per cell along each axis (ppc = per_axis^D) on a regular lattice
  // at spacing h = dx / per_axis, cell-centred: mass = density h^D = density dx^D / ppc, vol0 = h^D.
  // Returns the number of particles added.
  int add_box(const Vec<T, D>& lo, const Vec<T, D>& hi, T dx, int per_axis, T density, int mat) {
    const double h = double(dx) / per_axis;
    int count[D];
    int64_t total = 1;
    double vol = 1;
    for (int d = 0; d < D; ++d) {
      count[d] = int(std::lround((double(hi[d]) - double(lo[d])) / h));
      total *= count[d];
      vol *= h;
    }
    for (int64_t k = 0; k < total; ++k) {
      int64_t rest = k;
      Vec<T, D> p;
      for (int d = D - 1; d >= 0; --d) {
        int i = int(rest % count[d]);
        rest /= count[d];
        p[d] = T(double(lo[d]) + (i + 0.5) * h);
      }
      x.push_back(p);
      mass.push_back(T(double(density) * vol));
      vol0.push_back(T(vol));
      material.push_back(mat);
    }
    return int(total);
  }

  // A State at rest (v = 0, C = 0, F = I, plastic = 1).
  State<T, D> state() const {
    State<T, D> s;
    s.resize(int(x.size()));
    for (int p = 0; p < s.n; ++p) {
      for (int d = 0; d < D; ++d) s.x[size_t(d) * s.n + p] = x[p][d];
      s.mass[p] = mass[p];
      s.vol0[p] = vol0[p];
      s.material[p] = material[p];
    }
    return s;
  }
};

// Component d of particle p's position and velocity.
template <class T, int D>
T px(const State<T, D>& s, int p, int d) {
  return s.x[size_t(d) * s.n + p];
}
template <class T, int D>
T pv(const State<T, D>& s, int p, int d) {
  return s.v[size_t(d) * s.n + p];
}
template <class T, int D>
T& pv(State<T, D>& s, int p, int d) {
  return s.v[size_t(d) * s.n + p];
}

template <class T, int D>
double total_mass(const State<T, D>& s) {
  double m = 0;
  for (int p = 0; p < s.n; ++p) m += double(s.mass[p]);
  return m;
}

// Mass-weighted centre of mass, in double.
template <class T, int D>
std::vector<double> centre_of_mass(const State<T, D>& s) {
  std::vector<double> c(D, 0.0);
  double m = 0;
  for (int p = 0; p < s.n; ++p) {
    m += double(s.mass[p]);
    for (int d = 0; d < D; ++d) c[d] += double(s.mass[p]) * double(px(s, p, d));
  }
  for (int d = 0; d < D; ++d) c[d] /= m;
  return c;
}

// Total linear momentum sum_p m_p v_p.
template <class T, int D>
std::vector<double> momentum(const State<T, D>& s) {
  std::vector<double> q(D, 0.0);
  for (int p = 0; p < s.n; ++p)
    for (int d = 0; d < D; ++d) q[d] += double(s.mass[p]) * double(pv(s, p, d));
  return q;
}

// Particle kinetic energy sum_p m_p |v_p|^2 / 2 (the APIC affine part is not included).
template <class T, int D>
double kinetic_energy(const State<T, D>& s) {
  double e = 0;
  for (int p = 0; p < s.n; ++p) {
    double v2 = 0;
    for (int d = 0; d < D; ++d) v2 += double(pv(s, p, d)) * double(pv(s, p, d));
    e += 0.5 * double(s.mass[p]) * v2;
  }
  return e;
}

// The q-quantile (0..1) of coordinate d over the particles (q = 1: the maximum).
template <class T, int D>
double coordinate_quantile(const State<T, D>& s, int d, double q) {
  std::vector<double> c(s.n);
  for (int p = 0; p < s.n; ++p) c[p] = double(px(s, p, d));
  size_t k = std::min(size_t(s.n) - 1, size_t(q * double(s.n - 1) + 0.5));
  std::nth_element(c.begin(), c.begin() + k, c.end());
  return c[k];
}

// Wall-clock and process CPU seconds since construction, for the runtime each test prints (on a loaded
// machine the wall time of an OpenMP run can be many times its CPU time).
struct Stopwatch {
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  std::clock_t c0 = std::clock();
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  double cpu_seconds() const { return double(std::clock() - c0) / CLOCKS_PER_SEC; }
};

}  // namespace ductile::validation
