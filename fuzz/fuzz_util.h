// Shared by the libFuzzer harnesses: temporary files for readers that take a path, and the rule that a
// hostile input may only end in a ductile::Error (a clear message), never in another exception or a crash.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"

namespace ductile::fuzz {

// A private directory for this process (removed at exit); files written there by put().
inline const std::filesystem::path& work_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("ductile-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(
          std::filesystem::temp_directory_path() / ("ductile-fuzz-" + std::to_string(::getpid())), ec);
    });
    return d;
  }();
  return dir;
}

// Writes bytes to work_dir()/name and returns its path.
inline std::string put(const std::string& name, const uint8_t* data, size_t size) {
  const auto path = work_dir() / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path.string();
}

// Runs fn: a ductile::Error is the expected outcome of bad input; anything else is a finding (abort, so that
// libFuzzer saves the input).
template <class Fn>
int expect_clean(Fn&& fn) {
  try {
    fn();
  } catch (const ductile::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: unexpected exception (not a ductile::Error): %s\n", e.what());
    std::abort();
  }
  return 0;
}

}  // namespace ductile::fuzz
