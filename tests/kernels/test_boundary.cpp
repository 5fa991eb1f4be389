// Boundary conditions: the sticky, slip and separate surface rules with Coulomb friction, and the grid update
// on small grids with domain walls and colliders.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/grid_update.h"

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

template <class T, int D>
void check_vec(const Vec<T, D>& a, const Vec<T, D>& b, double tol = 1e-6) {
  for (int d = 0; d < D; ++d) CHECK(double(a[d]) == doctest::Approx(double(b[d])).epsilon(tol).scale(1));
}

}  // namespace

TEST_CASE_TEMPLATE("boundary: sticky, slip and separate without friction", T, float, double) {
  const auto n = vec<T, 2>({0, 1});
  const auto into = vec<T, 2>({3, -1}), away = vec<T, 2>({3, 1}), along = vec<T, 2>({3, 0});
  // sticky: the surface's velocity (zero relative velocity), whatever the motion
  check_vec(apply_surface(Surface::kSticky, T(0.5), into, n), vec<T, 2>({0, 0}));
  check_vec(apply_surface(Surface::kSticky, T(0), away, n), vec<T, 2>({0, 0}));
  // slip: the normal part goes in both directions
  check_vec(apply_surface(Surface::kSlip, T(0), into, n), vec<T, 2>({3, 0}));
  check_vec(apply_surface(Surface::kSlip, T(0), away, n), vec<T, 2>({3, 0}));
  // separate: the normal part goes only when moving into the surface
  check_vec(apply_surface(Surface::kSeparate, T(0), into, n), vec<T, 2>({3, 0}));
  check_vec(apply_surface(Surface::kSeparate, T(0), away, n), away);
  check_vec(apply_surface(Surface::kSeparate, T(0), along, n), along);
}

TEST_CASE_TEMPLATE("boundary: Coulomb friction reduces |v_t| by mu |v_n| and stops it beyond", T, float,
                   double) {
  // 3D, oblique normal: tangential direction kept, length reduced
  const auto n = vec<T, 3>({0, 0.6, 0.8});
  const auto t_dir = vec<T, 3>({1, 0, 0});
  const auto vt = T(2) * t_dir;
  const auto v_in = vt + T(-1.5) * n;  // |v_n| = 1.5, |v_t| = 2
  for (Surface s : {Surface::kSlip, Surface::kSeparate}) {
    CAPTURE(int(s));
    check_vec(apply_surface(s, T(0.4), v_in, n), T(2 - 0.4 * 1.5) * t_dir);
    check_vec(apply_surface(s, T(1), v_in, n), T(0.5) * t_dir);
    // mu |v_n| >= |v_t|: full stop
    check_vec(apply_surface(s, T(2), v_in, n), vec<T, 3>({0, 0, 0}));
    check_vec(apply_surface(s, T(4) / T(3), v_in, n), vec<T, 3>({0, 0, 0}), 1e-5);
  }
  // separating motion: "separate" keeps it whole (no contact, no friction); "slip" removes the normal part
  // and applies friction with that normal speed
  const auto v_out = vt + T(1.5) * n;
  check_vec(apply_surface(Surface::kSeparate, T(0.4), v_out, n), v_out);
  check_vec(apply_surface(Surface::kSlip, T(0.4), v_out, n), T(2 - 0.4 * 1.5) * t_dir);
  // purely normal motion: nothing tangential to scale, no NaN
  auto r = apply_surface(Surface::kSlip, T(0.5), T(-1) * n, n);
  for (int d = 0; d < 3; ++d) CHECK(r[d] == T(0));
}

namespace {

// A small grid with every node loaded with mass 2 and momentum 2 * v0.
template <class T, int D>
struct TinyGrid {
  GridSpec<T, D> spec;
  std::vector<T> mass, mv;
  TinyGrid(int n, T dx, const Vec<T, D>& v0) {
    spec.dx = dx;
    spec.inv_dx = T(1) / dx;
    spec.origin = Vec<T, D>::zero();
    for (int d = 0; d < D; ++d) spec.res[d] = n;
    const int64_t nodes = spec.num_nodes();
    mass.assign(size_t(nodes), T(2));
    mv.resize(size_t(D * nodes));
    for (int d = 0; d < D; ++d)
      for (int64_t i = 0; i < nodes; ++i) mv[size_t(d * nodes + i)] = T(2) * v0[d];
  }
  GridView<T, D> view() { return GridView<T, D>{spec, mass.data(), mv.data()}; }
  Vec<T, D> v(std::initializer_list<int> c) const {
    int ci[D];
    int i = 0;
    for (int x : c) ci[i++] = x;
    const int64_t idx = spec.index(ci), nodes = spec.num_nodes();
    Vec<T, D> r;
    for (int d = 0; d < D; ++d) r[d] = mv[size_t(d * nodes + idx)];
    return r;
  }
};

template <class T, int D>
void run(const GridUpdate<T, D>& k) {
  for (int64_t i = 0; i < k.g.spec.num_nodes(); ++i) k(i);
}

}  // namespace

