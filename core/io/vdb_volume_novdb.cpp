// Stubs for a build without OpenVDB (-DDUCTILE_WITH_OPENVDB=OFF): VDB volumes fail with one clear message
// that names the file.
#include <string>
#include <vector>

#include "core/error.h"
#include "core/io/vdb_volume.h"

namespace ductile::io {

std::string openvdb_version() {
  return "";
}

void require_openvdb(const std::string& what) {
  fail("", "built without OpenVDB: " + what + "; rebuild with -DDUCTILE_WITH_OPENVDB=ON");
}

template <class T>
void write_vdb_volume(const std::string& path, const State<T, 3>&, double, double) {
  require_openvdb("the VDB volume " + path);
}
template void write_vdb_volume(const std::string&, const State<float, 3>&, double, double);
template void write_vdb_volume(const std::string&, const State<double, 3>&, double, double);

std::vector<VolumeGridInfo> read_vdb_info(const std::string& path) {
  require_openvdb("the VDB file " + path);
  return {};
}

void stop_tbb_workers(const std::string&) {}  // no OpenVDB, no TBB: no workers

VdbCleanCopy::VdbCleanCopy(const std::string& path) {
  require_openvdb("the VDB file " + path);
}
VdbCleanCopy::~VdbCleanCopy() = default;

}  // namespace ductile::io
