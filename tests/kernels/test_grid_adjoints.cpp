// Adjoints of the grid update (kernels/grid_update.h) against central finite differences in double
// precision, in 2D and 3D:
//   - adj_apply_surface branch by branch: sticky; slip and separate, without and with Coulomb friction,
//     moving into and away from the surface; the friction clamp (scale <= 0); with respect to v_rel, the
//     normal n and mu (adjoints accumulate);
//   - GridUpdateAdjoint on 12^D nodes (some without mass) with domain walls (sticky, slip without and with
//     friction, separate with friction) and five moving, rotating colliders (a slip sphere with friction, a
//     separate box with friction, a sticky plane, a frictionless slip cylinder, a separate SDF with
//     friction), with respect to the grid momentum and mass, gravity, the wall friction and each collider's
//     lin, t, friction, omega and rotation R (GridParamLayout; the per-row partial sums are added up over
//     rows).
// Boundary conditions are piecewise smooth and the adjoints differentiate each piece (no derivative across a
// switch). So the inputs sit away from the switches: the single-surface cases by construction, the grid by
// drawing seeds until every node is at least 1e-4 from each switch (collider surfaces, the normals' own
// switches, v_n = 0, |v_t| = 0, friction scale = 0), a hundred times the largest perturbation of a
// difference. Every group is then held to a relative error of 1e-6 (fd_error in adjoint_fd.h).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "adjoint_fd.h"
#include "kernels/grid_update.h"

using namespace ductile;
using namespace ductile::kadj;

namespace {

const char* surface_name(Surface s) {
  return s == Surface::kSticky ? "sticky" : s == Surface::kSlip ? "slip" : "separate";
}

template <int D>
Vec<double, D> random_vec(Rng& rng, double scale) {
  Vec<double, D> v;
  for (int d = 0; d < D; ++d) v[d] = scale * randn(rng, 1)[0];
  return v;
}

// One surface case: normal speed sign and magnitude in [0.5, 1], |v_t| = 2, so that friction 0.3 leaves a
// scale >= 0.85 and friction 5 clamps (scale <= -0.25).
template <int D>
void check_surface(Surface s, double mu, double vn_sign, Rng& rng) {
  Vec<double, D> n = random_vec<D>(rng, 1);
  n = (1 / norm(n)) * n;
  Vec<double, D> vt = random_vec<D>(rng, 1);
  vt = vt - dot(vt, n) * n;
  vt = (2 / norm(vt)) * vt;
  Vec<double, D> v = vt + (vn_sign * uniform(rng, 0.5, 1)) * n;
  const std::vector<double> cot = randn(rng, D);
  const Forward fwd = [&] { return values(apply_surface(s, mu, v, n)); };
  Vec<double, D> av = random_vec<D>(rng, 1), an = random_vec<D>(rng, 1);
  const Vec<double, D> av0 = av, an0 = an;
  double amu = 0.7;
  Vec<double, D> a;
  for (int d = 0; d < D; ++d) a[d] = cot[d];
  adj_apply_surface(s, mu, v, n, a, av, an, amu);
  av = av - av0, an = an - an0, amu -= 0.7;
  const std::string tag = "surface " + std::to_string(D) + "D " + surface_name(s) + " mu " +
                          std::to_string(mu).substr(0, 3) + (vn_sign < 0 ? " into: " : " away: ");
  check_group(tag + "v_rel", inputs(v), values(av), 1, cot, fwd, rng);
  check_group(tag + "n", inputs(n), values(an), 1, cot, fwd, rng);
  // at mu = 0 friction switches on for mu > 0 only: the adjoint is the left derivative, 0
  if (mu > 0) check_group(tag + "mu", inputs(mu), {amu}, 0.1, cot, fwd, rng);
  // sticky, and the friction clamp while in contact: no dependence at all
  if (s == Surface::kSticky || (mu > 1 && !(s == Surface::kSeparate && vn_sign > 0)))
    for (int d = 0; d < D; ++d) CHECK((av[d] == 0.0 && an[d] == 0.0 && amu == 0.0));
}

// A grid update scene: momentum, mass, gravity, walls and colliders (the kernels point into it).
template <int D>
struct Scene {
  GridSpec<double, D> spec;
  std::vector<double> mass, mv;
  Vec<double, D> gravity = Vec<double, D>::zero();
  double dt = 1e-2;
  WallData<double, D> walls;
  std::vector<ColliderData<double, D>> colliders;
  std::vector<double> sdf;

