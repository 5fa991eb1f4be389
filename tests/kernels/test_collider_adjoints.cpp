// Adjoints of the collider geometry (kernels/collider.h) against central finite differences in double
// precision, in 2D and 3D, for rotated and translated colliders:
//   - sample_sdf_hessian against differences of sample_sdf's gradient, inside the sampled grid and beyond
//     one of its faces (where that axis is clamped; with the SDF normal's adjoint there too);
//   - adj_collider_normal_t, the adjoint of the outward normal at points inside the collider with respect to
//     its translation t, for the plane, box, sphere, cylinder (2D disk; 3D side and caps) and an SDF sampled
//     from an analytic ellipsoid;
//   - adj_collider_normal_pose, the same normal's adjoint with respect to the whole pose: t (the same as
//     adj_collider_normal_t) and the rotation R as a general matrix (all D x D entries perturbed);
//   - adj_collider_velocity_t (and lin, whose adjoint is the velocity's) with a spinning collider, and
//     adj_collider_velocity_omega, with a dot-product test (the velocity is affine in omega).
// Points keep 1e-3 from the surface and from the normal's switches (normal_margin in adjoint_fd.h); the
// normal is smooth there and every group is held to a relative error of 1e-6.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "adjoint_fd.h"
#include "kernels/collider.h"

using namespace ductile;
using namespace ductile::kadj;

