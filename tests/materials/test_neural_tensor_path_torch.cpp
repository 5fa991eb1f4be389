// The neural material's tensor path (the batched LibTorch operations that evaluate it on the GPU in a CUDA
// run), run here on CPU tensors: the same stresses, projections and vector-Jacobian products as the C++
// loops, and the same status for a non-finite particle. The GPU itself is not exercised by this test.
#ifdef DUCTILE_WITH_TORCH
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "materials/neural/neural_material.h"

using namespace ductile;

namespace {

template <class T, int D>
std::unique_ptr<Material<T, D>> law(bool tensor_path, unsigned seed) {
  NeuralSpec spec;
  spec.width = 16, spec.plastic = true, spec.plastic_scale = 0.05, spec.strain_scale = 0.3;
  spec.tensor_path = tensor_path;
  auto m = make_neural_material<T, D>(spec);
  m->values()[2] = T(2);  // stress_scale
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd(0, 0.4);
  std::vector<T> w(size_t(m->learnable_size()));
  for (T& x : w) x = T(nd(rng));
  m->set_learnable(w);
  return m;
}

// Largest difference between a and b relative to the largest |a| (at least 1).
template <class T>
double rel_diff(const std::vector<T>& a, const std::vector<T>& b) {
  REQUIRE(a.size() == b.size());
  double big = 1, d = 0;
  for (size_t i = 0; i < a.size(); ++i)
    big = std::max(big, std::fabs(double(a[i]))), d = std::max(d, std::fabs(double(a[i]) - double(b[i])));
  return d / big;
}

// Every operation of both paths on n particles of which the batch holds every other one (the others'
// entries must be left alone), then a NaN particle.
template <class T, int D>
void compare(double tol) {
  auto loops = law<T, D>(false, 3), tensors = law<T, D>(true, 3);
  const int n = 9, nn = D * D * n, np = int(loops->specs().size()) + loops->learnable_size();
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-0.3, 0.3);
  State<T, D> s;
  s.resize(n);
  for (int p = 0; p < n; ++p) {
    Mat<T, D> F = Mat<T, D>::identity();  // particle 4 at rest
    if (p != 4)
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) F(i, j) += T(u(rng));
    store_mat<T, D>(s.F.data(), n, p, F);
  }
  std::vector<int32_t> idx = {0, 2, 4, 6, 8};
  const MaterialBatch b{idx.data(), int(idx.size())};
  std::vector<T> a1(static_cast<size_t>(nn)), a2(static_cast<size_t>(n));
  for (T& x : a1) x = T(u(rng));
  for (T& x : a2) x = T(u(rng));
  // stress
  std::vector<T> t1(size_t(nn), T(7)), t2(size_t(nn), T(7));
  Status s1, s2;
  loops->stress(Device::kCpu, s.view(), b, t1.data(), &s1);
  tensors->stress(Device::kCpu, s.view(), b, t2.data(), &s2);
  CHECK(rel_diff(t1, t2) <= tol);
  CHECK(t2[1] == T(7));  // particle 1 is not in the batch
  // stress VJP: F and parameters (stress_scale and the weights)
  std::vector<T> f1(size_t(nn), T(1)), f2(size_t(nn), T(1)), p1(size_t(np), T(0)), p2(size_t(np), T(0));
  loops->stress_vjp(Device::kCpu, s.view(), b, a1.data(), f1.data(), nullptr, nullptr, p1.data(), &s1);
  tensors->stress_vjp(Device::kCpu, s.view(), b, a1.data(), f2.data(), nullptr, nullptr, p2.data(), &s2);
  CHECK(rel_diff(f1, f2) <= tol);
  CHECK(rel_diff(p1, p2) <= tol);
  // projection VJP (plastic adjoints pass through)
  std::vector<T> g1(size_t(nn), T(1)), g2(size_t(nn), T(1)), q1(size_t(n), T(0)), q2(size_t(n), T(0));
  std::fill(p1.begin(), p1.end(), T(0)), std::fill(p2.begin(), p2.end(), T(0));
  loops->project_vjp(Device::kCpu, T(1e-3), s.view(), b, a1.data(), a2.data(), g1.data(), q1.data(),
                     p1.data(), &s1);
  tensors->project_vjp(Device::kCpu, T(1e-3), s.view(), b, a1.data(), a2.data(), g2.data(), q2.data(),
                       p2.data(), &s2);
  CHECK(rel_diff(g1, g2) <= tol);
  CHECK(rel_diff(q1, q2) == 0.0);
  CHECK(rel_diff(p1, p2) <= tol);
  // projection, in place
  State<T, D> c1 = s, c2 = s;
  loops->project(Device::kCpu, T(1e-3), c1.view(), b, &s1);
  tensors->project(Device::kCpu, T(1e-3), c2.view(), b, &s2);
  CHECK(rel_diff(c1.F, c2.F) <= tol);
  CHECK(c2.F[1] == s.F[1]);
  for (int i = 0; i < D * D; ++i) CHECK(c2.F[size_t(i) * n + 4] == s.F[size_t(i) * n + 4]);  // F = I stays
  REQUIRE(s1.bits == 0);
  REQUIRE(s2.bits == 0);
  // a NaN in particle 6: the same status (bit, stage and lowest particle)
  s.F[6] = std::numeric_limits<T>::quiet_NaN();
  loops->stress(Device::kCpu, s.view(), b, t1.data(), &s1);
  tensors->stress(Device::kCpu, s.view(), b, t2.data(), &s2);
  CHECK(s1.bits == kStatusNonFinite);
  CHECK(s2.bits == s1.bits);
  CHECK(s2.particle == 6);
  CHECK(s2.stages == s1.stages);
}

}  // namespace

TEST_CASE("neural material: the tensor path (the GPU's operations, here on the CPU) matches the C++ loops") {
  compare<double, 2>(1e-12);
  compare<double, 3>(1e-12);
  compare<float, 2>(1e-4);
  compare<float, 3>(1e-4);
}
#endif