  Scene(Rng& rng, Surface wall_surface, double wall_friction) {
    spec.origin = Vec<double, D>::zero();
    spec.dx = 0.1;
    spec.inv_dx = 10;
    for (int d = 0; d < D; ++d) spec.res[d] = 12, walls.lo[d] = 0, walls.hi[d] = 11;
    walls.surface = wall_surface;
    walls.friction = wall_friction;
    const int64_t nodes = spec.num_nodes();
    for (int64_t i = 0; i < nodes; ++i)
      mass.push_back(uniform(rng, 0, 1) < 0.05 ? 0 : uniform(rng, 0.5, 1.5));
    mv = randn(rng, D * nodes);
    for (int d = 0; d < D; ++d)
      for (int64_t i = 0; i < nodes; ++i) mv[d * nodes + i] *= mass[i];
    gravity[1] = -9.8;
    auto place = [&](ColliderShape shape, Surface s, double mu, std::initializer_list<double> t,
                     double max_angle) {
      ColliderData<double, D> c =
          shape == ColliderShape::kSdf ? ellipsoid_sdf<D>(sdf, 0.15) : ColliderData<double, D>{};
      c.shape = shape, c.surface = s, c.friction = mu;
      c.R = random_rotation<D>(rng, max_angle);
      for (int d = 0; d < D; ++d) c.t[d] = t.begin()[d] + uniform(rng, -0.02, 0.02);
      c.lin = random_vec<D>(rng, 0.5);
      for (double& w : c.omega) w = randn(rng, 1)[0];
      colliders.push_back(c);
      return &colliders.back();
    };
    colliders.reserve(5);
    auto* sphere = place(ColliderShape::kSphere, Surface::kSlip, 0.4, {0.35, 0.4, 0.45}, 3);
    sphere->p[0] = 0.2;
    auto* box = place(ColliderShape::kBox, Surface::kSeparate, 0.3, {0.75, 0.35, 0.6}, 3);
    box->p[0] = 0.15, box->p[1] = 0.1, box->p[2] = 0.12;
    auto* plane = place(ColliderShape::kPlane, Surface::kSticky, 0.5, {0.5, 0.22, 0.5}, 0.2);
    plane->p[1] = 1;
    auto* cylinder = place(ColliderShape::kCylinder, Surface::kSlip, 0, {0.4, 0.75, 0.4}, 3);
    cylinder->p[0] = 0.17, cylinder->p[1] = 0.2;
    place(ColliderShape::kSdf, Surface::kSeparate, 0.5, {0.75, 0.75, 0.75}, 3);
  }

