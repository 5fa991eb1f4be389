// Adjoints of the analytic materials against finite differences (double, five-point central differences of
// <adjoint of the output, output(x + t dx)> along random directions dx):
//   - adj_stress of every model in F, C, plastic and the parameters, at rest, stretched, compressed, rotated,
//     random, with repeated singular values, with one small singular value and below the Hencky clamp;
//   - adj_project in the elastic and the plastic branches (away from the yield surface) and at F = I;
//   - no adjoint is NaN at exactly F = I (float and double);
//   - the batched stress_vjp / project_vjp of AnalyticMaterial equal the sum of per-particle calls, their
//     parameter sums are bit-identical for 1 and 2 OpenMP threads, and a NaN adjoint raises the status word;
//     on a machine with a GPU the CUDA launches agree with the CPU.
// Set DUCTILE_ADJOINT_REPORT=1 to print the largest relative error per model.
#include <doctest/doctest.h>
#include <omp.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "core/device.h"
#include "core/memory.h"
#include "core/state.h"
#include "material_test_util.h"
#include "materials/all_models.h"
#include "materials/analytic.h"
#include "materials/registry.h"

using namespace ductile;
using namespace ductile::test;

#define DUCTILE_ALL_ANALYTIC FixedCorotated, NeoHookean, VonMises, DruckerPrager, Snow, Fluid, HerschelBulkley

namespace {

template <int D>
using Md = Mat<double, D>;

// Largest relative errors seen, for the report.
struct Errors {
  double F = 0, C = 0, plastic = 0, prm = 0;
  void merge(const Errors& o) {
    F = std::fmax(F, o.F), C = std::fmax(C, o.C), plastic = std::fmax(plastic, o.plastic);
    prm = std::fmax(prm, o.prm);
  }
  double max() const { return std::fmax(std::fmax(F, C), std::fmax(plastic, prm)); }
};

void report(const char* what, const char* model, const Errors& e) {
  if (!std::getenv("DUCTILE_ADJOINT_REPORT")) return;
  std::printf("%-8s %-17s max rel err: F %.2e  C %.2e  plastic %.2e  params %.2e\n", what, model, e.F, e.C,
              e.plastic, e.prm);
}

// Relative error of an analytic directional derivative `an` against the five-point central difference of
// f(t) at t = 0 with step h. `scale` bounds the terms of f near t = 0 (|adjoint| times |output| plus the
// output's natural scale); the round-off of the difference is a small multiple of 1e-16 scale / h, so
// derivatives below 1e-9 scale / h are compared in absolute terms (to 1e-15 scale / h for a tolerance of
// 1e-6).
double fd_error(double an, const std::function<double(double)>& f, double h, double scale) {
  const double fd = (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h);
  return std::fabs(an - fd) / std::fmax(std::fmax(std::fabs(an), std::fabs(fd)), 1e-9 * scale / h + 1e-300);
}

// Steps: 1e-5 in F and plastic (entries of order 1), 1e-3 relative in the parameters (the forward's round-off
// near J = 1 is large beside small parameter derivatives), 0.1 in C (tau is affine in C, and its viscous part
// can be small beside a large pressure).
constexpr double kStep = 1e-5, kParamStep = 1e-3, kCStep = 0.1;

template <int D>
double frobenius(const Md<D>& a) {
  return std::sqrt(ddot(a, a));
}

double uniform(std::mt19937& rng, double a = -1, double b = 1) {
  return std::uniform_real_distribution<double>(a, b)(rng);
}

// A random parameter direction relative to each value (none for discrete switches).
template <class Model>
std::vector<double> param_direction(const std::vector<double>& prm, std::mt19937& rng) {
  std::vector<double> d(prm.size());
  for (size_t q = 0; q < prm.size(); ++q)
    d[q] = std::string(Model::specs()[q].name) == "volume_correction" ? 0.0 : prm[q] * uniform(rng);
  return d;
}

std::vector<double> axpy(const std::vector<double>& x, double t, const std::vector<double>& d) {
  std::vector<double> r(x);
  for (size_t q = 0; q < r.size(); ++q) r[q] += t * d[q];
  return r;
}

double dotv(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t q = 0; q < a.size(); ++q) s += a[q] * b[q];
  return s;
}

