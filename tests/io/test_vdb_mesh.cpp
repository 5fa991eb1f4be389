// Surface meshes of particles through an OpenVDB level set: they enclose the particles and read back.
#include <doctest/doctest.h>

#include <cmath>

#include "core/error.h"
#include "core/io/vdb_mesh.h"
#include "io/temp_dir.h"
#include "test_util.h"

using namespace ductile;

TEST_CASE("mesh: the surface of a ball of particles is a closed outward mesh around it, the OBJ reads back" *
          doctest::skip(!test::have_openvdb())) {
  // particles on a lattice of spacing h inside a ball of radius R
  const double R = 0.1, h = 0.01, c[3] = {0.3, 0.4, 0.5};
  std::vector<float> xyz;
  double lo[3] = {1e9, 1e9, 1e9}, hi[3] = {-1e9, -1e9, -1e9};
  const int n = int(R / h);
  for (int i = -n; i <= n; ++i)
    for (int j = -n; j <= n; ++j)
      for (int k = -n; k <= n; ++k) {
        if ((i * i + j * j + k * k) * h * h > R * R) continue;
        const double p[3] = {c[0] + i * h, c[1] + j * h, c[2] + k * h};
        for (int d = 0; d < 3; ++d) {
          xyz.push_back(float(p[d]));
          lo[d] = std::min(lo[d], p[d]), hi[d] = std::max(hi[d], p[d]);
        }
      }
  const double radius = h, voxel = h / 2;
  const io::SurfaceMesh m = io::particle_surface(xyz, radius, voxel);
  test::TempDir dir;
  io::write_obj(dir.file("ball.obj"), {{"ball", m}}, "test");
  const io::SurfaceMesh back = io::read_obj(dir.file("ball.obj"));
  REQUIRE(back.vertices.size() > 300);
  CHECK(back.vertices.size() == m.vertices.size());
  CHECK(back.face_size.size() == m.face_size.size());
  // bounding box: the particles' box grown by the sphere radius, within two voxels
  double blo[3] = {1e9, 1e9, 1e9}, bhi[3] = {-1e9, -1e9, -1e9};
  for (size_t v = 0; v < back.vertices.size(); v += 3)
    for (int d = 0; d < 3; ++d)
      blo[d] = std::min(blo[d], double(back.vertices[v + d])),
      bhi[d] = std::max(bhi[d], double(back.vertices[v + d]));
  for (int d = 0; d < 3; ++d) {
    CHECK(std::fabs(blo[d] - (lo[d] - radius)) <= 2 * voxel);
    CHECK(std::fabs(bhi[d] - (hi[d] + radius)) <= 2 * voxel);
  }
  // enclosed volume by the divergence theorem: positive (outward faces), about that of a ball of R + radius
  double vol = 0;
  size_t f = 0;
  for (int sides : back.face_size) {
    const float* a = &back.vertices[3 * size_t(back.faces[f])];
    for (int t = 1; t + 1 < sides; ++t) {
      const float* b = &back.vertices[3 * size_t(back.faces[f + size_t(t)])];
      const float* e = &back.vertices[3 * size_t(back.faces[f + size_t(t) + 1])];
      vol += (a[0] * (b[1] * e[2] - b[2] * e[1]) - a[1] * (b[0] * e[2] - b[2] * e[0]) +
              a[2] * (b[0] * e[1] - b[1] * e[0])) /
             6.0;
    }
    f += size_t(sides);
  }
  const double expect = 4.0 / 3.0 * 3.14159265358979 * std::pow(R + radius, 3);
  CHECK(vol > 0.8 * expect);
  CHECK(vol < 1.1 * expect);
}

TEST_CASE("mesh: radii under 1.5 voxels and bad OBJ lines are refused clearly" *
          doctest::skip(!test::have_openvdb())) {
  CHECK_THROWS_WITH(io::particle_surface({0, 0, 0}, 0.01, 0.01), doctest::Contains("below 1.5 voxels"));
  CHECK(io::particle_surface({}, 0.03, 0.01).vertices.empty());
  test::TempDir dir;
  test::write_text(dir.file("bad.obj"), "v 0 0 0\nv 1 0 0\nf 1 2 7\n");
  CHECK_THROWS_WITH(io::read_obj(dir.file("bad.obj")),
                    doctest::Contains("bad.obj:3: face index 7 out of range"));
}
