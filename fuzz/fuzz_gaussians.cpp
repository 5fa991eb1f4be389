// libFuzzer harness: 3D Gaussian Splatting PLY files (core/io/gaussian_splats.h) as `ductile render` and the
// splat input read them: the PLY, the 3DGS checks, then every covariance.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/io/gaussian_splats.h"
#include "core/io/ply.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ductile::fuzz::expect_clean([&] {
    const auto t = ductile::io::parse_ply(std::string(reinterpret_cast<const char*>(data), size), "fuzz.ply");
    ductile::io::check_gaussians(t, "fuzz.ply");
    // a checked table gives finite covariances
    for (size_t r = 0; r < t.count; ++r) {
      const auto S = ductile::io::gaussian_covariance(t, r);
      for (const auto& row : S)
        for (double v : row)
          if (!std::isfinite(v)) {
            std::fprintf(stderr, "fuzz: row %zu of a checked table has a covariance that is not finite\n", r);
            std::abort();
          }
    }
  });
}