// Q1 diag(s) Q2 with the first D of the given singular values (s3 in 3D, s2 in 2D).
template <int D>
Md<D> principal(const Md<D>& Q1, std::array<double, 3> s3, std::array<double, 2> s2, const Md<D>& Q2) {
  Vec<double, D> v;
  for (int i = 0; i < D; ++i) v[i] = D == 3 ? s3[i] : s2[i];
  return Q1 * Md<D>::diag(v) * Q2;
}

// The deformations every stress adjoint is checked at.
template <int D>
std::vector<std::pair<std::string, Md<D>>> deformations(std::mt19937& rng) {
  const Md<D> Q1 = random_rotation<double, D>(rng), Q2 = random_rotation<double, D>(rng),
              I = Md<D>::identity();
  return {{"rest", I},
          {"stretched", principal<D>(Q1, {1.3, 1.15, 1.2}, {1.3, 1.15}, Q2)},
          {"compressed", principal<D>(Q1, {0.7, 0.85, 0.8}, {0.7, 0.85}, Q2)},
          {"rotated", Q1},
          {"random", random_F<double, D>(rng, 0.3)},
          {"two equal", principal<D>(Q1, {1.2, 0.9, 0.9}, {1.1, 1.1}, Q2)},
          {"two equal (larger pair)", principal<D>(Q1, {1.25, 1.25, 0.8}, {0.9, 0.9}, Q2)},
          {"two exactly equal (diagonal)", principal<D>(I, {1.2, 0.9, 0.9}, {1.1, 1.1}, I)},
          {"one small", principal<D>(Q1, {1.1, 0.95, 0.1}, {1.05, 0.1}, Q2)},
          {"below the Hencky clamp", principal<D>(Q1, {1.1, 0.9, 0.03}, {1.1, 0.03}, Q2)}};
}

// adj_stress against finite differences along random directions in F, C, plastic and the parameters.
template <class Model, int D>
Errors check_stress(const std::vector<double>& prm, const Md<D>& F, const Md<D>& C, double plastic,
                    std::mt19937& rng) {
  const Md<D> adj_tau = random_matrix<double, D>(rng, 1.0);
  Md<D> aF = Md<D>::zero(), aC = Md<D>::zero();
  double aP = 0;
  std::vector<double> aprm(prm.size(), 0.0);
  Model::template adj_stress<double, D>(prm.data(), F, C, plastic, adj_tau, aF, aC, aP, aprm.data());
  const Md<D> dF = random_matrix<double, D>(rng, 1.0), dC = random_matrix<double, D>(rng, 1.0);
  const double dP = uniform(rng);
  const std::vector<double> dprm = param_direction<Model>(prm, rng);
  auto f = [&](const Md<D>& Fx, const Md<D>& Cx, double px, const std::vector<double>& prmx) {
    return ddot(adj_tau, Model::template stress<double, D>(prmx.data(), Fx, Cx, px));
  };
  // scale: |adj_tau| (|tau| + the largest modulus)
  double moduli = 1;
  for (size_t q = 1; q < prm.size(); ++q) moduli = std::fmax(moduli, std::fabs(prm[q]));
  const double scale =
      frobenius(adj_tau) * (frobenius(Model::template stress<double, D>(prm.data(), F, C, plastic)) + moduli);
  Errors e;
  e.F = fd_error(
      ddot(aF, dF), [&](double t) { return f(F + t * dF, C, plastic, prm); }, kStep, scale);
  e.C = fd_error(
      ddot(aC, dC), [&](double t) { return f(F, C + t * dC, plastic, prm); }, kCStep, scale);
  e.plastic = fd_error(
      aP * dP, [&](double t) { return f(F, C, plastic + t * dP, prm); }, kStep, scale);
  e.prm = fd_error(
      dotv(aprm, dprm), [&](double t) { return f(F, C, plastic, axpy(prm, t, dprm)); }, kParamStep, scale);
  return e;
}

