// The neural material (LibTorch): its guarantees for random weights, its vector-Jacobian products against
// finite differences, saved weights, and a rollout on the tape. Skipped in builds without LibTorch.
#ifdef DUCTILE_WITH_TORCH
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "core/svd.h"
#include "gradient/gradient_problem.h"
#include "io/temp_dir.h"
#include "materials/neural/neural_material.h"

using namespace ductile;

namespace {

// A rotation from an axis-angle vector (about z in 2D).
template <class T, int D>
Mat<T, D> rotation(double a, double b, double c) {
  Mat<T, D> R = Mat<T, D>::identity();
  if constexpr (D == 2) {
    R(0, 0) = T(std::cos(c)), R(0, 1) = T(-std::sin(c)), R(1, 0) = T(std::sin(c)), R(1, 1) = T(std::cos(c));
  } else {
    const double th = std::sqrt(a * a + b * b + c * c), k[3] = {a / th, b / th, c / th};
    const double K[3][3] = {{0, -k[2], k[1]}, {k[2], 0, -k[0]}, {-k[1], k[0], 0}};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        R(i, j) = T((i == j ? std::cos(th) : 0) + std::sin(th) * K[i][j] + (1 - std::cos(th)) * k[i] * k[j]);
  }
  return R;
}

// n particles with deformation gradients Fs, as a State and its batch.
template <class T, int D>
struct Batch {
  State<T, D> s;
  std::vector<int32_t> idx;
  explicit Batch(const std::vector<Mat<T, D>>& Fs) {
    s.resize(int(Fs.size()));
    for (int p = 0; p < s.n; ++p) store_mat<T, D>(s.F.data(), s.n, p, Fs[p]), idx.push_back(p);
  }
  MaterialBatch batch() const { return {idx.data(), int(idx.size())}; }
};

template <class T, int D>
std::unique_ptr<Material<T, D>> random_neural(bool plastic, unsigned seed, double scale, double strain = 1) {
  NeuralSpec spec;
  spec.width = 16, spec.plastic = plastic, spec.plastic_scale = 0.05, spec.strain_scale = strain;
  auto m = make_neural_material<T, D>(spec);
  m->values()[2] = T(1);  // stress_scale: stresses of order one, so that absolute tolerances mean something
  std::mt19937 rng(seed);
  std::normal_distribution<double> nd(0, scale);
  std::vector<T> w(size_t(m->learnable_size()));
  for (T& x : w) x = T(nd(rng));
  m->set_learnable(w);
  return m;
}

template <class T, int D>
Mat<T, D> random_F(std::mt19937& rng, double spread) {
  std::uniform_real_distribution<double> u(-spread, spread);
  Mat<T, D> F = Mat<T, D>::identity();
  for (int i = 0; i < D; ++i)
    for (int j = 0; j < D; ++j) F(i, j) += T(u(rng));
  return F;
}

template <class T, int D>
std::vector<T> tau_of(const Material<T, D>& m, const std::vector<Mat<T, D>>& Fs) {
  Batch<T, D> b(Fs);
  std::vector<T> tau(size_t(D * D) * Fs.size());
  Status st;
  m.stress(Device::kCpu, b.s.view(), b.batch(), tau.data(), &st);
  REQUIRE(st.bits == 0);
  return tau;
}

template <class T, int D>
void check_guarantees(double tol) {
  std::mt19937 rng(7);
  for (unsigned seed = 0; seed < 4; ++seed) {
    // raw invariants, and invariants normalized by a strain scale (seeds 2 and 3)
    auto m = random_neural<T, D>(true, seed, 0.5, seed < 2 ? 1.0 : 0.25);
    // zero stress at rest
    for (T x : tau_of<T, D>(*m, {Mat<T, D>::identity()})) CHECK(double(x) == 0.0);
    // tau(Q F) = Q tau(F) Q^T
    std::vector<Mat<T, D>> Fs, QFs;
    std::vector<Mat<T, D>> Qs;
    for (int k = 0; k < 8; ++k) {
      Fs.push_back(random_F<T, D>(rng, 0.3));
      Qs.push_back(rotation<T, D>(0.3 + k, -0.7 * k, 1.1 + 0.4 * k));
      QFs.push_back(Qs.back() * Fs.back());
    }
    const auto t = tau_of<T, D>(*m, Fs), tq = tau_of<T, D>(*m, QFs);
    const int n = int(Fs.size());
    for (int k = 0; k < n; ++k) {
      const Mat<T, D> a = Qs[k] * load_mat<T, D>(t.data(), n, k) * transpose(Qs[k]),
                      b = load_mat<T, D>(tq.data(), n, k);
      double scale = 0, err = 0;
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j)
          scale = std::max(scale, std::fabs(double(a(i, j)))),
          err = std::max(err, std::fabs(double(a(i, j) - b(i, j))));
      CHECK(err <= tol * std::max(scale, 1.0));
    }
    // the plastic map: identity at rest, P(Q F) = Q P(F)
    Batch<T, D> rest({Mat<T, D>::identity()}), b1(Fs), b2(QFs);
    Status st;
    m->project(Device::kCpu, T(1e-3), rest.s.view(), rest.batch(), &st);
    m->project(Device::kCpu, T(1e-3), b1.s.view(), b1.batch(), &st);
    m->project(Device::kCpu, T(1e-3), b2.s.view(), b2.batch(), &st);
    for (int i = 0; i < D * D; ++i) CHECK(double(rest.s.F[i]) == (i % (D + 1) == 0 ? 1.0 : 0.0));
    for (int k = 0; k < n; ++k) {
      const Mat<T, D> a = Qs[k] * load_mat<T, D>(b1.s.F.data(), n, k),
                      b = load_mat<T, D>(b2.s.F.data(), n, k);
      for (int i = 0; i < D; ++i)
        for (int j = 0; j < D; ++j) CHECK(std::fabs(double(a(i, j) - b(i, j))) <= tol * 2);
    }
  }
}

}  // namespace

