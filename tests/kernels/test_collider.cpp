// Colliders: signed distances and normals of the analytic shapes against closed forms (2D and 3D, posed),
// sampled SDFs, SDF colliders from dense fields, and kinematic motion (constant and keyframed).
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <string>

#include "core/collider.h"
#include "core/error.h"
#include "core/level_set.h"
#include "kernels/collider.h"

using namespace ductile;

namespace {

template <class T, int D>
Vec<T, D> vec(std::initializer_list<double> v) {
  Vec<T, D> r = Vec<T, D>::zero();
  int i = 0;
  for (double x : v)
    if (i < D) r[i++] = T(x);
  return r;
}

// Rotation by `angle` about z (3D) or in the plane (2D).
template <class T, int D>
Mat<T, D> rot_z(double angle) {
  Mat<T, D> R = Mat<T, D>::identity();
  R(0, 0) = T(std::cos(angle));
  R(0, 1) = T(-std::sin(angle));
  R(1, 0) = T(std::sin(angle));
  R(1, 1) = T(std::cos(angle));
  return R;
}

// Rotation about x (3D), to make poses that are not planar.
template <class T>
Mat<T, 3> rot_x(double angle) {
  Mat<T, 3> R = Mat<T, 3>::identity();
  R(1, 1) = T(std::cos(angle));
  R(1, 2) = T(-std::sin(angle));
  R(2, 1) = T(std::sin(angle));
  R(2, 2) = T(std::cos(angle));
  return R;
}

template <class T, int D>
Mat<T, D> some_pose_rotation() {
  if constexpr (D == 3)
    return rot_z<T, 3>(0.7) * rot_x<T>(-0.4);
  else
    return rot_z<T, 2>(0.7);
}

// Checks phi and the normal at local point xl (expected local normal nl) with the collider posed by R, t.
template <class T, int D>
void check_local(ColliderData<T, D> c, const Vec<T, D>& xl, double phi, const Vec<T, D>& nl, double tol) {
  c.R = some_pose_rotation<T, D>();
  c.t = vec<T, D>({0.3, -0.2, 0.5});
  Vec<T, D> x = c.R * xl + c.t, n;
  T got = collider_phi(c, x, n);
  Vec<T, D> n_expect = c.R * nl;
  CHECK(double(got) == doctest::Approx(phi).epsilon(tol).scale(1));
  for (int d = 0; d < D; ++d)
    CHECK(double(n[d]) == doctest::Approx(double(n_expect[d])).epsilon(tol).scale(1));
}

template <class T, int D>
Vec<T, D> unit(std::initializer_list<double> v) {
  Vec<T, D> r = vec<T, D>(v);
  return (T(1) / norm(r)) * r;
}

}  // namespace

TEST_CASE_TEMPLATE("collider: default data is an identity pose at rest", T, float, double) {
  ColliderData<T, 3> c;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) CHECK(c.R(i, j) == T(i == j ? 1 : 0));
    CHECK(c.t[i] == T(0));
    CHECK(c.lin[i] == T(0));
    CHECK(c.omega[i] == T(0));
  }
}

