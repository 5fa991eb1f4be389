// libFuzzer harness: OpenVDB files as read for level-set shapes (the grid list, then one float grid
// resampled onto a coarse array).
#include <cstdint>
#include <string>

#include "core/io/vdb_volume.h"
#include "core/level_set.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = ductile::fuzz::put("shape.vdb", data, size);
  ductile::fuzz::expect_clean([&] { ductile::io::read_vdb_info(path); });
  return ductile::fuzz::expect_clean([&] { ductile::sdf_from_vdb(path, "", ductile::Placement{}, 0.25); });
}
