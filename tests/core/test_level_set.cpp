// Level sets: OBJ meshes and VDB grids to dense signed distance fields, placement, round trips, the
// project's mesh assets and every error message.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "core/error.h"
#include "core/level_set.h"
#include "core/resources.h"
#include "test_util.h"

using namespace ductile;
using ductile::test::error_of;
namespace fs = std::filesystem;

namespace {

// A fresh folder per process for the files the tests write, removed at exit.
struct TempDir {
  fs::path path;
  TempDir() : path(fs::temp_directory_path() / ("ductile_level_set_" + std::to_string(getpid()))) {
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

fs::path temp_dir() {
  static TempDir dir;
  return dir.path;
}

std::string write_text(const std::string& name, const std::string& text) {
  std::string path = (temp_dir() / name).string();
  std::ofstream(path) << text;
  return path;
}

// Unit cube [-0.5, 0.5]^3 as six outward quads; `skip_face` drops one (an open mesh).
// `hz` is the half height (z).
std::string cube_obj(int skip_face = -1, const std::string& hz = "0.5") {
  std::string s = "# cube\n";
  for (int i = 0; i < 8; ++i)
    s += "v " + std::string(i & 1 ? "0.5" : "-0.5") + " " + (i & 2 ? "0.5" : "-0.5") + " " +
         (i & 4 ? "" : "-") + hz + "\n";
  const char* faces[6] = {"f 1 3 4 2", "f 5 6 8 7", "f 1 2 6 5", "f 3 7 8 4", "f 1 5 7 3", "f 2 4 8 6"};
  for (int f = 0; f < 6; ++f)
    if (f != skip_face) s += std::string(faces[f]) + "\n";
  return s;
}

// UV sphere of radius r about the origin: poles plus rings, quads between rings, fans at the poles.
std::string sphere_obj(double r, int rings = 32, int segs = 64) {
  std::string s = "v 0 0 " + std::to_string(-r) + "\n";
  for (int i = 1; i < rings; ++i) {
    double th = M_PI * i / rings;
    for (int j = 0; j < segs; ++j) {
      double ph = 2 * M_PI * j / segs;
      s += "v " + std::to_string(r * std::sin(th) * std::cos(ph)) + " " +
           std::to_string(r * std::sin(th) * std::sin(ph)) + " " + std::to_string(-r * std::cos(th)) + "\n";
    }
  }
  s += "v 0 0 " + std::to_string(r) + "\n";
  auto ring = [&](int i, int j) { return 2 + (i - 1) * segs + (j % segs); };
  const int top = 2 + (rings - 1) * segs;
  for (int j = 0; j < segs; ++j) {
    s += "f 1 " + std::to_string(ring(1, j + 1)) + " " + std::to_string(ring(1, j)) + "\n";
    for (int i = 1; i + 1 < rings; ++i)
      s += "f " + std::to_string(ring(i, j)) + " " + std::to_string(ring(i, j + 1)) + " " +
           std::to_string(ring(i + 1, j + 1)) + " " + std::to_string(ring(i + 1, j)) + "\n";
    s += "f " + std::to_string(ring(rings - 1, j)) + " " + std::to_string(ring(rings - 1, j + 1)) + " " +
         std::to_string(top) + "\n";
  }
  return s;
}

// Exact signed distance of the box with half extents h about the origin.
double box_sdf(const double p[3], double h = 0.5) {
  double out = 0, in = -1e30;
  for (int d = 0; d < 3; ++d) {
    double q = std::fabs(p[d]) - h;
    out += q > 0 ? q * q : 0;
    in = std::max(in, q);
  }
  return out > 0 ? std::sqrt(out) : in;
}

// Largest difference between the array and an exact field over all nodes.
double max_error(const DenseSdf& s, const std::function<double(const double*)>& exact) {
  double err = 0;
  for (int i = 0; i < s.res[0]; ++i)
    for (int j = 0; j < s.res[1]; ++j)
      for (int k = 0; k < s.res[2]; ++k) {
        double p[3] = {s.origin[0] + i * s.dx, s.origin[1] + j * s.dx, s.origin[2] + k * s.dx};
        err = std::max(err, std::fabs(s.at(i, j, k) - exact(p)));
      }
  return err;
}

// An analytic sphere on a dense array.
DenseSdf sphere_sdf(double r, double dx, const double c[3]) {
  DenseSdf s;
  s.dx = dx;
  int n = int(std::ceil(2 * r / dx)) + 9;
  for (int d = 0; d < 3; ++d) {
    s.res[d] = n;
    s.origin[d] = std::floor((c[d] - r) / dx - 4) * dx;
  }
  s.phi.resize(size_t(n) * n * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < n; ++k) {
        double p[3] = {s.origin[0] + i * dx - c[0], s.origin[1] + j * dx - c[1], s.origin[2] + k * dx - c[2]};
        s.phi[s.index(i, j, k)] = float(std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]) - r);
      }
  return s;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string asset(const std::string& rel) {
  return std::string(DUCTILE_SOURCE_DIR) + "/assets/" + rel;
}

}  // namespace

TEST_CASE("level set: OBJ cube gives the box distance, sign and bounding box" *
          doctest::skip(!test::have_openvdb())) {
  const double dx = 0.05;
  DenseSdf s = sdf_from_obj(write_text("cube.obj", cube_obj()), Placement{}, dx);
  CHECK(s.dx == dx);
  for (int d = 0; d < 3; ++d) {
    CHECK(s.res[d] == 29);  // 1 / dx + 1 nodes plus the margin on both sides
    CHECK(s.bbox_min(d) == doctest::Approx(-0.5 - kSdfMarginVoxels * dx));
    CHECK(s.bbox_max(d) == doctest::Approx(0.5 + kSdfMarginVoxels * dx));
  }
  // interior filled with distances (not clamped at the band), exterior extended to the array corners
  double c[3] = {0, 0, 0}, out[3] = {0.7, 0, 0}, near_in[3] = {0.45, 0.01, -0.02},
         corner[3] = {0.7, 0.7, 0.7};
  CHECK(s.sample(c) == doctest::Approx(-0.5).epsilon(0.02));
  CHECK(s.sample(out) == doctest::Approx(0.2).epsilon(0.05));
  CHECK(s.sample(near_in) < 0);
  CHECK(s.sample(corner) == doctest::Approx(std::sqrt(3.0) * 0.2).epsilon(0.1));
  CHECK(max_error(s, [](const double* p) { return box_sdf(p); }) < dx);
  // outside the array: positive and growing with the distance to it
  double far[3] = {3, 0, 0};
  CHECK(s.sample(far) == doctest::Approx(0.2 + 2.3).epsilon(0.02));
}

TEST_CASE("level set: OBJ sphere gives |x| - r within a voxel, trilinear between nodes" *
          doctest::skip(!test::have_openvdb())) {
  const double r = 0.4, dx = 0.04;
  DenseSdf s = sdf_from_obj(write_text("sphere.obj", sphere_obj(r)), Placement{}, dx);
  auto exact = [&](const double* p) { return std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]) - r; };
  CHECK(max_error(s, exact) < dx);
  // near the surface (where colliders look) the distance is much better than a voxel
  for (int n = 0; n < 50; ++n) {
    double a = 0.37 * n, b = 0.23 * n, rad = r + 0.05 * std::sin(1.3 * n);
    double p[3] = {rad * std::cos(a) * std::cos(b), rad * std::sin(a) * std::cos(b), rad * std::sin(b)};
    CHECK(std::fabs(s.sample(p) - exact(p)) < 0.3 * dx);
  }
  double c[3] = {0, 0, 0};
  CHECK(s.sample(c) == doctest::Approx(-r).epsilon(0.03));
}