// adj_project against finite differences of <adj_F_out, F_out> + adj_plastic_out plastic_out.
template <class Model, int D>
Errors check_project(const std::vector<double>& prm, double dt, const Md<D>& F, double plastic,
                     std::mt19937& rng) {
  const Md<D> adj_Fo = random_matrix<double, D>(rng, 1.0);
  const double adj_Po = uniform(rng);
  Md<D> aF = Md<D>::zero();
  double aP = 0;
  std::vector<double> aprm(prm.size(), 0.0);
  Model::template adj_project<double, D>(prm.data(), dt, F, plastic, adj_Fo, adj_Po, aF, aP, aprm.data());
  const Md<D> dF = random_matrix<double, D>(rng, 1.0);
  const double dP = uniform(rng) * plastic;
  const std::vector<double> dprm = param_direction<Model>(prm, rng);
  auto f = [&](const Md<D>& Fx, double px, const std::vector<double>& prmx) {
    Md<D> Fo = Fx;
    double po = px;
    Model::template project<double, D>(prmx.data(), dt, Fo, po);
    return ddot(adj_Fo, Fo) + adj_Po * po;
  };
  // scale: |adj_F_out| (|F| + 1) + |adj_plastic_out| |plastic|
  const double scale = frobenius(adj_Fo) * (frobenius(F) + 1) + std::fabs(adj_Po * plastic);
  Errors e;
  e.F = fd_error(
      ddot(aF, dF), [&](double t) { return f(F + t * dF, plastic, prm); }, kStep, scale);
  e.plastic = fd_error(
      aP * dP, [&](double t) { return f(F, plastic + t * dP, prm); }, kStep, scale);
  e.prm = fd_error(
      dotv(aprm, dprm), [&](double t) { return f(F, plastic, axpy(prm, t, dprm)); }, kParamStep, scale);
  return e;
}

// Parameter sets the adjoints are checked with: the defaults, plus values that switch on every term.
template <class Model>
std::vector<std::vector<double>> param_sets() {
  std::vector<std::vector<double>> sets = {default_params<Model, double>()};
  auto with = [&](std::initializer_list<std::pair<const char*, double>> values) {
    std::vector<double> p = default_params<Model, double>();
    for (const auto& v : values) p[param_index<Model>(v.first)] = v.second;
    sets.push_back(p);
  };
  if constexpr (std::is_same_v<Model, VonMises>) with({{"hardening", 0.5}});
  if constexpr (std::is_same_v<Model, DruckerPrager>) with({{"cohesion", 2e3}, {"volume_correction", 1}});
  if constexpr (std::is_same_v<Model, Fluid>) {
    with({{"gamma", 7}, {"viscosity", 50}});
    with({{"gamma", -1}, {"viscosity", 10}});
    with({{"gamma", 0.5}, {"viscosity", 1}});
    with({{"gamma", 0}});
  }
  if constexpr (std::is_same_v<Model, HerschelBulkley>) {
    with({{"flow_index", 2}});
    with({{"flow_index", 1}, {"consistency", 20}});
    with({{"consistency", 0}});
  }
  return sets;
}

// A projection check: parameters, trial F, plastic state, and the branch expected (1 flows, 0 elastic,
// -1 either): whether F changes.
template <int D>
struct ProjectCase {
  std::string name;
  std::vector<double> prm;
  Md<D> F;
  double plastic;
  int flows;
};

