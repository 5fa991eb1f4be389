// The registry lists the seven analytic models and names them when asked for an unknown one; every model runs
// through the batched adapter in float and double, 2D and 3D, matching the model's own functions (and, when a
// GPU is present, the CUDA kernels match the CPU ones).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/memory.h"
#include "material_test_util.h"
#include "materials/all_models.h"
#include "materials/analytic.h"
#include "materials/registry.h"

using namespace ductile;
using namespace ductile::test;

static const char* const kSeven[] = {
    "fixed_corotated", "neo_hookean", "von_mises", "drucker_prager", "snow", "fluid", "herschel_bulkley"};

TEST_CASE("material registry: lists all seven analytic models") {
  const auto names = MaterialRegistry::instance().names();
  for (const char* n : kSeven) {
    INFO(n);
    CHECK(std::find(names.begin(), names.end(), std::string(n)) != names.end());
    CHECK(MaterialRegistry::instance().has(n));
  }
  int analytic = 0;
#define DUCTILE_COUNT(M) ++analytic;
  DUCTILE_FOR_EACH_ANALYTIC_MODEL(DUCTILE_COUNT)
#undef DUCTILE_COUNT
  CHECK(analytic == 7);
}

TEST_CASE("material registry: an unknown model's error lists the known ones") {
  try {
    MaterialRegistry::instance().get("jello");
    FAIL("no error for an unknown model");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what.find("jello") != std::string::npos);
    for (const char* n : kSeven) CHECK(what.find(n) != std::string::npos);
  }
  CHECK_THROWS_AS((MaterialRegistry::instance().make<float, 3>("jello")), Error);
}

// Random particles (F near I, random C, plastic near 1) in SoA arrays.
template <class T, int D>
static State<T, D> random_state(int n, int seed) {
  std::mt19937 rng(seed);
  State<T, D> s;
  s.resize(n);
  for (int p = 0; p < n; ++p) {
    Mat<T, D> F = random_F<T, D>(rng, 0.2), C = random_matrix<T, D>(rng, 1.0);
    store_mat<T, D>(s.F.data(), n, p, F);
    store_mat<T, D>(s.C.data(), n, p, C);
    s.plastic[p] = T(1) + T(0.01) * T(p % 3);
  }
  return s;
}

// The adapter's batched stress and projection equal the model's functions, on the CPU and (if any) the GPU.
template <class Model, class T, int D>
static void check_adapter() {
  INFO(Model::kName << " " << (sizeof(T) == 4 ? "float" : "double") << " D=" << D);
  auto mat = MaterialRegistry::instance().make<T, D>(Model::kName);
  REQUIRE(mat != nullptr);
  CHECK(std::string(mat->model()) == Model::kName);
  REQUIRE(mat->values().size() == Model::specs().size());
  CHECK(mat->value("density") > T(0));
  CHECK(mat->wave_speed() > T(0));
  const int n = 37;
  State<T, D> s = random_state<T, D>(n, 17);
  std::vector<int32_t> index(n);
  for (int i = 0; i < n; ++i) index[i] = n - 1 - i;  // batch order differs from particle order
  const std::vector<T>& prm = mat->values();
  // CPU
  std::vector<T> tau(size_t(D * D) * n, T(0));
  Status status;
  State<T, D> cpu = s;
  mat->stress(Device::kCpu, cpu.view(), MaterialBatch{index.data(), n}, tau.data(), &status);
  mat->project(Device::kCpu, T(1e-3), cpu.view(), MaterialBatch{index.data(), n}, &status);
  CHECK(status.bits == 0u);
  for (int p = 0; p < n; ++p) {
    Mat<T, D> F = load_mat<T, D>(s.F.data(), n, p), C = load_mat<T, D>(s.C.data(), n, p);
    Mat<T, D> t = Model::template stress<T, D>(prm.data(), F, C, s.plastic[p]);
    CHECK(max_diff(load_mat<T, D>(tau.data(), n, p), t) == 0.0);
    T plastic = s.plastic[p];
    Model::template project<T, D>(prm.data(), T(1e-3), F, plastic);
    CHECK(max_diff(load_mat<T, D>(cpu.F.data(), n, p), F) == 0.0);
    CHECK(cpu.plastic[p] == plastic);
  }
  if (!cuda_available()) return;
  // CUDA: same inputs on the device
  Buffer<T> F(Device::kCuda, 0), C(Device::kCuda, 0), pl(Device::kCuda, 0), t(Device::kCuda, 0);
  Buffer<int32_t> idx(Device::kCuda, 0);
  Buffer<Status> st(Device::kCuda, 0);
  F.upload(s.F), C.upload(s.C), pl.upload(s.plastic), t.upload(std::vector<T>(tau.size(), T(0)));
  idx.upload(index);
  st.upload(std::vector<Status>(1));
  ParticleView<T, D> v;
  v.n = n, v.F = F.data(), v.C = C.data(), v.plastic = pl.data();
  mat->stress(Device::kCuda, v, MaterialBatch{idx.data(), n}, t.data(), st.data());
  mat->project(Device::kCuda, T(1e-3), v, MaterialBatch{idx.data(), n}, st.data());
  std::vector<T> gtau, gF, gpl;
  std::vector<Status> gst;
  t.download(gtau), F.download(gF), pl.download(gpl), st.download(gst);
  CHECK(gst[0].bits == 0u);
  const double rel = sizeof(T) == 4 ? 1e-4 : 1e-10;
  for (int p = 0; p < n; ++p) {
    Mat<T, D> a = load_mat<T, D>(gtau.data(), n, p), b = load_mat<T, D>(tau.data(), n, p);
    CHECK(max_diff(a, b) <= rel * std::fmax(1.0, max_abs(b)));
    CHECK(max_diff(load_mat<T, D>(gF.data(), n, p), load_mat<T, D>(cpu.F.data(), n, p)) <= rel);
    CHECK(double(gpl[p]) == doctest::Approx(double(cpu.plastic[p])).epsilon(rel));
  }
}

TEST_CASE("material adapter: every model runs batched in float and double, 2D and 3D (CPU, and GPU if any)") {
#define DUCTILE_CHECK_ADAPTER(M) \
  check_adapter<M, float, 2>();  \
  check_adapter<M, float, 3>();  \
  check_adapter<M, double, 2>(); \
  check_adapter<M, double, 3>();
  DUCTILE_FOR_EACH_ANALYTIC_MODEL(DUCTILE_CHECK_ADAPTER)
#undef DUCTILE_CHECK_ADAPTER
}

TEST_CASE("material adapter: an inverted particle raises a status bit instead of failing silently") {
  auto mat = MaterialRegistry::instance().make<double, 3>("neo_hookean");
  State<double, 3> s;
  s.resize(2);
  s.F[0] = -1;  // particle 0: F = diag(-1, 1, 1)
  std::vector<int32_t> index = {0, 1};
  std::vector<double> tau(9 * 2);
  Status status;
  mat->stress(Device::kCpu, s.view(), MaterialBatch{index.data(), 2}, tau.data(), &status);
  CHECK((status.bits & kStatusNonFinite) != 0u);
  CHECK(status.particle == 0);
}
