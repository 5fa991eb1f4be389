// KeepForVjp (materials/keep_for_vjp.h): a stress() asked to keep what its adjoint reuses (fixed-corotated:
// the SVD) makes the following stress_vjp() of the same batch give exactly the adjoints it gives without
// (bit for bit, both precisions, 2D and 3D, F at rest, stretched, compressed and near-degenerate); the
// kept values serve one stress_vjp only, and not one at another F; models that keep nothing say so.
#include <doctest/doctest.h>

#include <random>
#include <vector>

#include "core/memory.h"
#include "core/svd.h"
#include "materials/keep_for_vjp.h"
#include "materials/registry.h"

using namespace ductile;

namespace {

// Adjoints of F and of the parameters from stress_vjp at the particles' F.
template <class T, int D>
struct Adjoints {
  std::vector<T> F, params;
  bool operator==(const Adjoints& o) const { return F == o.F && params == o.params; }
};

template <class T, int D>
Adjoints<T, D> vjp(const Material<T, D>& mat, const ParticleView<T, D>& p, const MaterialBatch& b,
                   const std::vector<T>& adj_tau) {
  Adjoints<T, D> r;
  r.F.assign(size_t(D * D) * p.n, T(0));
  r.params.assign(mat.specs().size(), T(0));
  Status status{};
  mat.stress_vjp(Device::kCpu, p, b, adj_tau.data(), r.F.data(), nullptr, nullptr, r.params.data(), &status);
  CHECK(status.bits == 0);
  return r;
}

template <class T, int D>
void check_keep() {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal;
  const int n = 40;
  // F: identity, stretched, compressed, random near I, and nearly flat
  std::vector<T> x(D * n), v(D * n), C(D * D * n, T(0)), F(D * D * n, T(0)), plastic(n, T(1));
  std::vector<T> mass(n, T(1)), vol0(n, T(1));
  for (int p = 0; p < n; ++p)
    for (int i = 0; i < D; ++i)
      for (int j = 0; j < D; ++j) {
        const double diag = p % 5 == 0 ? 1 : p % 5 == 1 ? 1.3 : p % 5 == 2 ? 0.7 : p % 5 == 3 ? 1 : 1e-3;
        const double noise = p % 5 == 0 ? 0 : 0.1 * normal(rng);
        F[size_t(i * D + j) * n + p] = T((i == j ? (i == 0 && p % 5 == 4 ? 1.0 : diag) : 0.0) + noise);
      }
  std::vector<T> adj_tau(D * D * n), tau(D * D * n);
  for (auto& a : adj_tau) a = T(normal(rng));
  std::vector<int32_t> index(n);
  for (int p = 0; p < n; ++p) index[p] = p;
  ParticleView<T, D> pv{n,           x.data(),    v.data(), C.data(), F.data(), plastic.data(),
                        mass.data(), vol0.data(), nullptr};
  const MaterialBatch batch{index.data(), n};
  auto mat = MaterialRegistry::instance().make<T, D>("fixed_corotated");
  auto* keep = dynamic_cast<const KeepForVjp*>(mat.get());
  REQUIRE(keep != nullptr);
  CHECK(keep->kept_bytes() == int(sizeof(Svd<T, D>)));
  Status status{};
  const Adjoints<T, D> plain = vjp(*mat, pv, batch, adj_tau);
  // kept: the same bits
  keep->keep_for_vjp(true);
  mat->stress(Device::kCpu, pv, batch, tau.data(), &status);
  keep->keep_for_vjp(false);
  CHECK(vjp(*mat, pv, batch, adj_tau) == plain);
  // kept at another F (another array): not used, the VJP at this F is still exact
  std::vector<T> F2 = F;
  for (auto& f : F2) f *= T(1.1);
  ParticleView<T, D> pv2 = pv;
  pv2.F = F2.data();
  keep->keep_for_vjp(true);
  mat->stress(Device::kCpu, pv2, batch, tau.data(), &status);
  keep->keep_for_vjp(false);
  CHECK(vjp(*mat, pv, batch, adj_tau) == plain);
  // the kept values are what the VJP uses: F changed in place after the stress (breaking the contract) leaves
  // the VJP at the kept SVD, unlike a plain VJP at the new F
  keep->keep_for_vjp(true);
  mat->stress(Device::kCpu, pv, batch, tau.data(), &status);
  keep->keep_for_vjp(false);
  const std::vector<T> F0 = F;
  F = F2;
  const Adjoints<T, D> stale = vjp(*mat, pv, batch, adj_tau), fresh = vjp(*mat, pv, batch, adj_tau);
  CHECK(!(stale == fresh));
  F = F0;
  // models without a decomposition to keep
  auto fluid = MaterialRegistry::instance().make<T, D>("fluid");
  auto* k2 = dynamic_cast<const KeepForVjp*>(fluid.get());
  REQUIRE(k2 != nullptr);
  CHECK(k2->kept_bytes() == 0);
}

}  // namespace

TEST_CASE("materials: a stress kept for its adjoint gives the adjoint it gives without, bit for bit") {
  check_keep<float, 2>();
  check_keep<float, 3>();
  check_keep<double, 2>();
  check_keep<double, 3>();
}