TEST_CASE("level set: placement translates, scales and rotates the field" *
          doctest::skip(!test::have_openvdb())) {
  const double r = 0.4, dx = 0.04;
  std::string sphere = write_text("sphere_p.obj", sphere_obj(r));
  SUBCASE("translate and scale") {
    Placement pl;
    pl.scale = 1.5;
    pl.translate[0] = 1;
    pl.translate[1] = -2;
    pl.translate[2] = 3;
    DenseSdf s = sdf_from_obj(sphere, pl, dx);
    auto exact = [&](const double* p) {
      double q[3] = {p[0] - 1, p[1] + 2, p[2] - 3};
      return std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]) - 1.5 * r;
    };
    CHECK(max_error(s, exact) < dx);
    double c[3] = {1, -2, 3}, old_c[3] = {0, 0, 0};
    CHECK(s.sample(c) == doctest::Approx(-0.6).epsilon(0.03));
    CHECK(s.sample(old_c) > 1);
    CHECK(s.bbox_min(0) == doctest::Approx(1 - 0.6 - kSdfMarginVoxels * dx).epsilon(0.03));
  }
  SUBCASE("rotate a cube 45 degrees about z") {
    Placement pl;
    pl.rotate_deg[2] = 45;
    DenseSdf s = sdf_from_obj(write_text("cube_r.obj", cube_obj()), pl, dx);
    auto exact = [](const double* p) {
      const double c = std::sqrt(0.5);
      double q[3] = {c * p[0] + c * p[1], -c * p[0] + c * p[1], p[2]};  // R^T p
      return box_sdf(q);
    };
    CHECK(max_error(s, exact) < dx);
    double along_x[3] = {0.6, 0, 0};  // outside the unrotated cube, inside the rotated one
    CHECK(s.sample(along_x) == doctest::Approx(exact(along_x)).epsilon(0.1));
    CHECK(s.sample(along_x) < 0);
  }
  SUBCASE("Euler XYZ about fixed axes: R = Rz Ry Rx") {
    Placement pl;
    pl.rotate_deg[0] = 90;
    pl.rotate_deg[1] = 90;
    pl.translate[2] = 1;
    double y[3] = {0, 1, 0}, w[3], back[3];
    place_point(pl, y, w);  // Rx(90): y -> z, then Ry(90): z -> x
    CHECK(w[0] == doctest::Approx(1));
    CHECK(w[1] == doctest::Approx(0).epsilon(1e-12));
    CHECK(w[2] == doctest::Approx(1));
    unplace_point(pl, w, back);
    for (int d = 0; d < 3; ++d) CHECK(back[d] == doctest::Approx(y[d]));
  }
  SUBCASE("the wedge's high end turns from +x to +y") {
    Placement pl;
    pl.rotate_deg[2] = 90;
    DenseSdf s = sdf_from_obj(asset("meshes/wedge.obj"), pl, 0.02);
    double high_y[3] = {0, 0.45, 0.25}, low_y[3] = {0, -0.45, 0.25}, high_x[3] = {0.45, 0, 0.25};
    CHECK(s.sample(high_y) < 0);
    CHECK(s.sample(low_y) > 0);
    CHECK(s.sample(high_x) > 0);
  }
}

