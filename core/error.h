// The one error type of the library: its message names what went wrong and where.
#pragma once

#include <stdexcept>
#include <string>

namespace ductile {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throws an Error whose message starts with a location (a JSON pointer, a file:line, a stage).
[[noreturn]] inline void fail(const std::string& where, const std::string& what) {
  throw Error(where.empty() ? what : where + ": " + what);
}

}  // namespace ductile
