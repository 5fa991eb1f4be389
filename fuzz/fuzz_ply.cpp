// libFuzzer harness: PLY point files (binary or ASCII), as read for observations and particle input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/io/ply.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ductile::fuzz::expect_clean([&] {
    const auto t = ductile::io::parse_ply(std::string(reinterpret_cast<const char*>(data), size), "fuzz.ply");
    // the table holds exactly the rows it claims
    if (t.values.size() != t.count * t.names.size()) {
      std::fprintf(stderr, "fuzz: %zu values for %zu rows of %zu columns\n", t.values.size(), t.count,
                   t.names.size());
      std::abort();
    }
  });
}