TEST_CASE("neural material: zero stress at rest and rotation equivariance for random weights") {
  check_guarantees<double, 2>(1e-13);
  check_guarantees<double, 3>(1e-13);
  check_guarantees<float, 2>(2e-5);
  check_guarantees<float, 3>(2e-5);
}

TEST_CASE_TEMPLATE("neural material: stress and projection VJPs match finite differences (double)", DT,
                   std::integral_constant<int, 2>, std::integral_constant<int, 3>) {
  constexpr int D = DT::value;
  std::mt19937 rng(3);
  for (const double strain : {1.0, 0.2}) {
    auto m = random_neural<double, D>(true, 11, 0.4, strain);
    std::vector<Mat<double, D>> Fs;
    for (int k = 0; k < 5; ++k) Fs.push_back(random_F<double, D>(rng, 0.25));
    Fs.push_back(Mat<double, D>::identity());  // the rest state: R's adjoint must stay finite
    const int n = int(Fs.size()), nw = m->learnable_size(), np = int(m->specs().size());
    // cotangents
    std::normal_distribution<double> nd;
    std::vector<double> adj_out(size_t(D * D) * n);
    for (double& x : adj_out) x = nd(rng);
    // analytic: stress and projection, F and weights
    for (int which = 0; which < 2; ++which) {
      Batch<double, D> b(Fs);
      std::vector<double> aF(adj_out.size(), 0.0), aw(size_t(np + nw), 0.0);
      Status st;
      if (which == 0)
        m->stress_vjp(Device::kCpu, b.s.view(), b.batch(), adj_out.data(), aF.data(), nullptr, nullptr,
                      aw.data(), &st);
      else
        m->project_vjp(Device::kCpu, 1e-3, b.s.view(), b.batch(), adj_out.data(), nullptr, aF.data(), nullptr,
                       aw.data(), &st);
      REQUIRE(st.bits == 0);
      // the value of <adj_out, out> for F perturbed along dF and weights along dw
      auto value = [&](const std::vector<double>& dF, const std::vector<double>& dw, double h) {
        std::vector<double> w = m->learnable();
        for (int i = 0; i < nw; ++i) w[i] += h * dw[i];
        auto mm = random_neural<double, D>(true, 11, 0.4, strain);
        mm->set_learnable(w);
        std::vector<Mat<double, D>> G = Fs;
        for (int k = 0; k < n; ++k)
          for (int i = 0; i < D; ++i)
            for (int j = 0; j < D; ++j) G[k](i, j) += h * dF[size_t(i * D + j) * n + k];
        std::vector<double> out;
        if (which == 0) {
          out = tau_of<double, D>(*mm, G);
        } else {
          Batch<double, D> bb(G);
          Status s2;
          mm->project(Device::kCpu, 1e-3, bb.s.view(), bb.batch(), &s2);
          out = bb.s.F;
        }
        double v = 0;
        for (size_t i = 0; i < out.size(); ++i) v += adj_out[i] * out[i];
        return v;
      };
      std::vector<double> dF(adj_out.size()), dw(static_cast<size_t>(nw)), zF(adj_out.size(), 0.0),
          zw(static_cast<size_t>(nw), 0.0);
      for (double& x : dF) x = nd(rng);
      for (double& x : dw) x = nd(rng);
      const double h = 1e-6;
      const double fdF = (value(dF, zw, h) - value(dF, zw, -h)) / (2 * h);
      const double fdW = (value(zF, dw, h) - value(zF, dw, -h)) / (2 * h);
      double anF = 0, anW = 0;
      for (size_t i = 0; i < dF.size(); ++i) anF += aF[i] * dF[i];
      for (int i = 0; i < nw; ++i) anW += aw[size_t(np + i)] * dw[i];
      INFO((which == 0 ? "stress" : "projection") << " (strain scale " << strain << "): F " << anF << " vs "
                                                  << fdF << ", weights " << anW << " vs " << fdW);
      CHECK(std::fabs(anF - fdF) <= 1e-7 * std::max(1.0, std::fabs(fdF)));
      CHECK(std::fabs(anW - fdW) <= 1e-7 * std::max(1.0, std::fabs(fdW)));
    }
  }
}