// Elastic and plastic cases per model, each well inside its branch (the branch holds within +-2h).
template <class Model, int D>
std::vector<ProjectCase<D>> project_cases(std::mt19937& rng) {
  const Md<D> Q1 = random_rotation<double, D>(rng), Q2 = random_rotation<double, D>(rng),
              I = Md<D>::identity();
  auto P = [&](std::array<double, 3> s3, std::array<double, 2> s2) { return principal<D>(Q1, s3, s2, Q2); };
  auto Dg = [&](std::array<double, 3> s3, std::array<double, 2> s2) { return principal<D>(I, s3, s2, I); };
  const std::vector<std::vector<double>> sets = param_sets<Model>();
  const std::vector<double>& p0 = sets[0];
  const bool d3 = D == 3;
  std::vector<ProjectCase<D>> c;
  if constexpr (std::is_same_v<Model, VonMises>) {
    for (size_t s = 0; s < sets.size(); ++s) {
      const double pl = s == 0 ? 1.0 : 1.02;
      c.push_back({"rest", sets[s], I, pl, 0});
      c.push_back({"elastic", sets[s], P({1.01, 0.995, 1.0}, {1.01, 0.995}), pl, 0});
      c.push_back({"stretched", sets[s], P({1.3, 1.15, 1.2}, {1.3, 1.15}), pl, 1});
      c.push_back({"compressed", sets[s], P({0.7, 0.85, 0.8}, {0.7, 0.85}), pl, 1});
      c.push_back({"two equal", sets[s], P({1.2, 0.9, 0.9}, {1.1, 1.1}), pl, d3 ? 1 : 0});
      c.push_back({"two exactly equal (diagonal)", sets[s], Dg({1.2, 0.9, 0.9}, {1.2, 0.9}), pl, 1});
      c.push_back({"one small", sets[s], P({1.1, 0.95, 0.1}, {1.05, 0.1}), pl, 1});
      c.push_back({"below the clamp", sets[s], P({1.1, 0.9, 0.03}, {1.1, 0.03}), pl, 1});
      c.push_back({"random", sets[s], random_F<double, D>(rng, 0.3), pl, -1});
    }
  } else if constexpr (std::is_same_v<Model, DruckerPrager>) {
    const std::vector<double>& p1 = sets[1];  // cohesion and volume correction
    c.push_back({"rest, cohesion", p1, I, 1.0, 0});
    c.push_back({"rest, tip (volume correction)", p1, I, 1.03, 1});
    for (size_t s = 0; s < sets.size(); ++s) {
      const double pl = s == 0 ? 1.0 : 1.03;
      c.push_back({"elastic (compression)", sets[s], P({0.95, 0.96, 0.955}, {0.95, 0.96}), pl, 0});
      c.push_back({"shear compression", sets[s], P({1.1, 0.7, 0.95}, {1.1, 0.7}), pl, 1});
      c.push_back({"two equal", sets[s], P({1.15, 0.8, 0.8}, {0.9, 0.9}), pl, d3 ? 1 : 0});
      c.push_back({"two exactly equal (diagonal)", sets[s], Dg({1.15, 0.8, 0.8}, {1.1, 0.7}), pl, 1});
      c.push_back({"one small", sets[s], P({1.2, 1.0, 0.1}, {1.2, 0.1}), pl, 1});
      c.push_back({"below the clamp", sets[s], P({1.2, 1.0, 0.03}, {1.2, 0.03}), pl, 1});
      c.push_back({"expansion (tip)", sets[s], P({1.1, 1.05, 1.2}, {1.1, 1.05}), pl, 1});
      c.push_back({"expansion, two equal (tip)", sets[s], P({1.1, 1.1, 1.2}, {1.1, 1.1}), pl, 1});
    }
  } else if constexpr (std::is_same_v<Model, Snow>) {
    for (double pl : {1.0, 0.98}) {
      c.push_back({"rest", p0, I, pl, 0});
      c.push_back({"elastic", p0, P({1.002, 0.99, 0.98}, {1.002, 0.98}), pl, 0});
      c.push_back({"clamped both ways", p0, P({1.01, 0.97, 0.99}, {1.01, 0.97}), pl, 1});
      c.push_back({"two equal, clamped", p0, P({1.01, 1.01, 0.99}, {1.01, 1.01}), pl, 1});
      c.push_back({"two equal, free", p0, P({1.001, 1.001, 0.96}, {0.96, 0.96}), pl, 1});
      c.push_back({"two exactly equal, free (diagonal)", p0, Dg({1.001, 1.001, 0.96}, {1.001, 0.96}), pl, 1});
      c.push_back({"two exactly equal, clamped (diagonal)", p0, Dg({1.01, 1.01, 0.99}, {0.96, 0.96}), pl, 1});
      c.push_back({"stretched", p0, P({1.3, 1.15, 1.2}, {1.3, 1.15}), pl, 1});
      c.push_back({"compressed", p0, P({0.7, 0.85, 0.8}, {0.7, 0.85}), pl, 1});
      c.push_back({"one small", p0, P({1.1, 0.95, 0.1}, {1.05, 0.1}), pl, 1});
    }
  } else if constexpr (std::is_same_v<Model, HerschelBulkley>) {
    for (const auto& p : sets) {
      c.push_back({"rest", p, I, 1.0, 0});
      c.push_back({"elastic", p, P({1.003, 0.998, 1.0}, {1.003, 0.998}), 1.0, 0});
      c.push_back({"stretched", p, P({1.3, 1.15, 1.2}, {1.3, 1.15}), 1.0, 1});
      c.push_back({"compressed", p, P({0.7, 0.85, 0.8}, {0.7, 0.85}), 1.0, 1});
      c.push_back({"two equal", p, P({1.2, 0.9, 0.9}, {1.1, 1.1}), 1.0, d3 ? 1 : 0});
      c.push_back({"two exactly equal (diagonal)", p, Dg({1.2, 0.9, 0.9}, {1.2, 0.9}), 1.0, 1});
      c.push_back({"one small", p, P({1.1, 0.95, 0.1}, {1.05, 0.1}), 1.0, 1});
      c.push_back({"random", p, random_F<double, D>(rng, 0.3), 1.0, -1});
    }
  } else {
    // elastic models and the fluid: every deformation
    for (const auto& p : sets)
      for (const auto& d : deformations<D>(rng)) c.push_back({d.first, p, d.second, 1.0, -1});
  }
  return c;
}

