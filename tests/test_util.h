// Small helpers shared by the test files.
#pragma once

#include <string>
#include <utility>

#include "core/error.h"
#include "core/io/vdb_volume.h"

namespace ductile::test {

// The message of the ductile::Error that fn throws, or "" when fn returns normally (other exceptions pass
// through).
template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    std::forward<Fn>(fn)();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Whether this build has OpenVDB (-DDUCTILE_WITH_OPENVDB): the tests of mesh and VDB shapes and outputs skip
// without it (`* doctest::skip(!test::have_openvdb())`), as the GPU tests skip without a GPU.
inline bool have_openvdb() {
  return !io::openvdb_version().empty();
}

}  // namespace ductile::test
