#include "core/io/vdb_volume.h"

#include <oneapi/tbb/global_control.h>
#include <openvdb/openvdb.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <mutex>

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/isolated_read.h"

namespace ductile::io {

namespace {

void init_openvdb() {
  static std::once_flag once;
  std::call_once(once, [] { openvdb::initialize(); });
}

// Accumulates w * q into the voxel at c (activating it).
template <class Accessor, class V>
void add_to(Accessor& acc, const openvdb::Coord& c, const V& q) {
  acc.setValue(c, acc.getValue(c) + q);
}

}  // namespace

template <class T>
void write_vdb_volume(const std::string& path, const State<T, 3>& s, double voxel, double time) {
  if (!(voxel > 0) || !std::isfinite(voxel))
    fail(path, "VDB voxel size must be > 0, got " + std::to_string(voxel));
  init_openvdb();
  auto xform = openvdb::math::Transform::createLinearTransform(voxel);
  auto mass = openvdb::FloatGrid::create(0.0f);
  auto mom = openvdb::Vec3SGrid::create(openvdb::Vec3s(0.0f));
  auto macc = mass->getAccessor();
  auto vacc = mom->getAccessor();
  // scatter mass and momentum with trilinear weights around each particle's index-space position
  const int n = s.n;
  for (int p = 0; p < n; ++p) {
    double idx[3], w[3][2];
    int base[3];
    for (int d = 0; d < 3; ++d) {
      idx[d] = double(s.x[size_t(d) * n + p]) / voxel;
      double f = std::floor(idx[d]);
      base[d] = int(f);
      w[d][1] = idx[d] - f;
      w[d][0] = 1.0 - w[d][1];
    }
    const double m = double(s.mass[p]);
    const openvdb::Vec3d v(s.v[p], s.v[size_t(n) + p], s.v[size_t(2) * n + p]);
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 2; ++b)
        for (int c = 0; c < 2; ++c) {
          const double wm = w[0][a] * w[1][b] * w[2][c] * m;
          if (wm <= 0) continue;
          const openvdb::Coord ijk(base[0] + a, base[1] + b, base[2] + c);
          add_to(macc, ijk, float(wm));
          add_to(vacc, ijk, openvdb::Vec3s(v * wm));
        }
  }
  // velocity = momentum / mass; density = mass / voxel volume
  for (auto it = mom->beginValueOn(); it; ++it) {
    const float m = macc.getValue(it.getCoord());
    it.setValue(m > 0 ? *it / m : openvdb::Vec3s(0.0f));
  }
  const float inv_vol = float(1.0 / (voxel * voxel * voxel));
  for (auto it = mass->beginValueOn(); it; ++it) it.setValue(*it * inv_vol);

  mass->setTransform(xform);
  mom->setTransform(xform->copy());
  mass->setName("density");
  mass->setGridClass(openvdb::GRID_FOG_VOLUME);
  mom->setName("velocity");
  mom->setVectorType(openvdb::VEC_CONTRAVARIANT_RELATIVE);  // a velocity, stored in world space
  mom->setIsInWorldSpace(true);
  for (openvdb::GridBase* g :
       {static_cast<openvdb::GridBase*>(mass.get()), static_cast<openvdb::GridBase*>(mom.get())})
    g->insertMeta("time", openvdb::DoubleMetadata(time));
  mass->insertMeta("units", openvdb::StringMetadata("kg/m^3"));
  mom->insertMeta("units", openvdb::StringMetadata("m/s"));

  openvdb::GridPtrVec grids{mass, mom};
  openvdb::MetaMap meta;
  meta.insertMeta("creator", openvdb::StringMetadata(std::string("ductile ") + DUCTILE_VERSION));
  AtomicFile out(path);
  try {
    openvdb::io::File file(out.tmp_path());
    file.write(grids, meta);
    file.close();
  } catch (const openvdb::Exception& e) {
    fail(path, std::string("cannot write VDB: ") + e.what());
  }
  out.commit();
}