TEST_CASE("neural material: saved weights load into the same law, bad files are refused") {
  test::TempDir dir;
  auto m = random_neural<double, 3>(true, 5, 0.3);
  save_neural_weights(*m, dir.file("w.safetensors"));
  auto fresh = make_neural_material<double, 3>();
  fresh->configure("weights", dir.file("w.safetensors"));
  fresh->values() = m->values();  // density, wave speed and stress scale come from the scene, not the file
  CHECK(fresh->learnable() == m->learnable());
  std::mt19937 rng(1);
  const std::vector<Mat<double, 3>> Fs = {random_F<double, 3>(rng, 0.2), random_F<double, 3>(rng, 0.2)};
  CHECK(tau_of<double, 3>(*fresh, Fs) == tau_of<double, 3>(*m, Fs));
  auto flat = make_neural_material<double, 2>();
  CHECK_THROWS(flat->configure("weights", dir.file("w.safetensors")));  // 3D weights in 2D
  test::write_text(dir.file("junk.safetensors"), "not an archive");
  CHECK_THROWS(fresh->configure("weights", dir.file("junk.safetensors")));
}

TEST_CASE("neural material: a tape rollout differentiates the weights (finite differences)") {
  test::GradientProblem<2> P(R"({
    "format": 1, "dimension": 2,
    "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.0625},
    "time": {"dt": 1e-3, "frame_dt": 0.01, "frames": 2},
    "materials": [{"name": "learned", "model": "neural", "density": 1000, "wave_speed": 5, "stress_scale": 300}],
    "objects": [{"name": "blob", "material": "learned", "velocity": [0.5, -1.5],
                 "shape": {"type": "box", "center": [0.5, 0.3], "size": [0.2, 0.2]}}],
    "colliders": [{"name": "floor", "type": "plane", "point": [0, 0.17], "normal": [0, 1], "surface": "slip"}]
  })",
                             20);
  // scale the fresh weights up: the stress is cubic in their scale near rest, and must shape the motion
  // enough for finite differences to resolve the weights' effect
  auto& mat = *P.scene.model.materials[0];
  std::vector<double> w = mat.learnable();
  for (double& x : w) x *= 20;
  mat.set_learnable(w);
  const auto& s = P.scene.state;
  std::vector<double> target(static_cast<size_t>(2) * s.n);
  for (int p = 0; p < s.n; ++p)
    target[size_t(p) * 2] = s.x[p] + 0.01, target[size_t(p) * 2 + 1] = s.x[s.n + p];
  P.losses.push_back(make_position_loss<double, 2>(P.steps, {}, target, 100.0));
  const auto g = P.gradient();
  const int np = int(mat.specs().size());
  REQUIRE(g.material[0].size() == size_t(np + mat.learnable_size()));
  const auto dir = test::random_direction(size_t(mat.learnable_size()), 9);
  double an = 0;
  for (size_t i = 0; i < dir.size(); ++i) an += g.material[0][size_t(np) + i] * dir[i];
  const double fd = P.derivative(
      [&](double h) {
        std::vector<double> v = mat.learnable();
        for (size_t i = 0; i < v.size(); ++i) v[i] += h * dir[i];
        mat.set_learnable(v);
      },
      1e-4);
  test::check_close(an, fd, 1e-6, "weights along a random direction");
}
#endif