  GridUpdate<double, D> kernel(double* mv_io) {
    return GridUpdate<double, D>{GridView<double, D>{spec, mass.data(), mv_io},
                                 gravity,
                                 dt,
                                 walls,
                                 colliders.data(),
                                 int(colliders.size())};
  }
};

// Distance of the scene to the switches of its boundary conditions (see the header) and how many nodes each
// branch saw.
struct Margins {
  double min = 1e30;
  int inside[5] = {};
  int friction = 0, clamped = 0, open = 0;
  void surface(Surface s, double mu, const double* v, const double* n, int D) {
    if (s == Surface::kSticky) return;
    double vn = 0, vt2 = 0, v2 = 0;
    for (int d = 0; d < D; ++d) v2 += v[d] * v[d];
    if (v2 == 0) return;  // stopped by a friction clamp at an earlier wall face, for any nearby input
    for (int d = 0; d < D; ++d) vn += v[d] * n[d];
    for (int d = 0; d < D; ++d) vt2 += (v[d] - vn * n[d]) * (v[d] - vn * n[d]);
    if (s == Surface::kSeparate) {
      min = std::fmin(min, std::fabs(vn));
      if (vn >= 0) {
        ++open;
        return;
      }
    }
    // friction: |v_n| and |v_t| are smooth away from 0 (v_t is exactly 0, for any nearby input, only where
    // earlier wall faces removed every other component: a corner), and the clamp switches at scale 0
    if (mu > 0 && vt2 > 0) {
      const double scale = 1 - mu * std::fabs(vn) / std::sqrt(vt2);
      min = std::fmin(min, std::fmin(std::fabs(vn), std::fmin(std::sqrt(vt2), std::fabs(scale))));
      ++(scale > 0 ? friction : clamped);
    }
  }
};

template <int D>
Margins margins(const GridUpdateAdjoint<double, D>& adj) {
  Margins r;
  const GridUpdate<double, D>& f = adj.fwd;
  const int64_t nodes = f.g.spec.num_nodes();
  for (int64_t idx = 0; idx < nodes; ++idx) {
    const double m = f.g.mass[idx];
    if (!(m > 0)) continue;
    int c[D];
    int64_t rest = idx;
    for (int d = D - 1; d >= 0; --d) c[d] = int(rest % f.g.spec.res[d]), rest /= f.g.spec.res[d];
    const Vec<double, D> xn = f.g.spec.node_position(c);
    Vec<double, D> v;
    for (int d = 0; d < D; ++d) v[d] = f.g.mv[d * nodes + idx] / m + f.dt * f.gravity[d];
    for (int j = 0; j < f.num_colliders + D; ++j) {
      Vec<double, D> nrm;
      if (j < f.num_colliders) {
        const ColliderData<double, D>& cd = f.colliders[j];
        const double phi = collider_phi(cd, xn, nrm);
        r.min = std::fmin(r.min, std::fabs(phi));
        if (phi < 0) {
          ++r.inside[j];
          r.min = std::fmin(r.min, normal_margin(cd, xn));
          r.surface(cd.surface, cd.friction, (v - collider_velocity(cd, xn)).v, nrm.v, D);
        }
      } else if (adj.wall_normal(j - f.num_colliders, c, nrm)) {
        r.surface(f.walls.surface, f.walls.friction, v.v, nrm.v, D);
      }
      v = adj.stage(j, c, xn, v);
    }
  }
  return r;
}

template <int D>
void check_grid_update(Surface wall_surface, double wall_friction) {
  // draw scenes until one keeps 1e-4 from every switch with every collider touching some node
  Rng rng;
  std::vector<double> out;
  Scene<D>* scene = nullptr;
  std::vector<Scene<D>> tries;
  tries.reserve(40);
  Margins mg;
  for (int seed = 0; seed < 40 && !scene; ++seed) {
    rng.seed(1000 * D + 10 * int(wall_surface) + seed + (wall_friction > 0 ? 500 : 0));
    Scene<D>& s = tries.emplace_back(rng, wall_surface, wall_friction);
    mg = margins(GridUpdateAdjoint<double, D>{s.kernel(s.mv.data())});
    bool touched = true;
    for (int k = 0; k < 5; ++k) touched = touched && mg.inside[k] > 0;
    if (mg.min > 1e-4 && touched) scene = &s;
  }
  REQUIRE(scene != nullptr);
  Scene<D>& s = *scene;
  const int64_t nodes = s.spec.num_nodes();
  const Forward fwd = [&] {
    out = s.mv;
    const GridUpdate<double, D> k = s.kernel(out.data());
    for (int64_t i = 0; i < nodes; ++i) k(i);
    return out;
  };
  const std::vector<double> cot = randn(rng, D * nodes);
  // adj_mv and adj_mass are written (NaN before); row partial sums too
  using L = GridParamLayout<D>;
  const int P = L::size(5);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> amv(D * nodes, nan), amass(nodes, nan), rows;
  const GridUpdateAdjoint<double, D> adj{s.kernel(s.mv.data()), cot.data(), amv.data(), amass.data(),
                                         nullptr};
  rows.assign(size_t(adj.rows() * P), nan);
  GridUpdateAdjoint<double, D> a = adj;
  a.row_params = rows.data();
  for (int64_t r = 0; r < a.rows(); ++r) a(r);
  std::vector<double> prm(P, 0.0);
  for (int64_t r = 0; r < a.rows(); ++r)
    for (int j = 0; j < P; ++j) prm[j] += rows[r * P + j];
  auto params = [&](int at, int count) {
    return std::vector<double>(prm.begin() + at, prm.begin() + at + count);
  };
  // the mass group: nodes with mass only (zero-mass nodes stay empty for any small change of momentum)
  Inputs mass_in;
  std::vector<double> mass_adj;
  for (int64_t i = 0; i < nodes; ++i) {
    if (s.mass[i] > 0) {
      mass_in.push_back(&s.mass[i]), mass_adj.push_back(amass[i]);
    } else {
      CHECK(amass[i] == 0.0);
      for (int d = 0; d < D; ++d) CHECK(amv[d * nodes + i] == 0.0);
    }
  }

  const std::string tag = "grid " + std::to_string(D) + "D walls " + surface_name(wall_surface) + " mu " +
                          std::to_string(wall_friction).substr(0, 3) + ": ";
  check_group(tag + "momentum", inputs(s.mv), amv, 1, cot, fwd, rng);
  check_group(tag + "mass", mass_in, mass_adj, 0.3, cot, fwd, rng);
  check_group(tag + "gravity", inputs(s.gravity), params(L::kGravity, D), 1, cot, fwd, rng);
  if (wall_friction > 0)
    check_group(tag + "wall friction", inputs(s.walls.friction), params(L::kWallFriction, 1), 0.1, cot, fwd,
                rng);
  const char* names[5] = {"sphere", "box", "plane", "cylinder", "sdf"};
  for (int k = 0; k < 5; ++k) {
    ColliderData<double, D>& c = s.colliders[k];
    const std::string ck = tag + names[k] + " ";
    check_group(ck + "lin", inputs(c.lin), params(L::lin(k), D), 0.5, cot, fwd, rng);
    check_group(ck + "t", inputs(c.t), params(L::trans(k), D), 0.1, cot, fwd, rng);
    if (c.friction > 0)
      check_group(ck + "friction", inputs(c.friction), params(L::friction(k), 1), 0.1, cot, fwd, rng);
    // angular velocity (2D: about z) and the rotation R as a general matrix
    Inputs win, rin;
    for (int w = 0; w < L::kOmega; ++w) win.push_back(&c.omega[3 - L::kOmega + w]);
    for (int d = 0; d < D; ++d)
      for (int e = 0; e < D; ++e) rin.push_back(&c.R(d, e));
    // (own directions, so that the shared stream gives the other groups theirs as before). Omega's effect is
    // small next to the outputs it touches (S in adjoint_fd.h), so its steps are larger (1.6e-5 rad/s:
    // node velocities change by under 1e-5 m/s, a tenth of the margins) to keep the differences' round-off
    // down. The 2D cylinder is a frictionless slip disk: omega x r is tangential there and slip drops the
    // tangential part, so nothing depends on omega and the differences are round-off alone (about 1e-10 S,
    // the floor's size); its adjoint must be zero to round-off instead.
    Rng own(23 + k);
    if (D == 2 && k == 3)
      CHECK(std::fabs(params(L::omega(k), 1)[0]) < 1e-14);
    else
      check_group(ck + "omega", win, params(L::omega(k), L::kOmega), 16, cot, fwd, own);
    check_group(ck + "R", rin, params(L::rot(k), D * D), 0.2, cot, fwd, own);
  }
  // the scene exercised the friction branches
  CHECK(mg.friction > 0);
  CHECK(mg.clamped > 0);
  CHECK(mg.open > 0);
}

}  // namespace

