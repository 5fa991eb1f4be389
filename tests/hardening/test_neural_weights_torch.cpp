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
// (a flip in a value or in padding) still a valid file; never a crash or a hang.
struct Damage {
  int cuts = 0, cuts_refused = 0, flips = 0, flips_refused = 0;
};
Damage damage(const std::string& bytes, const std::string& path) {
  Damage d;
  for (size_t k = 1; k < bytes.size(); k += bytes.size() / 23 + 1) {
    std::string flipped = bytes;
    flipped[k] = char(flipped[k] ^ 0x5a);
    for (int cut = 0; cut < 2; ++cut) {
      test::write_text(path, cut ? bytes.substr(0, k) : flipped);
      (cut ? d.cuts : d.flips)++;
      auto fresh = make_neural_material<double, 3>();
      try {
        fresh->configure("weights", path);
      } catch (const Error& e) {
        CHECK(std::string(e.what()).rfind(path + ": ", 0) == 0);
        (cut ? d.cuts_refused : d.flips_refused)++;
      }
    }
  }
  return d;
}

}  // namespace

TEST_CASE("hardening: damaged neural weight files are refused with an error") {
  test::TempDir dir;
  auto m = make_neural_material<double, 3>();
  save_neural_weights(*m, dir.file("w.safetensors"));
  const std::string bytes = test::read_text(dir.file("w.safetensors"));
  REQUIRE(bytes.size() > 64);
  const Damage st = damage(bytes, dir.file("bad.safetensors"));
  CHECK(st.cuts_refused == st.cuts);  // a truncated file is never read
  MESSAGE("damaged safetensors files: " << st.cuts_refused << " of " << st.cuts << " truncations and "
                                        << st.flips_refused << " of " << st.flips
                                        << " flipped bytes refused");
  const std::string legacy =
      test::read_text(std::string(DUCTILE_SOURCE_DIR) + "/tests/materials/data/jelly_3d_legacy.pt");
  const Damage pt = damage(legacy, dir.file("bad.pt"));
  CHECK(pt.cuts_refused == pt.cuts);
  MESSAGE("damaged LibTorch archives: " << pt.cuts_refused << " of " << pt.cuts << " truncations and "
                                        << pt.flips_refused << " of " << pt.flips
                                        << " flipped bytes refused");
}
#endif