template <class Model, int D>
Errors stress_adjoints(std::mt19937& rng) {
  Errors worst;
  for (const auto& prm : param_sets<Model>())
    for (const auto& d : deformations<D>(rng))
      for (double plastic : {1.0, 0.97, 1.02}) {
        const Md<D> C = random_matrix<double, D>(rng, 2.0);
        const Errors e = check_stress<Model, D>(prm, d.second, C, plastic, rng);
        INFO(Model::kName << " D=" << D << " " << d.first << " plastic=" << plastic);
        CHECK(e.F <= 1e-6);
        CHECK(e.C <= 1e-6);
        CHECK(e.plastic <= 1e-6);
        CHECK(e.prm <= 1e-6);
        worst.merge(e);
      }
  return worst;
}

template <class Model, int D>
Errors project_adjoints(std::mt19937& rng) {
  Errors worst;
  for (const auto& pc : project_cases<Model, D>(rng)) {
    INFO(Model::kName << " D=" << D << " " << pc.name << " plastic=" << pc.plastic);
    Md<D> Fo = pc.F;
    double po = pc.plastic;
    Model::template project<double, D>(pc.prm.data(), 1e-3, Fo, po);
    const bool flowed = max_diff(Fo, pc.F) > 0;
    if (pc.flows >= 0) CHECK(flowed == (pc.flows == 1));
    for (int dir = 0; dir < 3; ++dir) {
      const Errors e = check_project<Model, D>(pc.prm, 1e-3, pc.F, pc.plastic, rng);
      CHECK(e.F <= 1e-6);
      CHECK(e.plastic <= 1e-6);
      CHECK(e.prm <= 1e-6);
      worst.merge(e);
    }
  }
  return worst;
}

}  // namespace

TEST_CASE_TEMPLATE("material adjoint: adj_stress matches finite differences (every deformation, double)", M,
                   DUCTILE_ALL_ANALYTIC) {
  std::mt19937 rng(101);
  Errors e = stress_adjoints<M, 2>(rng);
  e.merge(stress_adjoints<M, 3>(rng));
  report("stress", M::kName, e);
}

TEST_CASE_TEMPLATE("material adjoint: adj_project matches finite differences in elastic and plastic branches",
                   M, DUCTILE_ALL_ANALYTIC) {
  std::mt19937 rng(202);
  Errors e = project_adjoints<M, 2>(rng);
  e.merge(project_adjoints<M, 3>(rng));
  report("project", M::kName, e);
}

