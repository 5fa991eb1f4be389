// Untrusted files read in a child process first (core/io/isolated_read.h): a crash, a sanitizer report or a
// hang of a third-party reader becomes a clear error, and the process goes on.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/error.h"
#include "core/io/isolated_read.h"
#include "core/io/vdb_volume.h"
#include "core/level_set.h"
#include "test_util.h"

using namespace ductile;
using ductile::test::error_of;

TEST_CASE("isolated read: a reader that crashes, throws or hangs in the child is a clear error") {
  // a clean read returns
  CHECK_NOTHROW(io::vet_in_child("f.bin", "test file", [] {}));
  // a crash (a segmentation fault raised in the child) names the file and the signal
  const std::string crash =
      error_of([] { io::vet_in_child("f.bin", "test file", [] { std::raise(SIGSEGV); }); });
  CHECK(crash.find("f.bin: the test file reader crashed on this file (signal 11") == 0);
  // an abort without a signal (a sanitizer's report exits with a status)
  const std::string died = error_of([] { io::vet_in_child("f.bin", "test file", [] { std::_Exit(1); }); });
  CHECK(died.find("f.bin: the test file reader failed on this file (exit 1") == 0);
  // an exception's message comes back as it was
  const std::string threw = error_of(
      [] { io::vet_in_child("f.bin", "test file", [] { fail("f.bin", "bad header at byte 12"); }); });
  CHECK(threw == "f.bin: bad header at byte 12");
  // a hang is stopped at the time limit
  const auto start = std::chrono::steady_clock::now();
  const std::string hung = error_of([] {
    io::vet_in_child(
        "f.bin", "test file", [] { std::this_thread::sleep_for(std::chrono::seconds(30)); }, 0.3);
  });
  CHECK(hung.find("f.bin: reading the test file took over 0.3 s") == 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

TEST_CASE(
    "isolated read: a VDB file on which OpenVDB 10 overflows a heap buffer is refused, the process goes on" *
    doctest::skip(!test::have_openvdb())) {
  // found by fuzz_vdb: a flipped bit makes bloscFromStream read 45,181 bytes into a smaller buffer
  // (AddressSanitizer reports a heap-buffer-overflow inside libopenvdb). The reading child dies; this process
  // gets an Error. Without the sanitizers the overflow need not crash the child: then the file OpenVDB
  // rewrote is what is read here.
  const std::string path = std::string(DUCTILE_SOURCE_DIR) + "/fuzz/corpus/vdb/openvdb10_blosc_overflow.vdb";
  bool refused = false;
  try {
    io::read_vdb_info(path);
  } catch (const Error& e) {
    refused = true;
    CHECK(std::string(e.what()).find(path) == 0);
  }
  try {
    sdf_from_vdb(path, "", Placement{}, 0.25);
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find(path) == 0);
  }
#if defined(__SANITIZE_ADDRESS__)
  CHECK(refused);
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  CHECK(refused);
#endif
#endif
  // the bundled level sets still read (through their rewritten copies)
  CHECK_FALSE(io::read_vdb_info(std::string(DUCTILE_SOURCE_DIR) + "/assets/levelsets/sphere.vdb").empty());
}