TEST_CASE("level set: VDB round trip, dense and narrow band, with placement" *
          doctest::skip(!test::have_openvdb())) {
  const double r = 0.3, dx = 0.025, c[3] = {0.1, -0.2, 0.5};
  DenseSdf a = sphere_sdf(r, dx, c);
  const std::string dense = (temp_dir() / "sphere_dense.vdb").string();
  const std::string band = (temp_dir() / "sphere_band.vdb").string();
  write_sdf_vdb(a, dense, "surface");
  write_sdf_vdb(a, band, "surface", 3);
  auto exact = [&](const double* p) {
    double q[3] = {p[0] - c[0], p[1] - c[1], p[2] - c[2]};
    return std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]) - r;
  };
  SUBCASE("every node comes back") {
    DenseSdf b = sdf_from_vdb(dense, "surface", Placement{}, dx);
    CHECK(b.dx == dx);
    // same lattice: the array's own nodes return exactly (the margin adds nodes around them)
    int off[3];
    for (int d = 0; d < 3; ++d) off[d] = int(std::lround((a.origin[d] - b.origin[d]) / dx));
    for (int d = 0; d < 3; ++d) REQUIRE(off[d] >= 0);
    double err = 0;
    for (int i = 0; i < a.res[0]; ++i)
      for (int j = 0; j < a.res[1]; ++j)
        for (int k = 0; k < a.res[2]; ++k)
          err = std::max(err, double(std::fabs(a.at(i, j, k) - b.at(i + off[0], j + off[1], k + off[2]))));
    CHECK(err < 1e-5);
    CHECK(max_error(b, exact) < dx);
  }
  SUBCASE("a narrow band is extended inside and out") {
    DenseSdf b = sdf_from_vdb(band, "", Placement{}, dx);  // "" takes the first float grid
    CHECK(max_error(b, exact) < dx);
    CHECK(b.sample(c) == doctest::Approx(-r).epsilon(0.05));
  }
  SUBCASE("placement and the default spacing") {
    Placement pl;
    pl.scale = 2;
    pl.rotate_deg[0] = 30;
    pl.translate[0] = 1;
    DenseSdf b = sdf_from_vdb(band, "surface", pl, 0);
    CHECK(b.dx == doctest::Approx(2 * dx));  // dx <= 0: the grid's voxel size times the scale
    double cw[3];
    place_point(pl, c, cw);
    CHECK(b.sample(cw) == doctest::Approx(-2 * r).epsilon(0.05));
    auto exact_placed = [&](const double* p) {
      double q[3] = {p[0] - cw[0], p[1] - cw[1], p[2] - cw[2]};
      return std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]) - 2 * r;
    };
    CHECK(max_error(b, exact_placed) < 2 * dx);
  }
}

