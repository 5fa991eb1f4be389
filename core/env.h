// Environment switches for comparison and tuning (docs/ARCHITECTURE.md, "Switches for comparison and
// tuning").
#pragma once

#include <cstdlib>
#include <initializer_list>
#include <string>

#include "core/error.h"

namespace ductile {

// The value of environment variable `name` ("" when unset), which must be one of `allowed` (list "" to allow
// unset); any other value is an error naming the variable and the values it takes.
inline std::string env_choice(const char* name, std::initializer_list<const char*> allowed) {
  const char* v = std::getenv(name);
  const std::string value = v ? v : "";
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return value;
    if (*a) list += std::string(list.empty() ? "" : ", ") + a;
  }
  fail(name, "unknown value '" + value + "' (" + list + ")");
}

}  // namespace ductile