TEST_CASE_TEMPLATE("collider: plane, sphere, box and cylinder distances and normals in 3D", T, float,
                   double) {
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  using V = Vec<T, 3>;
  SUBCASE("plane through the origin with normal (0,0,1) locally") {
    ColliderData<T, 3> c;
    c.shape = ColliderShape::kPlane;
    c.p[2] = 1;
    check_local<T, 3>(c, vec<T, 3>({0.3, -2, 0.25}), 0.25, vec<T, 3>({0, 0, 1}), tol);
    check_local<T, 3>(c, vec<T, 3>({5, 1, -0.1}), -0.1, vec<T, 3>({0, 0, 1}), tol);
  }
  SUBCASE("sphere of radius 0.3") {
    ColliderData<T, 3> c;
    c.shape = ColliderShape::kSphere;
    c.p[0] = T(0.3);
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(-1, 1);
    for (int n = 0; n < 100; ++n) {
      V xl = vec<T, 3>({u(rng), u(rng), u(rng)});
      double r = double(norm(xl));
      check_local<T, 3>(c, xl, r - 0.3, (T(1) / norm(xl)) * xl, tol * 10);
    }
  }
  SUBCASE("box with half extents (0.2, 0.3, 0.4): faces, edges, corners, inside") {
    ColliderData<T, 3> c;
    c.shape = ColliderShape::kBox;
    c.p[0] = T(0.2), c.p[1] = T(0.3), c.p[2] = T(0.4);
    check_local<T, 3>(c, vec<T, 3>({0.5, 0.1, -0.1}), 0.3, vec<T, 3>({1, 0, 0}), tol);
    check_local<T, 3>(c, vec<T, 3>({0.3, 0.4, 0}), std::sqrt(0.02), unit<T, 3>({1, 1, 0}), tol);
    check_local<T, 3>(c, vec<T, 3>({-0.3, -0.4, 0.5}), std::sqrt(0.03), unit<T, 3>({-1, -1, 1}), tol);
    check_local<T, 3>(c, vec<T, 3>({0.15, 0, 0}), -0.05, vec<T, 3>({1, 0, 0}), tol);
    check_local<T, 3>(c, vec<T, 3>({0, 0.1, -0.35}), -0.05, vec<T, 3>({0, 0, -1}), tol);
    check_local<T, 3>(c, vec<T, 3>({0, 0, 0}), -0.2, vec<T, 3>({1, 0, 0}), tol);
  }
  SUBCASE("cylinder of radius 0.2 and half height 0.3 along local y") {
    ColliderData<T, 3> c;
    c.shape = ColliderShape::kCylinder;
    c.p[0] = T(0.2), c.p[1] = T(0.3);
    check_local<T, 3>(c, vec<T, 3>({0.5, 0.1, 0}), 0.3, vec<T, 3>({1, 0, 0}), tol);
    check_local<T, 3>(c, vec<T, 3>({0, 0.2, -0.6}), 0.4, vec<T, 3>({0, 0, -1}), tol);
    check_local<T, 3>(c, vec<T, 3>({0, 0.5, 0.1}), 0.2, vec<T, 3>({0, 1, 0}), tol);
    check_local<T, 3>(c, vec<T, 3>({0.3, 0.4, 0}), std::sqrt(0.02), unit<T, 3>({1, 1, 0}), tol);
    check_local<T, 3>(c, vec<T, 3>({0, 0, 0.15}), -0.05, vec<T, 3>({0, 0, 1}), tol);
    check_local<T, 3>(c, vec<T, 3>({0.05, -0.25, 0}), -0.05, vec<T, 3>({0, -1, 0}), tol);
  }
}

TEST_CASE_TEMPLATE("collider: plane, sphere, box and cylinder (disk) in 2D", T, float, double) {
  const double tol = sizeof(T) == 4 ? 1e-5 : 1e-12;
  SUBCASE("plane") {
    ColliderData<T, 2> c;
    c.shape = ColliderShape::kPlane;
    c.p[0] = T(std::sqrt(0.5)), c.p[1] = T(std::sqrt(0.5));
    check_local<T, 2>(c, vec<T, 2>({1, 1}), std::sqrt(2.0), unit<T, 2>({1, 1}), tol);
    check_local<T, 2>(c, vec<T, 2>({-1, 0.5}), -std::sqrt(0.125), unit<T, 2>({1, 1}), tol);
  }
  SUBCASE("sphere (circle) and cylinder (disk) of radius 0.25") {
    for (auto shape : {ColliderShape::kSphere, ColliderShape::kCylinder}) {
      ColliderData<T, 2> c;
      c.shape = shape;
      c.p[0] = T(0.25);
      check_local<T, 2>(c, vec<T, 2>({0.3, 0.4}), 0.25, unit<T, 2>({0.3, 0.4}), tol);
      check_local<T, 2>(c, vec<T, 2>({0, -0.1}), -0.15, vec<T, 2>({0, -1}), tol);
    }
  }
  SUBCASE("box with half extents (0.2, 0.3)") {
    ColliderData<T, 2> c;
    c.shape = ColliderShape::kBox;
    c.p[0] = T(0.2), c.p[1] = T(0.3);
    check_local<T, 2>(c, vec<T, 2>({0.1, 0.5}), 0.2, vec<T, 2>({0, 1}), tol);
    check_local<T, 2>(c, vec<T, 2>({-0.5, -0.7}), 0.5, unit<T, 2>({-0.3, -0.4}), tol);
    check_local<T, 2>(c, vec<T, 2>({-0.15, 0}), -0.05, vec<T, 2>({-1, 0}), tol);
  }
}

