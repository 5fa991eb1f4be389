// Particles to OpenVDB volumes for renderers (Blender Volume objects, Houdini): a fog grid `density` [kg/m^3]
// and a mass-weighted `velocity` grid [m/s], one .vdb per frame. OpenVDB headers stay in vdb_volume.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/state.h"

namespace ductile::io {

// The OpenVDB version this build links, e.g. "10.0.1"; "" in a build configured with
// -DDUCTILE_WITH_OPENVDB=OFF, where every function of this header, io::particle_surface and the level-set
// loaders of core/level_set.h throw "built without OpenVDB: ..." (the *_novdb.cpp stubs).
std::string openvdb_version();
// Nothing in a build with OpenVDB; without it throws Error "built without OpenVDB: <what>; rebuild with
// -DDUCTILE_WITH_OPENVDB=ON", `what` naming what was asked for (a file, an output).
void require_openvdb(const std::string& what);

// Splats particle mass with the trilinear (cloud-in-cell) kernel onto voxels of size `voxel` [m] centered at
// integer multiples of `voxel`, so the density integrates exactly to the total mass; writes `path`
// atomically. `time` [s] is stored as grid metadata.
template <class T>
void write_vdb_volume(const std::string& path, const State<T, 3>& s, double voxel, double time = 0);

// What a .vdb file holds, per grid (for tests and tools; keeps OpenVDB out of their translation units).
struct VolumeGridInfo {
  std::string name;
  std::string type;        // OpenVDB's type name, e.g. "Tree_float_5_4_3", "Tree_vec3s_5_4_3"
  std::string grid_class;  // "fog volume", "level set", ...
  double voxel = 0;        // voxel size along x [m]
  int64_t active_voxels = 0;
  double sum[3] = {0, 0, 0};  // sum of active values (per component for vector grids)
  double min[3] = {0, 0, 0};  // per-component extremes over active values
  double max[3] = {0, 0, 0};
};
std::vector<VolumeGridInfo> read_vdb_info(const std::string& path);

// Joins the worker threads of OpenVDB's TBB scheduler (TBB starts them again at its next parallel use), so
// that a child forked next has no scheduler whose threads it lacks: a TBB algorithm there (OpenVDB's writer
// runs one) can wait for them forever. Throws an Error naming `path` where another thread of the program is
// inside a TBB algorithm and the workers cannot stop. Nothing in a build without OpenVDB.
void stop_tbb_workers(const std::string& path);

// A VDB file as OpenVDB itself rewrote it: every grid is read (eagerly) in a child process and written again
// to a temporary file, which the caller reads instead of `path` and which is removed with this object.
// OpenVDB's reader is not hardened against damaged files (core/io/isolated_read.h): a crash there becomes a
// ductile::Error naming `path`, and the file read in-process is one OpenVDB wrote, not the untrusted one. The
// constructor first stops TBB's workers (stop_tbb_workers).
class VdbCleanCopy {
 public:
  explicit VdbCleanCopy(const std::string& path);
  ~VdbCleanCopy();
  VdbCleanCopy(const VdbCleanCopy&) = delete;
  VdbCleanCopy& operator=(const VdbCleanCopy&) = delete;
  const std::string& path() const { return copy_; }

 private:
  std::string copy_;
};

}  // namespace ductile::io