namespace {

template <int D>
Vec<double, D> vec(const std::vector<double>& v) {
  Vec<double, D> r;
  for (int d = 0; d < D; ++d) r[d] = v[d];
  return r;
}

template <int D>
std::string tag(const char* what) {
  return std::string("collider ") + std::to_string(D) + "D " + what + ": ";
}

// `count` points inside collider c, drawn from t + R [-ext, ext]^D, at least 1e-3 from its surface and from
// the switches of its normal (accept, if given, may ask for more).
template <int D, class Accept>
std::vector<Vec<double, D>> inside_points(const ColliderData<double, D>& c, double ext, int count, Rng& rng,
                                          Accept&& accept) {
  std::vector<Vec<double, D>> pts;
  for (int tries = 0; tries < 100000 && int(pts.size()) < count; ++tries) {
    Vec<double, D> xl;
    for (int d = 0; d < D; ++d) xl[d] = uniform(rng, -ext, ext);
    const Vec<double, D> x = c.t + c.R * xl;
    Vec<double, D> n;
    if (collider_phi(c, x, n) < -1e-3 && normal_margin(c, x) > 1e-3 && accept(xl)) pts.push_back(x);
  }
  REQUIRE(int(pts.size()) == count);
  return pts;
}

// adj_collider_normal_t summed over the points against differences of their normals in t.
template <int D>
void check_normal_t(const char* what, ColliderData<double, D>& c, const std::vector<Vec<double, D>>& pts,
                    Rng& rng) {
  const std::vector<double> cot = randn(rng, D * pts.size());
  std::vector<double> adj(D, 0.0);
  for (size_t k = 0; k < pts.size(); ++k) {
    const Vec<double, D> a = adj_collider_normal_t(c, pts[k], vec<D>({cot.begin() + D * k, cot.end()}));
    for (int d = 0; d < D; ++d) adj[d] += a[d];
  }
  const Forward fwd = [&] {
    std::vector<double> y;
    for (const auto& x : pts) {
      Vec<double, D> n;
      collider_phi(c, x, n);
      for (int d = 0; d < D; ++d) y.push_back(n[d]);
    }
    return y;
  };
  check_group(tag<D>(what) + "normal in t", inputs(c.t), adj, 0.1, cot, fwd, rng);
  // the whole pose: t as above, and R
  Vec<double, D> adj_t = Vec<double, D>::zero();
  Mat<double, D> adj_R = Mat<double, D>::zero();
  for (size_t k = 0; k < pts.size(); ++k) {
    Vec<double, D> n;
    collider_phi(c, pts[k], n);
    adj_collider_normal_pose(c, pts[k], n, vec<D>({cot.begin() + D * k, cot.end()}), adj_t, adj_R);
  }
  for (int d = 0; d < D; ++d) CHECK(adj_t[d] == doctest::Approx(adj[d]).epsilon(1e-12).scale(1e-12));
  Inputs rin;
  std::vector<double> radj;
  for (int d = 0; d < D; ++d)
    for (int e = 0; e < D; ++e) rin.push_back(&c.R(d, e)), radj.push_back(adj_R(d, e));
  Rng own(17);  // its own directions: the shared stream draws the other checks' points as before
  check_group(tag<D>(what) + "normal in R", rin, radj, 0.1, cot, fwd, own);
}

template <int D>
void check_shapes(Rng& rng) {
  auto any = [](const Vec<double, D>&) { return true; };
  ColliderData<double, D> c;
  c.R = random_rotation<D>(rng, 3);
  c.t = vec<D>({0.3, -0.2, 0.5});
  // plane through t: a constant normal
  c.shape = ColliderShape::kPlane;
  c.p[0] = 0.6, c.p[1] = 0.8;
  check_normal_t("plane", c, inside_points(c, 0.4, 8, rng, any), rng);
  // box: a face normal, constant between the ties
  c.shape = ColliderShape::kBox;
  c.p[0] = 0.3, c.p[1] = 0.2, c.p[2] = 0.25;
  check_normal_t("box", c, inside_points(c, 0.3, 8, rng, any), rng);
  // sphere and the 2D cylinder (a disk): radial normals
  c.shape = ColliderShape::kSphere;
  c.p[0] = 0.3;
  check_normal_t("sphere", c, inside_points(c, 0.3, 8, rng, any), rng);
  c.shape = ColliderShape::kCylinder;
  c.p[0] = 0.25, c.p[1] = 0.3;
  if constexpr (D == 3) {
    // the side (radial in x-z) and the caps (axial, constant) separately, then mixed
    auto side = [&](const Vec<double, D>& xl) {
      return std::sqrt(xl[0] * xl[0] + xl[2] * xl[2]) - c.p[0] > std::fabs(xl[1]) - c.p[1];
    };
    auto cap = [&](const Vec<double, D>& xl) { return !side(xl); };
    check_normal_t("cylinder side", c, inside_points(c, 0.3, 8, rng, side), rng);
    check_normal_t("cylinder cap", c, inside_points(c, 0.3, 8, rng, cap), rng);
  }
  check_normal_t("cylinder", c, inside_points(c, 0.3, 8, rng, any), rng);
  // an SDF sampled from an ellipse or ellipsoid: the normalised trilinear gradient
  std::vector<double> data;
  ColliderData<double, D> s = ellipsoid_sdf<D>(data, 0.2);
  s.R = c.R, s.t = c.t;
  check_normal_t("sdf", s, inside_points(s, 0.3, 8, rng, any), rng);
}

// sample_sdf_hessian(xl) against differences of sample_sdf's gradient at the points xl.
template <int D>
void check_hessian(const char* what, const ColliderData<double, D>& c, const std::vector<Vec<double, D>>& pts,
                   Rng& rng) {
  for (Vec<double, D> xl : pts) {
    const Mat<double, D> H = sample_sdf_hessian(c, xl);
    const std::vector<double> cot = randn(rng, D);
    std::vector<double> adj(D, 0.0);
    for (int d = 0; d < D; ++d) {
      CHECK(H(d, d) == 0.0);
      for (int e = 0; e < D; ++e) adj[e] += cot[d] * H(d, e);
    }
    const Forward fwd = [&] {
      Vec<double, D> g;
      sample_sdf(c, xl, g);
      return values(g);
    };
    // the gradient is multilinear within a cell, so the difference is exact but for round-off at any step
    // that stays in the cell: a step of 1e-3 along directions of 0.01 m moves xl by about 1e-5 m (the
    // points keep 1e-3 m from the faces), and the round-off stays far below the Hessian's small entries
    check_group(tag<D>(what) + "sdf hessian", inputs(xl), adj, 0.01, cot, fwd, rng, 1e-6, 1e-3);
  }
}

template <int D>
void check_sdf_hessian(Rng& rng) {
  std::vector<double> data;
  const ColliderData<double, D> c = ellipsoid_sdf<D>(data, 0.2);
  // inside the sampled grid [-0.3, 0.3]^D, off the cell faces
  std::vector<Vec<double, D>> pts;
  while (pts.size() < 6) {
    Vec<double, D> xl;
    for (int d = 0; d < D; ++d) xl[d] = uniform(rng, -0.29, 0.29);
    if (normal_margin(c, xl) > 1e-3) pts.push_back(xl);
  }
  check_hessian("in grid", c, pts, rng);
}

// Beyond the sampled grid's +x face (u > res - 1 on axis 0, which sample_sdf clamps), inside a slanted
// surface whose slope along x depends on the other coordinates: the clamped gradient component is the last
// cell's slope along x, which still varies with the live coordinates.
template <int D>
void check_sdf_beyond_grid(Rng& rng) {
  std::vector<double> data;
  const ColliderData<double, D> slanted = sampled_sdf<D>(data, [](const Vec<double, D>& y) {
    return y[D - 1] + 0.5 * y[0] * y[D - 1] + 0.3 * y[0] * y[0] - 0.1;
  });
  std::vector<Vec<double, D>> pts;
  while (pts.size() < 4) {
    Vec<double, D> xl;
    xl[0] = uniform(rng, 0.31, 0.4);
    for (int d = 1; d < D; ++d) xl[d] = uniform(rng, -0.29, 0.29);
    xl[D - 1] = uniform(rng, -0.29, -0.1);  // inside: phi < 0
    Vec<double, D> probe = xl;
    probe[0] = 0.275;  // off the cell faces of the live axes
    if (normal_margin(slanted, probe) > 1e-3) pts.push_back(xl);
  }
  check_hessian("beyond +x", slanted, pts, rng);
  // and the normal's adjoint in t there, for the collider rotated and moved
  ColliderData<double, D> moved = slanted;
  moved.R = random_rotation<D>(rng, 3);
  moved.t = Vec<double, D>::constant(0.2);
  std::vector<Vec<double, D>> world;
  for (const auto& xl : pts) {
    world.push_back(moved.t + moved.R * xl);
    Vec<double, D> n;
    REQUIRE(collider_phi(moved, world.back(), n) < -1e-3);
  }
  check_normal_t("sdf beyond +x", moved, world, rng);
}

template <int D>
void check_velocity_t(Rng& rng) {
  ColliderData<double, D> c;
  c.R = random_rotation<D>(rng, 3);
  c.t = vec<D>(randn(rng, D, 0.3));
  c.lin = vec<D>(randn(rng, D));
  for (double& w : c.omega) w = randn(rng, 1, 2)[0];
  std::vector<Vec<double, D>> pts;
  for (int k = 0; k < 5; ++k) pts.push_back(vec<D>(randn(rng, D, 0.5)));
  const std::vector<double> cot = randn(rng, D * pts.size());
  std::vector<double> adj_t(D, 0.0), adj_lin(D, 0.0);
  for (size_t k = 0; k < pts.size(); ++k) {
    const Vec<double, D> a = vec<D>({cot.begin() + D * k, cot.end()});
    const Vec<double, D> at = adj_collider_velocity_t(c, a);
    for (int d = 0; d < D; ++d) adj_t[d] += at[d], adj_lin[d] += a[d];
  }
  const Forward fwd = [&] {
    std::vector<double> y;
    for (const auto& x : pts)
      for (double v : values(collider_velocity(c, x))) y.push_back(v);
    return y;
  };
  check_group(tag<D>("spinning") + "velocity in t", inputs(c.t), adj_t, 0.1, cot, fwd, rng);
  check_group(tag<D>("spinning") + "velocity in lin", inputs(c.lin), adj_lin, 1, cot, fwd, rng);
  // omega (2D: about z only)
  Vec<double, 3> adj_w = Vec<double, 3>::zero();
  for (size_t k = 0; k < pts.size(); ++k)
    adj_w = adj_w + adj_collider_velocity_omega(c, pts[k], vec<D>({cot.begin() + D * k, cot.end()}));
  Inputs win;
  std::vector<double> wadj;
  for (int i = D == 2 ? 2 : 0; i < 3; ++i) win.push_back(&c.omega[i]), wadj.push_back(adj_w[i]);
  if (D == 2) CHECK((adj_w[0] == 0.0 && adj_w[1] == 0.0));
  Rng own(19);  // its own directions: the shared stream draws the other checks' inputs as before
  check_group(tag<D>("spinning") + "velocity in omega", win, wadj, 1, cot, fwd, own);
  // dot product: v is affine in omega, so <cot, v(omega + dw) - v(omega)> = <adj omega, dw> to round-off
  const std::vector<double> y0 = fwd();
  const std::vector<double> dw = randn(own, 3);
  for (int i = 0; i < 3; ++i) c.omega[i] += dw[i];
  std::vector<double> y1 = fwd();
  subtract(y1, y0);
  double lhs = dot(cot, y1), rhs = 0;
  for (int i = D == 2 ? 2 : 0; i < 3; ++i) rhs += adj_w[i] * dw[i];
  CHECK(lhs == doctest::Approx(rhs).epsilon(1e-12));
}

}  // namespace

TEST_CASE("collider adjoints: the normal's adjoint in t and R for every shape against finite differences") {
  Rng rng(3);
  check_shapes<2>(rng);
  check_shapes<3>(rng);
}

TEST_CASE("collider adjoints: sample_sdf_hessian against differences of the trilinear gradient") {
  Rng rng(4);
  check_sdf_hessian<2>(rng);
  check_sdf_hessian<3>(rng);
}

// Beyond the sampled grid along an axis d, the gradient's component d (the last cell's slope) still varies
// with the live coordinates: only the clamped axis' column of the Hessian vanishes, not its row.
TEST_CASE("collider adjoints: SDF Hessian and normal beyond the sampled grid (clamped axis)") {
  Rng rng(6);
  check_sdf_beyond_grid<2>(rng);
  check_sdf_beyond_grid<3>(rng);
}

TEST_CASE("collider adjoints: the rigid velocity's adjoint in t, lin and omega against finite differences") {
  Rng rng(5);
  check_velocity_t<2>(rng);
  check_velocity_t<3>(rng);
}