TEST_CASE("level set: the project's mesh assets are closed and inside where expected" *
          doctest::skip(!test::have_openvdb())) {
  struct Probe {
    double p[3];
    bool inside;
  };
  struct Case {
    const char* file;
    double dx;
    std::vector<Probe> probes;
  };
  const Case cases[] = {
      {"torus.obj",
       0.03,
       {{{0.35, 0, 0}, true}, {{0, -0.35, 0.05}, true}, {{0, 0, 0}, false}, {{0.35, 0, 0.2}, false}}},
      {"bunny.obj",
       0.03,
       {{{0, 0, 0}, true}, {{0.3, 0, 0.2}, true}, {{0, 0, -0.3}, false}, {{0.3, 0, 0.65}, false}}},
      {"wedge.obj",
       0.03,
       {{{0.4, 0, 0.05}, true}, {{-0.4, 0, 0.1}, false}, {{0.4, 0, 0.22}, true}, {{0.4, 0, 0.3}, false}}},
      {"bowl.obj",
       0.015,
       {{{0, 0, 0.02}, true}, {{0, 0, 0.15}, false}, {{0.43, 0, 0.28}, true}, {{0, 0, -0.02}, false}}},
      {"funnel.obj", 0.015, {{{0.095, 0, 0.05}, true}, {{0, 0, 0.1}, false}, {{0, 0, 0.4}, false}}},
  };
  for (const auto& cs : cases) {
    INFO("file := " << std::string(cs.file));
    DenseSdf s = sdf_from_obj(asset(std::string("meshes/") + cs.file), Placement{}, cs.dx);
    for (const auto& pr : cs.probes) {
      CAPTURE(pr.p[0]);
      CAPTURE(pr.p[2]);
      CHECK((s.sample(pr.p) < 0) == pr.inside);
    }
  }
}

TEST_CASE("level set: the committed sphere.vdb is a sphere of radius 0.25" *
          doctest::skip(!test::have_openvdb())) {
  const std::string path = asset("levelsets/sphere.vdb");
  DenseSdf s = sdf_from_vdb(path, "surface", Placement{}, 0);
  double c[3] = {0, 0, 0}, on[3] = {0.25, 0, 0}, out[3] = {0, 0.35, 0};
  CHECK(s.sample(c) == doctest::Approx(-0.25).epsilon(0.05));
  CHECK(std::fabs(s.sample(on)) < 0.1 * s.dx);
  CHECK(s.sample(out) == doctest::Approx(0.1).epsilon(0.05));
}

// Regenerates the asset above (skipped unless asked for: ductile_tests -tc='make assets*' --no-skip).
TEST_CASE("make assets/levelsets/sphere.vdb" * doctest::skip()) {
  const double c[3] = {0, 0, 0};
  fs::create_directories(asset("levelsets"));
  write_sdf_vdb(sphere_sdf(0.25, 0.02, c), asset("levelsets/sphere.vdb"), "surface", 3);
}

