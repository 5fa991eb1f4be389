// Small helpers shared by the test files.
#pragma once

#include <string>
#include <utility>

#include "core/error.h"

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

}  // namespace ductile::test
