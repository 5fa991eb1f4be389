// Hostile neural weight files: truncated or bit-flipped safetensors files (what ductile writes) and LibTorch
// archives of earlier builds (read in a child process first) are refused with an exception naming the file,
// never a crash. The safetensors reader itself is fuzzed (fuzz/fuzz_weights.cpp). Skipped in builds without
// LibTorch (the sanitizer build among them; tests/materials/test_neural_weights_file.cpp runs there).
#ifdef DUCTILE_WITH_TORCH
#include <doctest/doctest.h>

#include <string>

#include "core/error.h"
#include "io/temp_dir.h"
#include "materials/neural/neural_material.h"

using namespace ductile;

namespace {

// Truncations and single flipped bytes at spread-out places of `bytes`: a ductile::Error naming the file, or
// (a flip in a value or in padding) still a valid file; never a crash or a hang. Returns {refused, accepted}.
std::pair<int, int> damage(const std::string& bytes, const std::string& path) {
  int refused = 0, accepted = 0;
  for (size_t k = 1; k < bytes.size(); k += bytes.size() / 23 + 1) {
    std::string bad = bytes;
    bad[k] = char(bad[k] ^ 0x5a);
    for (const std::string& b : {bytes.substr(0, k), bad}) {
      test::write_text(path, b);
      auto fresh = make_neural_material<double, 3>();
      try {
        fresh->configure("weights", path);
        ++accepted;
      } catch (const Error& e) {
        CHECK(std::string(e.what()).rfind(path + ": ", 0) == 0);
        ++refused;
      }
    }
  }
  return {refused, accepted};
}

}  // namespace

TEST_CASE("hardening: damaged neural weight files are refused with an error") {
  test::TempDir dir;
  auto m = make_neural_material<double, 3>();
  save_neural_weights(*m, dir.file("w.safetensors"));
  const std::string bytes = test::read_text(dir.file("w.safetensors"));
  REQUIRE(bytes.size() > 64);
  const auto [refused, accepted] = damage(bytes, dir.file("bad.safetensors"));
  CHECK(refused >= 24);  // every truncation
  MESSAGE("damaged safetensors files: " << refused << " refused, " << accepted << " still valid");
  const std::string legacy =
      test::read_text(std::string(DUCTILE_SOURCE_DIR) + "/tests/materials/data/jelly_3d_legacy.pt");
  const auto [refused_pt, accepted_pt] = damage(legacy, dir.file("bad.pt"));
  CHECK(refused_pt > 0);
  MESSAGE("damaged LibTorch archives: " << refused_pt << " refused, " << accepted_pt
                                        << " still valid archives");
}
#endif