TEST_CASE_TEMPLATE("boundary: grid update in 2D with slip walls and a plane collider", T, float, double) {
  // 12 x 12 nodes, dx 0.1; the domain's nodes are 2..9 per axis; walls act on nodes < lo + cells = 4 and
  // > hi - cells = 7 (the padding nodes included), so nodes 4..7 are free
  const auto v0 = vec<T, 2>({1, -2});
  TinyGrid<T, 2> g(12, T(0.1), v0);
  const int empty[2] = {6, 6};
  g.mass[size_t(g.spec.index(empty))] = 0;
  WallData<T, 2> walls;
  for (int d = 0; d < 2; ++d) walls.lo[d] = 2, walls.hi[d] = 9;
  walls.cells = 2;
  walls.surface = Surface::kSlip;
  // a slip floor at y = 0.55 (normal +y), frictionless
  ColliderData<T, 2> floor;
  floor.shape = ColliderShape::kPlane;
  floor.surface = Surface::kSlip;
  floor.p[1] = 1;
  floor.t = vec<T, 2>({0, 0.55});
  const T dt = T(0.01);
  const auto gravity = vec<T, 2>({0, -10});
  GridUpdate<T, 2> k{g.view(), gravity, dt, walls, &floor, 1};
  run(k);
  const auto free_v = vec<T, 2>({1, -2.1});      // v0 + dt g
  check_vec(g.v({6, 7}), free_v);                // above the floor, away from the walls
  check_vec(g.v({6, 6}), vec<T, 2>({0, 0}));     // no mass: zero
  check_vec(g.v({6, 5}), vec<T, 2>({1, 0}));     // below the floor (y = 0.5): normal part removed
  check_vec(g.v({3, 6}), vec<T, 2>({0, -2.1}));  // left wall: x removed
  check_vec(g.v({7, 7}), free_v);                // last free node
  check_vec(g.v({8, 7}), vec<T, 2>({0, -2.1}));  // right wall
  check_vec(g.v({7, 9}), vec<T, 2>({1, 0}));     // top wall
  check_vec(g.v({2, 9}), vec<T, 2>({0, 0}));     // corner: both faces
  check_vec(g.v({0, 1}), vec<T, 2>({0, 0}));     // padding nodes count as wall too
}

TEST_CASE_TEMPLATE("boundary: grid update with moving, rotating and frictional colliders in 3D", T, float,
                   double) {
  const auto v0 = vec<T, 3>({0.5, 0, -1});
  WallData<T, 3> walls;
  for (int d = 0; d < 3; ++d) walls.lo[d] = 0, walls.hi[d] = 9;
  walls.cells = 1;
  walls.surface = Surface::kSeparate;
  const auto no_gravity = vec<T, 3>({0, 0, 0});
  SUBCASE("sticky sphere spinning about z and moving: nodes inside take its rigid velocity") {
    TinyGrid<T, 3> g(10, T(0.1), v0);
    ColliderData<T, 3> ball;
    ball.shape = ColliderShape::kSphere;
    ball.surface = Surface::kSticky;
    ball.p[0] = T(0.25);
    ball.t = vec<T, 3>({0.45, 0.45, 0.45});
    ball.lin = vec<T, 3>({0, 0.3, 0});
    ball.omega[2] = T(2);
    run(GridUpdate<T, 3>{g.view(), no_gravity, T(0.01), walls, &ball, 1});
    // node (5,4,4) at (0.5, 0.4, 0.4): r = (0.05, -0.05, -0.05), omega x r = (0.1, 0.1, 0)
    check_vec(g.v({5, 4, 4}), vec<T, 3>({0.1, 0.4, 0}), 1e-5);
    check_vec(g.v({5, 5, 8}), v0);  // outside the ball
  }
  SUBCASE("separate box floor with friction: approaching nodes slide slower, the wall lets go of leavers") {
    TinyGrid<T, 3> g(10, T(0.1), v0);
    ColliderData<T, 3> slab;
    slab.shape = ColliderShape::kBox;
    slab.surface = Surface::kSeparate;
    slab.friction = T(0.2);
    slab.p[0] = T(10), slab.p[1] = T(10), slab.p[2] = T(0.25);  // top face at z = 0.25
    run(GridUpdate<T, 3>{g.view(), no_gravity, T(0.01), walls, &slab, 1});
    // node (4,4,2) at z = 0.2: inside, moving into the top face (normal +z) at 1; |v_t| 0.5 -> 0.5 - 0.2
    check_vec(g.v({4, 4, 2}), vec<T, 3>({0.3, 0, 0}), 1e-5);
    check_vec(g.v({4, 4, 5}), v0);  // above
    // top wall (z node 9, normal -z): v0 moves away from it (vz = -1), separate keeps it
    check_vec(g.v({4, 4, 9}), v0);
  }
}