TEST_CASE("collider: sample_sdf is trilinear with its exact gradient, and grows outside the grid") {
  // the analytic sphere on a grid, read through a 3D SDF collider
  const double r = 0.3, dx = 0.02;
  DenseSdf s;
  s.dx = dx;
  const int n = 41;
  for (int d = 0; d < 3; ++d) s.res[d] = n, s.origin[d] = -0.4;
  s.phi.resize(size_t(n) * n * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < n; ++k) {
        double x = -0.4 + i * dx, y = -0.4 + j * dx, z = -0.4 + k * dx;
        s.phi[s.index(i, j, k)] = float(std::sqrt(x * x + y * y + z * z) - r);
      }
  Collider<double, 3> col;
  col.name = "ball";
  fill_collider_sdf(col, s);
  REQUIRE(col.shape.shape == ColliderShape::kSdf);
  ColliderData<double, 3> c = col.at(0);
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(-0.38, 0.38);
  for (int m = 0; m < 200; ++m) {
    Vec<double, 3> x{{u(rng), u(rng), u(rng)}}, g, nrm;
    double phi = sample_sdf(c, x, g);
    CHECK(phi == doctest::Approx(s.sample(x.v)).epsilon(1e-12).scale(1));  // the host sampler agrees
    const double rx = norm(x);
    // trilinear interpolation of |x| - r: error O(dx^2 / r)
    CHECK(std::fabs(phi - (rx - r)) < dx * dx / rx + 1e-6);
    // gradient: the derivative of the trilinear field (central differences inside one cell)
    for (int d = 0; d < 3; ++d) {
      const double h = 1e-7;
      Vec<double, 3> a = x, b = x, ga;
      a[d] -= h, b[d] += h;
      double fd = (sample_sdf(c, b, ga) - sample_sdf(c, a, ga)) / (2 * h);
      CHECK(g[d] == doctest::Approx(fd).epsilon(1e-4).scale(1));
    }
    // collider_phi: the same value, the unit gradient as normal (radial up to interpolation error)
    double phi2 = collider_phi(c, x, nrm);
    CHECK(phi2 == doctest::Approx(phi).epsilon(1e-12));
    if (rx > 0.1) CHECK(dot(nrm, (1 / rx) * x) > 0.99);
  }
  // outside the grid: the boundary value plus the distance to the grid box
  Vec<double, 3> far{{1.4, 0, 0}}, g;
  CHECK(sample_sdf(c, far, g) == doctest::Approx(0.1 + 1.0).epsilon(1e-6));
  Vec<double, 3> diag{{0.4 + 0.3, 0.4 + 0.4, 0}};
  CHECK(sample_sdf(c, diag, g) == doctest::Approx((std::sqrt(0.32) - r) + 0.5).epsilon(1e-5));
}

