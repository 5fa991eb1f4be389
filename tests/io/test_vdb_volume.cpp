#include <doctest/doctest.h>

#include <filesystem>

#include "core/error.h"
#include "core/io/vdb_volume.h"
#include "io/temp_dir.h"
#include "test_util.h"

using namespace ductile;

namespace {

const io::VolumeGridInfo* find_grid(const std::vector<io::VolumeGridInfo>& g, const std::string& name) {
  for (const auto& i : g)
    if (i.name == name) return &i;
  return nullptr;
}

// A block of n^3 particles of 2 g each at spacing h (not aligned with the voxels), moving at (1, -2, 0.5).
State<float, 3> block(int n, float h) {
  State<float, 3> s;
  s.resize(n * n * n);
  const int N = s.n;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int k = 0; k < n; ++k) {
        const int p = (i * n + j) * n + k;
        s.x[p] = 0.2f + 0.013f + h * i;
        s.x[N + p] = 0.3f + 0.007f + h * j;
        s.x[2 * N + p] = 0.1f + 0.021f + h * k;
        s.v[p] = 1.0f, s.v[N + p] = -2.0f, s.v[2 * N + p] = 0.5f;
        s.mass[p] = 0.002f;
      }
  return s;
}

}  // namespace

TEST_CASE("VDB volume holds density and velocity grids that conserve mass" *
          doctest::skip(!test::have_openvdb())) {
  test::TempDir dir;
  const auto s = block(10, 0.005f);
  const double voxel = 0.01;
  const std::string path = dir.file("frame_00003.vdb");
  io::write_vdb_volume(path, s, voxel, 0.25);
  REQUIRE(std::filesystem::exists(path));
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()), {}) == 1);  // no temporary left

  const auto grids = io::read_vdb_info(path);
  REQUIRE(grids.size() == 2);
  const auto* density = find_grid(grids, "density");
  const auto* velocity = find_grid(grids, "velocity");
  REQUIRE(density);
  REQUIRE(velocity);
  CHECK(density->type == "Tree_float_5_4_3");
  CHECK(density->grid_class == "fog volume");
  CHECK(velocity->type == "Tree_vec3s_5_4_3");
  CHECK(density->voxel == doctest::Approx(voxel));
  CHECK(density->active_voxels > 0);
  CHECK(density->active_voxels == velocity->active_voxels);
  CHECK(density->min[0] > 0);
  // integral of density over the voxels = total particle mass
  const double total = 1000 * 0.002;
  CHECK(density->sum[0] * voxel * voxel * voxel == doctest::Approx(total).epsilon(0.02));
  // a uniform velocity is reproduced in every voxel by the mass-weighted average
  CHECK(velocity->min[0] == doctest::Approx(1.0).epsilon(1e-4));
  CHECK(velocity->max[0] == doctest::Approx(1.0).epsilon(1e-4));
  CHECK(velocity->min[1] == doctest::Approx(-2.0).epsilon(1e-4));
  CHECK(velocity->max[2] == doctest::Approx(0.5).epsilon(1e-4));
}

TEST_CASE("VDB volume: interior density approaches the block's density" *
          doctest::skip(!test::have_openvdb())) {
  test::TempDir dir;
  // 8 particles per voxel of 1 cm: 2 g / (5 mm)^3 = 16000 kg/m^3
  const auto s = block(20, 0.005f);
  io::write_vdb_volume(dir.file("v.vdb"), s, 0.01);
  const auto grids = io::read_vdb_info(dir.file("v.vdb"));
  const auto* density = find_grid(grids, "density");
  REQUIRE(density);
  CHECK(density->max[0] == doctest::Approx(16000.0).epsilon(0.05));
}

TEST_CASE("VDB volume rejects a bad voxel size and unreadable files" * doctest::skip(!test::have_openvdb())) {
  test::TempDir dir;
  const auto s = block(2, 0.005f);
  CHECK_THROWS_AS(io::write_vdb_volume(dir.file("v.vdb"), s, 0.0), Error);
  CHECK_FALSE(std::filesystem::exists(dir.file("v.vdb")));
  test::write_text(dir.file("bad.vdb"), "not a vdb file");
  CHECK_THROWS_AS(io::read_vdb_info(dir.file("bad.vdb")), Error);
}
