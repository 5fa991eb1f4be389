// Signed distance fields from VDB level sets, and dense arrays written back as VDB level sets. Every VDB file
// is read through OpenVDB's rewrite of it in a child process (io::VdbCleanCopy, core/io/isolated_read.h).
#include <openvdb/io/File.h>
#include <openvdb/openvdb.h>
#include <openvdb/tools/Interpolation.h>
#include <openvdb/tools/SignedFloodFill.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/vdb_volume.h"
#include "core/level_set.h"
#include "core/level_set_detail.h"

namespace ductile {

using namespace sdf_detail;

// VDB level set -> placed and resampled dense array.

DenseSdf sdf_from_vdb(const std::string& path, const std::string& grid_name, const Placement& place,
                      double dx) {
  if (!(place.scale > 0)) fail(path, "placement scale must be > 0, got " + fmt(place.scale));
  if (!std::ifstream(path, std::ios::binary) || std::filesystem::is_directory(path))
    fail(path, "cannot open");
  init_openvdb();
  const io::VdbCleanCopy clean(path);
  openvdb::FloatGrid::Ptr grid;
  std::string name = grid_name;
  try {
    openvdb::io::File file(clean.path());
    file.open();
    // every grid's name and value type, for the choice and for the message when it fails
    std::string present;
    std::string first_float;
    std::map<std::string, std::string> types;
    const openvdb::GridPtrVecPtr meta = file.readAllGridMetadata();  // held: the loop must not outlive it
    for (const auto& g : *meta) {
      types[g->getName()] = g->valueType();
      present += (present.empty() ? "" : ", ") + g->getName() + " (" + g->valueType() + ")";
      if (first_float.empty() && g->valueType() == "float") first_float = g->getName();
    }
    if (present.empty()) present = "none";
    if (name.empty()) {
      if (first_float.empty()) fail(path, "no float grid (grids present: " + present + ")");
      name = first_float;
    }
    auto it = types.find(name);
    if (it == types.end()) fail(path, "no grid named '" + name + "' (grids present: " + present + ")");
    if (it->second != "float")
      fail(path, "grid '" + name + "' holds " + it->second + " values; a level set is a float grid");
    grid = openvdb::gridPtrCast<openvdb::FloatGrid>(file.readGrid(name));
    file.close();
  } catch (const openvdb::Exception& e) {
    fail(path, std::string("cannot read VDB: ") + e.what());
  }
  if (!grid) fail(path, "cannot read grid '" + name + "'");
  if (grid->getGridClass() == openvdb::GRID_FOG_VOLUME)
    fail(path, "grid '" + name + "' is a fog volume, not a level set (signed distance)");
  if (!(dx > 0)) dx = grid->voxelSize()[0] * place.scale;
  if (!std::isfinite(dx)) fail(path, "voxel size dx must be finite");

  // the placed bounding box of the active voxels
  const openvdb::CoordBBox box = grid->evalActiveVoxelBoundingBox();
  if (box.empty() || grid->activeVoxelCount() == 0) fail(path, "grid '" + name + "' has no active voxels");
  double lo[3] = {kInf, kInf, kInf}, hi[3] = {-kInf, -kInf, -kInf};
  for (int c = 0; c < 8; ++c) {
    openvdb::Vec3d ijk((c & 4) ? box.max().x() : box.min().x(), (c & 2) ? box.max().y() : box.min().y(),
                       (c & 1) ? box.max().z() : box.min().z());
    const openvdb::Vec3d l = grid->indexToWorld(ijk);
    double local[3] = {l.x(), l.y(), l.z()}, w[3];
    place_point(place, local, w);
    for (int d = 0; d < 3; ++d) lo[d] = std::min(lo[d], w[d]), hi[d] = std::max(hi[d], w[d]);
  }
  DenseSdf s = make_dense(path, lo, hi, dx);

  // sample at each node's local position (distances scale with the placement); a value is known when every
  // voxel with weight in its trilinear stencil is active: an inactive voxel holds the clamped background, so
  // such nodes are swept afterwards instead
  std::vector<char> known(s.phi.size(), 1);
#pragma omp parallel for schedule(static)
  for (int i = 0; i < s.res[0]; ++i) {
    auto acc = grid->getConstAccessor();
    for (int j = 0; j < s.res[1]; ++j)
      for (int k = 0; k < s.res[2]; ++k) {
        double w[3] = {s.origin[0] + i * dx, s.origin[1] + j * dx, s.origin[2] + k * dx}, l[3];
        unplace_point(place, w, l);
        const openvdb::Vec3d ip = grid->transform().worldToIndex(openvdb::Vec3d(l[0], l[1], l[2]));
        const size_t idx = s.index(i, j, k);
        s.phi[idx] = float(openvdb::tools::BoxSampler::sample(acc, ip) * place.scale);
        const openvdb::Coord b(openvdb::Coord::floor(ip));
        const openvdb::Vec3d f = ip - b.asVec3d();
        bool all_on = true;
        for (int c = 0; c < 8 && all_on; ++c) {
          const int o[3] = {(c >> 2) & 1, (c >> 1) & 1, c & 1};
          bool weighted = true;
          for (int d = 0; d < 3; ++d) weighted = weighted && (o[d] ? f[d] > 1e-6 : f[d] < 1 - 1e-6);
          if (weighted) all_on = acc.isValueOn(b + openvdb::Coord(o[0], o[1], o[2]));
        }
        known[idx] = all_on;
      }
  }
  sweep_unknown(s, known);
  check_inside(s, path, "grid '" + name + "'");
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Dense array -> FloatGrid level set on disk.

void write_sdf_vdb(const DenseSdf& sdf, const std::string& path, const std::string& grid_name,
                   double half_width_voxels) {
  int64_t nodes = 1;
  for (int d = 0; d < 3; ++d) nodes *= sdf.res[d] > 0 ? sdf.res[d] : 0;
  if (!(sdf.dx > 0) || nodes == 0 || size_t(nodes) != sdf.phi.size())
    fail(path, "cannot write an empty or inconsistent SDF (dx " + fmt(sdf.dx) + ", " + std::to_string(nodes) +
                   " nodes, " + std::to_string(sdf.phi.size()) + " values)");
  if (grid_name.empty()) fail(path, "a VDB grid needs a name");
  init_openvdb();
  // the background must exceed every stored distance, so readers can tell band values from outside ones
  const bool band = half_width_voxels > 0;
  double max_abs = 0;
  for (float v : sdf.phi) max_abs = std::max(max_abs, double(std::fabs(v)));
  const float bg = float(band ? half_width_voxels * sdf.dx : max_abs + sdf.dx);
  auto grid = openvdb::FloatGrid::create(bg);
  auto xform = openvdb::math::Transform::createLinearTransform(sdf.dx);
  xform->postTranslate(openvdb::Vec3d(sdf.origin[0], sdf.origin[1], sdf.origin[2]));
  grid->setTransform(xform);
  auto acc = grid->getAccessor();
  for (int i = 0; i < sdf.res[0]; ++i)
    for (int j = 0; j < sdf.res[1]; ++j)
      for (int k = 0; k < sdf.res[2]; ++k)
        if (!band || std::fabs(sdf.at(i, j, k)) < bg) acc.setValue(openvdb::Coord(i, j, k), sdf.at(i, j, k));
  if (band) openvdb::tools::signedFloodFill(grid->tree());
  grid->setGridClass(openvdb::GRID_LEVEL_SET);
  grid->setName(grid_name);
  io::AtomicFile out(path);  // written beside, renamed into place
  try {
    openvdb::io::File file(out.tmp_path());
    file.write({grid});
    file.close();
  } catch (const openvdb::Exception& e) {
    fail(path, std::string("cannot write VDB: ") + e.what());
  }
  out.commit();
}

}  // namespace ductile