// Every adjoint at exactly F = I is finite (the fully degenerate SVD), in float and double.
template <class Model, class T, int D>
static void check_finite_at_rest() {
  INFO(Model::kName << " " << (sizeof(T) == 4 ? "float" : "double") << " D=" << D);
  std::mt19937 rng(7);
  for (const auto& pd : param_sets<Model>()) {
    std::vector<T> prm(pd.begin(), pd.end());
    for (T plastic : {T(1), T(1.03)}) {
      const Mat<T, D> I = Mat<T, D>::identity(), adj = random_matrix<T, D>(rng, 1.0);
      Mat<T, D> aF = Mat<T, D>::zero(), aC = Mat<T, D>::zero();
      T aP = 0;
      std::vector<T> aprm(prm.size(), T(0));
      Model::template adj_stress<T, D>(prm.data(), I, Mat<T, D>::zero(), plastic, adj, aF, aC, aP,
                                       aprm.data());
      CHECK(all_finite(aF));
      CHECK(all_finite(aC));
      CHECK(std::isfinite(aP));
      for (T v : aprm) CHECK(std::isfinite(v));
      aF = Mat<T, D>::zero(), aP = 0;
      Model::template adj_project<T, D>(prm.data(), T(1e-3), I, plastic, adj, T(0.5), aF, aP, aprm.data());
      CHECK(all_finite(aF));
      CHECK(std::isfinite(aP));
      for (T v : aprm) CHECK(std::isfinite(v));
    }
  }
}

TEST_CASE_TEMPLATE("material adjoint: no adjoint is NaN at exactly F = I (float and double)", M,
                   DUCTILE_ALL_ANALYTIC) {
  check_finite_at_rest<M, float, 2>();
  check_finite_at_rest<M, float, 3>();
  check_finite_at_rest<M, double, 2>();
  check_finite_at_rest<M, double, 3>();
}