TEST_CASE_TEMPLATE("collider: fill_collider_sdf copies 3D fields and slices them in 2D", T, float, double) {
  const double r = 0.3, dx = 0.025;
  DenseSdf s;
  s.dx = dx;
  const int n = 33;
  for (int d = 0; d < 3; ++d) s.res[d] = n, s.origin[d] = -0.4;
  s.phi.resize(size_t(n) * n * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < n; ++k) {
        double x = -0.4 + i * dx, y = -0.4 + j * dx, z = -0.4 + k * dx;
        s.phi[s.index(i, j, k)] = float(std::sqrt(x * x + y * y + z * z) - r);
      }
  SUBCASE("3D: the collider's pose moves the field") {
    Collider<T, 3> col;
    col.name = "ball";
    col.shape.t = vec<T, 3>({1, 2, 3});
    fill_collider_sdf(col, s);
    CHECK(col.sdf.size() == s.phi.size());
    CHECK(col.shape.sdf_res[2] == n);
    CHECK(double(col.shape.sdf_dx) == doctest::Approx(dx));
    ColliderData<T, 3> c = col.at(0);
    Vec<T, 3> nrm;
    CHECK(double(collider_phi(c, vec<T, 3>({1, 2, 3}), nrm)) == doctest::Approx(-r).epsilon(1e-3));
    CHECK(double(collider_phi(c, vec<T, 3>({1, 2, 3.4}), nrm)) == doctest::Approx(0.1).epsilon(1e-3));
    CHECK(double(nrm[2]) == doctest::Approx(1).epsilon(1e-3));
    CHECK(double(collider_phi(c, vec<T, 3>({0, 0, 0}), nrm)) > 3);
  }
  SUBCASE("2D: slices through the sphere are circles") {
    for (double z : {0.0, 0.15}) {
      Collider<T, 2> col;
      col.name = "disk";
      fill_collider_sdf(col, s, z);
      CHECK(col.sdf.size() == size_t(n) * n);
      ColliderData<T, 2> c = col.at(0);
      const double rc = std::sqrt(r * r - z * z);  // the cross-section's radius
      Vec<T, 2> nrm;
      CHECK(collider_phi(c, vec<T, 2>({rc - 0.02, 0}), nrm) < T(0));
      CHECK(collider_phi(c, vec<T, 2>({0, -(rc + 0.02)}), nrm) > T(0));
      CHECK(double(nrm[1]) == doctest::Approx(-1).epsilon(1e-2));
    }
  }
  SUBCASE("errors name the collider") {
    Collider<T, 2> col;
    col.name = "disk";
    try {
      fill_collider_sdf(col, s, 0.5);
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()) ==
            "collider 'disk': the slice z = 0.5 misses the SDF (z from -0.4 to 0.4)");
    }
    try {
      fill_collider_sdf(col, s, 0.35);
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()) ==
            "collider 'disk': the slice z = 0.35 does not cut the shape (no point of it is inside)");
    }
    Collider<T, 3> c3;
    c3.name = "empty";
    try {
      fill_collider_sdf(c3, DenseSdf{});
      FAIL("expected an error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()) == "collider 'empty': the SDF needs at least 2 nodes per axis, got 0");
    }
  }
}

namespace {

// World position of a point fixed in the collider's frame.
template <class T, int D>
Vec<T, D> carried(const ColliderData<T, D>& c, const Vec<T, D>& xl) {
  return c.R * xl + c.t;
}

// The collider velocity at a carried point equals the time derivative of its position (central differences).
template <class T, int D>
void check_velocity_matches_motion(const Collider<T, D>& col, double t, const Vec<T, D>& xl) {
  const double h = 1e-6;
  Vec<T, D> a = carried(col.at(t - h), xl), b = carried(col.at(t + h), xl);
  ColliderData<T, D> c = col.at(t);
  Vec<T, D> v = collider_velocity(c, carried(c, xl));
  for (int d = 0; d < D; ++d)
    CHECK(double(v[d]) == doctest::Approx(double(b[d] - a[d]) / (2 * h)).epsilon(1e-6));
}

}  // namespace