template void write_vdb_volume(const std::string&, const State<float, 3>&, double, double);
template void write_vdb_volume(const std::string&, const State<double, 3>&, double, double);

std::string openvdb_version() {
  return OPENVDB_LIBRARY_VERSION_STRING;
}

void require_openvdb(const std::string&) {}

namespace {

// Active-value statistics of one grid into info.
template <class GridT, int C, class Get>
void grid_stats(const GridT& g, VolumeGridInfo& info, Get get) {
  bool first = true;
  for (auto it = g.cbeginValueOn(); it; ++it) {
    ++info.active_voxels;
    for (int c = 0; c < C; ++c) {
      const double v = get(*it, c);
      info.sum[c] += v;
      info.min[c] = first ? v : std::min(info.min[c], v);
      info.max[c] = first ? v : std::max(info.max[c], v);
    }
    first = false;
  }
}

}  // namespace

void stop_tbb_workers(const std::string& path) {
  // a blocking finalize of an attached handle joins the workers; TBB starts new ones when next needed
  oneapi::tbb::task_scheduler_handle handle{oneapi::tbb::attach{}};
  if (!oneapi::tbb::finalize(handle, std::nothrow))
    fail(path,
         "cannot read the VDB file in a separate process while another thread of this program is inside "
         "a TBB algorithm (OpenVDB's thread pool)");
}

VdbCleanCopy::VdbCleanCopy(const std::string& path) {
  init_openvdb();
  stop_tbb_workers(path);
  static std::atomic<int> counter{0};
  copy_ = (std::filesystem::temp_directory_path() /
           ("ductile-vdb-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".vdb"))
              .string();
  const std::string copy = copy_;
  try {
    vet_in_child(path, "VDB file", [&] {
      try {
        openvdb::io::File file(path);
        file.open(/*delayLoad=*/false);  // every buffer now, not when first touched
        openvdb::GridPtrVecPtr grids = file.getGrids();
        file.close();
        openvdb::io::File(copy).write(*grids);
      } catch (const openvdb::Exception& e) {
        fail(path, std::string("cannot read VDB: ") + e.what());
      }
    });
  } catch (...) {
    std::filesystem::remove(copy_);
    throw;
  }
}

VdbCleanCopy::~VdbCleanCopy() {
  std::error_code ec;
  if (copy_.find("ductile-vdb-") != std::string::npos) std::filesystem::remove(copy_, ec);
}

std::vector<VolumeGridInfo> read_vdb_info(const std::string& path) {
  const VdbCleanCopy clean(path);
  std::vector<VolumeGridInfo> out;
  try {
    openvdb::io::File file(clean.path());
    file.open();
    for (auto name = file.beginName(); name != file.endName(); ++name) {
      openvdb::GridBase::Ptr g = file.readGrid(name.gridName());
      VolumeGridInfo info;
      info.name = g->getName();
      info.type = g->type();
      info.grid_class = openvdb::GridBase::gridClassToString(g->getGridClass());
      info.voxel = g->voxelSize()[0];
      if (auto fg = openvdb::gridPtrCast<openvdb::FloatGrid>(g)) {
        grid_stats<openvdb::FloatGrid, 1>(*fg, info, [](float v, int) { return double(v); });
      } else if (auto vg = openvdb::gridPtrCast<openvdb::Vec3SGrid>(g)) {
        grid_stats<openvdb::Vec3SGrid, 3>(*vg, info,
                                          [](const openvdb::Vec3s& v, int c) { return double(v[c]); });
      } else {
        info.active_voxels = int64_t(g->activeVoxelCount());
      }
      out.push_back(info);
    }
    file.close();
  } catch (const openvdb::Exception& e) {
    fail(path, std::string("cannot read VDB: ") + e.what());
  }
  return out;
}

}  // namespace ductile::io