namespace {

// Particle arrays and adjoint inputs/outputs of a batched VJP.
template <int D>
struct VjpRun {
  std::vector<double> adj_F, adj_C, adj_plastic, adj_params;
  Status status;
};

template <int D>
State<double, D> adjoint_state(int n, int seed, bool plastic_flow) {
  std::mt19937 rng(seed);
  State<double, D> s;
  s.resize(n);
  for (int p = 0; p < n; ++p) {
    // mild strains, or large ones that make the plastic models flow
    store_mat<double, D>(s.F.data(), n, p, random_F<double, D>(rng, plastic_flow ? 0.3 : 0.002));
    store_mat<double, D>(s.C.data(), n, p, random_matrix<double, D>(rng, 1.0));
    s.plastic[p] = 1.0 + 0.01 * (p % 3);
  }
  return s;
}

std::vector<double> random_vector(size_t n, std::mt19937& rng) {
  std::vector<double> v(n);
  for (auto& x : v) x = uniform(rng);
  return v;
}

// Runs stress_vjp (project = false) or project_vjp on the CPU from fixed nonzero starting adjoints.
template <class Model, int D>
VjpRun<D> run_vjp(const Material<double, D>& mat, State<double, D>& s, const std::vector<int32_t>& index,
                  const std::vector<double>& adj_in, const std::vector<double>& adj_plastic_out,
                  bool project) {
  const int n = s.n;
  std::mt19937 rng(99);
  VjpRun<D> r;
  r.adj_F = random_vector(size_t(D * D) * n, rng);
  r.adj_C = random_vector(size_t(D * D) * n, rng);
  r.adj_plastic = random_vector(n, rng);
  r.adj_params = random_vector(Model::specs().size(), rng);
  const MaterialBatch batch{index.data(), int(index.size())};
  if (project)
    mat.project_vjp(Device::kCpu, 1e-3, s.view(), batch, adj_in.data(), adj_plastic_out.data(),
                    r.adj_F.data(), r.adj_plastic.data(), r.adj_params.data(), &r.status);
  else
    mat.stress_vjp(Device::kCpu, s.view(), batch, adj_in.data(), r.adj_F.data(), r.adj_C.data(),
                   r.adj_plastic.data(), r.adj_params.data(), &r.status);
  return r;
}

// The same VJP on the GPU agrees with the CPU result r (to round-off: the GPU may contract to FMA).
template <class Model, int D>
void check_batched_cuda(const Material<double, D>& mat, const State<double, D>& s,
                        const std::vector<int32_t>& index, const std::vector<double>& adj_in,
                        const std::vector<double>& adj_po, bool project, const VjpRun<D>& r) {
  const int n = s.n;
  std::mt19937 rng(99);  // the starting adjoints of run_vjp
  std::vector<double> F0 = random_vector(size_t(D * D) * n, rng), C0 = random_vector(size_t(D * D) * n, rng);
  std::vector<double> P0 = random_vector(n, rng), prm0 = random_vector(Model::specs().size(), rng);
  auto up = [](const auto& h) {
    Buffer<typename std::decay_t<decltype(h)>::value_type> b(Device::kCuda, 0);
    b.upload(h);
    return b;
  };
  Buffer<double> F = up(s.F), C = up(s.C), pl = up(s.plastic), ain = up(adj_in), apo = up(adj_po);
  Buffer<double> aF = up(F0), aC = up(C0), aP = up(P0), aprm = up(prm0);
  Buffer<int32_t> idx = up(index);
  Buffer<Status> st = up(std::vector<Status>(1));
  ParticleView<double, D> v;
  v.n = n, v.F = F.data(), v.C = C.data(), v.plastic = pl.data();
  const MaterialBatch batch{idx.data(), int(index.size())};
  if (project)
    mat.project_vjp(Device::kCuda, 1e-3, v, batch, ain.data(), apo.data(), aF.data(), aP.data(), aprm.data(),
                    st.data());
  else
    mat.stress_vjp(Device::kCuda, v, batch, ain.data(), aF.data(), aC.data(), aP.data(), aprm.data(),
                   st.data());
  std::vector<double> gF, gC, gP, gprm;
  std::vector<Status> gst;
  aF.download(gF), aC.download(gC), aP.download(gP), aprm.download(gprm), st.download(gst);
  CHECK(gst[0].bits == 0u);
  auto close = [](const std::vector<double>& a, const std::vector<double>& b) {
    double m = 0, d = 0;
    for (size_t i = 0; i < a.size(); ++i)
      m = std::fmax(m, std::fabs(b[i])), d = std::fmax(d, std::fabs(a[i] - b[i]));
    return d <= 1e-10 * std::fmax(m, 1.0);
  };
  CHECK(close(gF, r.adj_F));
  CHECK(close(gC, r.adj_C));
  CHECK(close(gP, r.adj_plastic));
  CHECK(close(gprm, r.adj_params));
}

// The batched VJPs equal the per-particle adjoints: the same bits per particle, parameter sums to round-off.
template <class Model, int D>
void check_batched(bool project) {
  INFO(Model::kName << " D=" << D << (project ? " project_vjp" : " stress_vjp"));
  auto mat = MaterialRegistry::instance().make<double, D>(Model::kName);
  const std::vector<double> prm = param_sets<Model>().back();
  mat->values() = prm;
  const int n = 41;
  State<double, D> s = adjoint_state<D>(n, 5, project);
  std::vector<int32_t> index;
  for (int i = n - 1; i >= 0; i -= 2) index.push_back(i);  // every other particle, reversed
  std::mt19937 rng(3);
  const std::vector<double> adj_in = random_vector(size_t(D * D) * n, rng), adj_po = random_vector(n, rng);
  const VjpRun<D> r = run_vjp<Model, D>(*mat, s, index, adj_in, adj_po, project);
  CHECK(r.status.bits == 0u);
  // reference: the same starting values plus per-particle model calls
  std::mt19937 rng0(99);
  std::vector<double> eF = random_vector(size_t(D * D) * n, rng0),
                      eC = random_vector(size_t(D * D) * n, rng0);
  std::vector<double> eP = random_vector(n, rng0), eprm = random_vector(prm.size(), rng0),
                      sum(prm.size(), 0.0);
  for (int i : index) {
    const Md<D> F = load_mat<double, D>(s.F.data(), n, i), A = load_mat<double, D>(adj_in.data(), n, i);
    Md<D> aF = Md<D>::zero(), aC = Md<D>::zero();
    double aP = 0;
    std::vector<double> aprm(prm.size(), 0.0);
    if (project)
      Model::template adj_project<double, D>(prm.data(), 1e-3, F, s.plastic[i], A, adj_po[i], aF, aP,
                                             aprm.data());
    else
      Model::template adj_stress<double, D>(prm.data(), F, load_mat<double, D>(s.C.data(), n, i),
                                            s.plastic[i], A, aF, aC, aP, aprm.data());
    add_mat<double, D>(eF.data(), n, i, aF);
    if (!project) add_mat<double, D>(eC.data(), n, i, aC);
    eP[i] += aP;
    for (size_t q = 0; q < prm.size(); ++q) sum[q] += aprm[q];
  }
  CHECK(std::memcmp(eF.data(), r.adj_F.data(), eF.size() * sizeof(double)) == 0);
  CHECK(std::memcmp(eC.data(), r.adj_C.data(), eC.size() * sizeof(double)) == 0);
  CHECK(std::memcmp(eP.data(), r.adj_plastic.data(), eP.size() * sizeof(double)) == 0);
  for (size_t q = 0; q < prm.size(); ++q)
    CHECK(r.adj_params[q] - eprm[q] == doctest::Approx(sum[q]).epsilon(1e-12).scale(std::fabs(eprm[q])));
  if (cuda_available()) check_batched_cuda<Model, D>(*mat, s, index, adj_in, adj_po, project, r);
}

}  // namespace

