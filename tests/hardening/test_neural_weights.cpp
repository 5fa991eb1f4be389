// Hostile neural weight files: truncated, bit-flipped or foreign archives are refused with an exception
// naming the file, never a crash (LibTorch reads the archive; materials/neural checks what it holds).
// Skipped in builds without LibTorch (the sanitizer build among them).
#ifdef DUCTILE_WITH_TORCH
#include <doctest/doctest.h>

#include <string>

#include "io/temp_dir.h"
#include "materials/neural/neural_material.h"

using namespace ductile;

TEST_CASE("hardening: damaged neural weight files are refused with an error") {
  test::TempDir dir;
  auto m = make_neural_material<double, 3>();
  save_neural_weights(*m, dir.file("w.pt"));
  const std::string bytes = test::read_text(dir.file("w.pt"));
  REQUIRE(bytes.size() > 64);
  // truncations and single flipped bytes at spread-out places: an exception (any), never a crash or a hang
  int refused = 0, accepted = 0;
  for (size_t k = 1; k < bytes.size(); k += bytes.size() / 23 + 1) {
    std::string bad = bytes;
    bad[k] = char(bad[k] ^ 0x5a);
    for (const std::string& b : {bytes.substr(0, k), bad}) {
      test::write_text(dir.file("bad.pt"), b);
      auto fresh = make_neural_material<double, 3>();
      try {
        fresh->configure("weights", dir.file("bad.pt"));
        ++accepted;  // a flip in padding or in a weight's value may leave a valid archive
      } catch (const std::exception&) {
        ++refused;
      }
    }
  }
  CHECK(refused > 0);
  MESSAGE("damaged weight files: " << refused << " refused, " << accepted << " still valid archives");
}
#endif
