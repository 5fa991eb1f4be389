// libFuzzer harness: OBJ meshes (our line checks, tinyobjloader, the closedness test, OpenVDB's
// meshToLevelSet). The voxel size follows the mesh's extent so every input costs at most ~24^3 nodes.
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

#include "core/level_set.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // the cost is in the parse, not the length
  const std::string text(reinterpret_cast<const char*>(data), size);
  // extent of the 'v' lines (a rough parse of our own; the reader does the real one)
  double lo = 1e300, hi = -1e300;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string key;
    double x;
    if (ls >> key && key == "v")
      while (ls >> x)
        if (std::isfinite(x)) lo = std::fmin(lo, x), hi = std::fmax(hi, x);
  }
  double dx = hi > lo ? (hi - lo) / 16 : 1.0;
  if (!(dx > 0) || !std::isfinite(dx)) dx = 1.0;
  const std::string path = ductile::fuzz::put("mesh.obj", data, size);
  return ductile::fuzz::expect_clean([&] { ductile::sdf_from_obj(path, ductile::Placement{}, dx); });
}