TEST_CASE_TEMPLATE(
    "material adjoint: batched stress_vjp and project_vjp equal the sum of per-particle adjoints", M,
    DUCTILE_ALL_ANALYTIC) {
  for (bool project : {false, true}) {
    check_batched<M, 2>(project);
    check_batched<M, 3>(project);
  }
}

TEST_CASE_TEMPLATE(
    "material adjoint: batched parameter adjoints are bit-identical for 1 and 2 OpenMP threads", M,
    DUCTILE_ALL_ANALYTIC) {
  auto mat = MaterialRegistry::instance().make<double, 3>(M::kName);
  mat->values() = param_sets<M>().back();
  const int n = 3000;  // several reduction chunks
  State<double, 3> s = adjoint_state<3>(n, 8, true);
  std::vector<int32_t> index(n);
  for (int i = 0; i < n; ++i) index[i] = (i * 7) % n;  // a permutation (7 and 3000 are coprime)
  std::mt19937 rng(4);
  const std::vector<double> adj_in = random_vector(size_t(9) * n, rng), adj_po = random_vector(n, rng);
  const int threads = omp_get_max_threads();
  for (bool project : {false, true}) {
    omp_set_num_threads(1);
    const VjpRun<3> one = run_vjp<M, 3>(*mat, s, index, adj_in, adj_po, project);
    omp_set_num_threads(2);
    const VjpRun<3> two = run_vjp<M, 3>(*mat, s, index, adj_in, adj_po, project);
    omp_set_num_threads(threads);
    CHECK(one.status.bits == 0u);
    CHECK(std::memcmp(one.adj_params.data(), two.adj_params.data(), one.adj_params.size() * sizeof(double)) ==
          0);
    CHECK(std::memcmp(one.adj_F.data(), two.adj_F.data(), one.adj_F.size() * sizeof(double)) == 0);
    CHECK(std::memcmp(one.adj_plastic.data(), two.adj_plastic.data(),
                      one.adj_plastic.size() * sizeof(double)) == 0);
  }
}

TEST_CASE("material adjoint: a NaN adjoint raises kStatusNonFinite at its stage and is not zeroed") {
  auto mat = MaterialRegistry::instance().make<double, 3>("von_mises");
  const int n = 4;
  State<double, 3> s = adjoint_state<3>(n, 2, true);
  std::vector<int32_t> index = {0, 1, 2, 3};
  std::vector<double> adj_in(9 * n, 0.5), adj_po(n, 0.0);
  adj_in[0 * n + 2] = std::numeric_limits<double>::quiet_NaN();  // entry (0, 0) of particle 2
  for (bool project : {false, true}) {
    const VjpRun<3> r = run_vjp<VonMises, 3>(*mat, s, index, adj_in, adj_po, project);
    CHECK((r.status.bits & kStatusNonFinite) != 0u);
    CHECK(r.status.particle == 2);
    CHECK(r.status.stages == (1u << (project ? kStageProject : kStageStress)));
    CHECK(std::isnan(r.adj_F[2]));
    CHECK(std::isfinite(r.adj_F[1]));
  }
}