TEST_CASE("collider: constant linear and angular motion") {
  Collider<double, 3> col;
  col.shape.shape = ColliderShape::kSphere;
  col.shape.t = vec<double, 3>({1, 0, 0});
  col.shape.R = rot_x<double>(0.3);
  col.motion.kind = Motion::Kind::kConstant;
  col.motion.velocity[0] = 0.5, col.motion.velocity[2] = -1;
  col.motion.angular_velocity[1] = 0.4, col.motion.angular_velocity[2] = 2;
  ColliderData<double, 3> c = col.at(0.5);
  CHECK(c.t[0] == doctest::Approx(1.25));
  CHECK(c.t[2] == doctest::Approx(-0.5));
  CHECK(c.lin[0] == doctest::Approx(0.5));
  CHECK(c.omega[2] == doctest::Approx(2));
  // rotation about the moving origin: omega x r
  Vec<double, 3> x = c.t + vec<double, 3>({0, 1, 0});
  Vec<double, 3> v = collider_velocity(c, x);
  CHECK(v[0] == doctest::Approx(0.5 - 2));
  CHECK(v[1] == doctest::Approx(0));
  CHECK(v[2] == doctest::Approx(-1));
  for (double t : {0.0, 0.5, 2.0}) check_velocity_matches_motion(col, t, vec<double, 3>({0.2, -0.3, 0.4}));

  Collider<double, 2> flat;
  flat.motion.kind = Motion::Kind::kConstant;
  flat.motion.velocity[1] = 1;
  flat.motion.angular_velocity[0] = 5;  // ignored in 2D: only rotation about z exists
  flat.motion.angular_velocity[2] = -1.5;
  ColliderData<double, 2> f = flat.at(1);
  CHECK(f.omega[0] == 0);
  CHECK(f.R(0, 1) == doctest::Approx(std::sin(1.5)));
  check_velocity_matches_motion(flat, 1.0, vec<double, 2>({0.3, 0.1}));
}

TEST_CASE("collider: keyframes interpolate pose, give segment velocities and hold outside their range") {
  Collider<double, 3> col;
  col.motion.kind = Motion::Kind::kKeyframes;
  Keyframe k0, k1, k2;
  k0.t = 1, k1.t = 2, k2.t = 4;
  k0.position[0] = 0, k1.position[0] = 1, k2.position[0] = 1;
  k1.position[2] = 0.5, k2.position[2] = -0.5;
  k1.rotation[2] = 1, k2.rotation[2] = 3;  // about z: linear interpolation of the angle is exact
  col.motion.keys = {k0, k1, k2};
  ColliderData<double, 3> before = col.at(0), mid = col.at(1.5), late = col.at(3), after = col.at(9);
  CHECK(before.t[0] == 0);
  CHECK(before.lin[0] == 0);
  CHECK(mid.t[0] == doctest::Approx(0.5));
  CHECK(mid.t[2] == doctest::Approx(0.25));
  CHECK(mid.lin[0] == doctest::Approx(1));
  CHECK(mid.lin[2] == doctest::Approx(0.5));
  CHECK(mid.omega[2] == doctest::Approx(1));
  CHECK(late.lin[2] == doctest::Approx(-0.5));
  CHECK(late.omega[2] == doctest::Approx(1));
  CHECK(late.R(1, 0) == doctest::Approx(std::sin(2.0)));
  CHECK(after.t[2] == doctest::Approx(-0.5));
  CHECK(after.lin[2] == 0);
  CHECK(after.omega[2] == 0);
  for (double t : {1.5, 2.5, 3.9}) check_velocity_matches_motion(col, t, vec<double, 3>({0.3, 0.2, -0.1}));
}

TEST_CASE("collider: outside its active window it touches nothing") {
  Collider<float, 3> col;
  col.shape.shape = ColliderShape::kPlane;
  col.shape.p[2] = 1;  // everything below z = 0 would be inside
  col.active_from = 1, col.active_until = 2;
  Vec<float, 3> x = vec<float, 3>({0.5f, 0.5f, -3}), n;
  CHECK(collider_phi(col.at(1.5), x, n) < 0);
  for (double t : {0.5, 2.5}) {
    ColliderData<float, 3> c = col.at(t);
    float phi = collider_phi(c, x, n);
    CHECK(std::isfinite(phi));
    CHECK(phi > 1e10f);
    for (int d = 0; d < 3; ++d) CHECK(std::isfinite(n[d]));
  }
}