TEST_CASE("grid adjoints: adj_apply_surface per branch against finite differences") {
  Rng rng(7);
  for (Surface s : {Surface::kSticky, Surface::kSlip, Surface::kSeparate})
    for (double mu : {0.0, 0.3, 5.0})
      for (double vn_sign : {-1.0, 1.0}) {
        const std::string surface = surface_name(s);
        CAPTURE(surface);
        CAPTURE(mu);
        CAPTURE(vn_sign);
        check_surface<2>(s, mu, vn_sign, rng);
        check_surface<3>(s, mu, vn_sign, rng);
      }
}

TEST_CASE("grid adjoints: GridUpdateAdjoint against finite differences with walls and five colliders") {
  const std::pair<Surface, double> walls[] = {
      {Surface::kSticky, 0.0}, {Surface::kSlip, 0.0}, {Surface::kSlip, 0.3}, {Surface::kSeparate, 0.3}};
  for (const auto& wall_case : walls) {
    // named copies, not structured bindings: C++17 lambdas (CAPTURE) cannot capture bindings in clang
    const Surface surface = wall_case.first;
    const double friction = wall_case.second;
    const std::string wall = surface_name(surface);
    CAPTURE(wall);
    CAPTURE(friction);
    check_grid_update<2>(surface, friction);
    check_grid_update<3>(surface, friction);
  }
}