TEST_CASE("level set: error messages name the file, the line and what is wrong" *
          doctest::skip(!test::have_openvdb())) {
  const std::string missing = (temp_dir() / "missing.obj").string();
  CHECK(error_of([&] { sdf_from_obj(missing, Placement{}, 0.1); }) == missing + ": cannot open");
  const std::string missing_vdb = (temp_dir() / "missing.vdb").string();
  CHECK(error_of([&] { sdf_from_vdb(missing_vdb, "surface", Placement{}, 0.1); }) ==
        missing_vdb + ": cannot open");
  const std::string dir = temp_dir().string();
  CHECK(error_of([&] { sdf_from_obj(dir, Placement{}, 0.1); }) == dir + ": cannot open");

  SUBCASE("bad numbers and faces, with the line") {
    std::string bad_v = write_text("bad_v.obj", "# x\nv 0 0 0\nv 1 oops 0\nv 0 1 0\nf 1 2 3\n");
    std::string e = error_of([&] { sdf_from_obj(bad_v, Placement{}, 0.1); });
    CHECK(starts_with(e, bad_v + ":3: 'v' needs 3 finite numbers"));
    std::string bad_f = write_text("bad_f.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\n\nf 1 2 x\n");
    e = error_of([&] { sdf_from_obj(bad_f, Placement{}, 0.1); });
    CHECK(starts_with(e, bad_f + ":5: bad face vertex \"x\""));
    std::string range = write_text("range.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n");
    e = error_of([&] { sdf_from_obj(range, Placement{}, 0.1); });
    CHECK(e == range + ":4: face vertex 9 is out of range (the file has 3 vertices)");
    std::string neg = write_text("neg.obj", "v 0 0 0\nf -1 -2 -3\n");
    e = error_of([&] { sdf_from_obj(neg, Placement{}, 0.1); });
    CHECK(starts_with(e, neg + ":2: face vertex -2 refers before the first vertex"));
    std::string zero = write_text("zero.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n");
    CHECK(starts_with(error_of([&] { sdf_from_obj(zero, Placement{}, 0.1); }),
                      zero + ":4: bad face vertex \"0\""));
    std::string two = write_text("two.obj", "v 0 0 0\nv 1 0 0\nf 1 2\n");
    CHECK(starts_with(error_of([&] { sdf_from_obj(two, Placement{}, 0.1); }),
                      two + ":3: a face needs at least 3"));
  }
  SUBCASE("empty, open and too thin meshes") {
    std::string empty = write_text("empty.obj", "# nothing\n");
    CHECK(error_of([&] { sdf_from_obj(empty, Placement{}, 0.1); }) == empty + ": no triangles");
    std::string points = write_text("points.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nl 1 2\n");
    CHECK(error_of([&] { sdf_from_obj(points, Placement{}, 0.1); }) == points + ": no triangles");
    std::string open = write_text("open.obj", cube_obj(2));
    std::string e = error_of([&] { sdf_from_obj(open, Placement{}, 0.1); });
    CHECK(starts_with(e, open + ": mesh is not closed: 4 edges"));
    // a closed box 0.001 thick between voxel centres (z = 0.05): no node is inside at dx 0.1
    std::string thin = write_text("thin.obj", cube_obj(-1, "0.0005"));
    Placement between;
    between.translate[2] = 0.05;
    e = error_of([&] { sdf_from_obj(thin, between, 0.1); });
    CHECK(starts_with(e, thin + ": the mesh has no inside"));
  }
  SUBCASE("bad arguments") {
    std::string cube = write_text("cube_e.obj", cube_obj());
    CHECK(error_of([&] { sdf_from_obj(cube, Placement{}, 0); }) ==
          cube + ": voxel size dx must be > 0, got 0");
    Placement neg;
    neg.scale = -1;
    CHECK(
        starts_with(error_of([&] { sdf_from_obj(cube, neg, 0.1); }), cube + ": placement scale must be > 0"));
    CHECK(
        starts_with(error_of([&] { sdf_from_obj(cube, Placement{}, 1e-5); }), cube + ": dx = 1e-05 needs a"));
  }
  SUBCASE("VDB: unknown grid names list the grids present; non-VDB files; unwritable paths") {
    const double c[3] = {0, 0, 0};
    const std::string vdb = (temp_dir() / "named.vdb").string();
    write_sdf_vdb(sphere_sdf(0.2, 0.05, c), vdb, "surface");
    CHECK(error_of([&] { sdf_from_vdb(vdb, "nope", Placement{}, 0.05); }) ==
          vdb + ": no grid named 'nope' (grids present: surface (float))");
    std::string text = write_text("text.vdb", "not a vdb\n");
    CHECK(starts_with(error_of([&] { sdf_from_vdb(text, "", Placement{}, 0.05); }),
                      text + ": cannot read VDB"));
    const std::string nowhere = (temp_dir() / "no_such_dir" / "x.vdb").string();
    CHECK(starts_with(error_of([&] { write_sdf_vdb(sphere_sdf(0.2, 0.05, c), nowhere, "surface"); }),
                      nowhere + ": cannot write VDB"));
    CHECK(starts_with(error_of([&] { write_sdf_vdb(DenseSdf{}, vdb, "surface"); }),
                      vdb + ": cannot write an empty"));
  }
}

TEST_CASE("level set: a field beyond the memory limit is refused before OpenVDB or the array allocates" *
          doctest::skip(!test::have_openvdb())) {
  const std::string cube = write_text("cube_mem.obj", cube_obj());
  // dx = 0.01: 109^3 nodes, about 28 MB at the estimate; a 10 MB limit refuses it, naming the file and size
  set_memory_limit(10e6);
  const std::string m = error_of([&] { sdf_from_obj(cube, Placement{}, 0.01); });
  set_memory_limit(0);
  INFO(m);
  CHECK(m.find("signed distance field of " + cube) != std::string::npos);
  CHECK(m.find("109 x 109 x 109 nodes") != std::string::npos);
  CHECK(m.find("--max-memory") != std::string::npos);
  CHECK(m.find("larger sdf_dx") != std::string::npos);
  // the same field is made without the limit
  CHECK(sdf_from_obj(cube, Placement{}, 0.01).res[0] == 109);
}
