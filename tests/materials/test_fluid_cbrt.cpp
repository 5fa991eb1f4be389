// The fluid projection's float cube root (materials/fluid.h fluid_cbrt): against libm's cbrtf and the
// correctly rounded cube root over a sweep of floats, and the special values.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "materials/fluid.h"

using namespace ductile;

namespace {

// Position of f on the line of floats (adjacent floats differ by 1; -0 and +0 coincide).
int64_t float_line(float f) {
  int32_t i;
  std::memcpy(&i, &f, sizeof(i));
  return i < 0 ? -int64_t(i & 0x7fffffff) : int64_t(i);
}

struct UlpCount {
  int64_t values = 0, differ = 0, worst = 0;
  void add(float a, float b) {
    const int64_t d = std::llabs(float_line(a) - float_line(b));
    ++values;
    differ += d != 0;
    worst = std::max(worst, d);
  }
};

}  // namespace

TEST_CASE("fluid cube root: correctly rounded over a float sweep, within 1 ulp of cbrtf") {
  UlpCount vs_libm, vs_exact;
  auto check = [&](float x) {
    const float r = fluid_cbrt(x);
    vs_libm.add(r, std::cbrt(x));
    // the double cube root rounded once to float: the correctly rounded result (double's error is 2^-29
    // of a float ulp)
    vs_exact.add(r, float(std::cbrt(double(x))));
  };
  // every 997th positive float bit pattern (subnormals to the largest finite), both signs
  for (uint32_t b = 1; b < 0x7f800000u; b += 997) {
    float x;
    std::memcpy(&x, &b, sizeof(x));
    check(x), check(-x);
  }
  // every 16th float of [0.5, 2], the volume ratios J a simulation meets
  for (float x = 0.5f; x < 2.f;) {
    check(x);
    for (int k = 0; k < 16; ++k) x = std::nextafter(x, 4.f);
  }
  MESSAGE("fluid_cbrt over " << vs_exact.values << " floats: " << vs_exact.differ
                             << " differ from the correctly rounded cube root; " << vs_libm.differ
                             << " differ from cbrtf (at most " << vs_libm.worst << " ulp)");
  CHECK(vs_exact.values > 5000000);
  CHECK(vs_exact.worst == 0);
  CHECK(vs_libm.worst <= 1);
}

TEST_CASE("fluid cube root: exact cubes, signed zeros, infinities and NaN as cbrt") {
  for (float r : {1.f, 2.f, 3.f, 0.5f, 0.25f, 10.f, 1024.f}) {
    CHECK(fluid_cbrt(r * r * r) == r);
    CHECK(fluid_cbrt(-r * r * r) == -r);
  }
  CHECK(fluid_cbrt(0.f) == 0.f);
  CHECK(!std::signbit(fluid_cbrt(0.f)));
  CHECK(std::signbit(fluid_cbrt(-0.f)));
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(fluid_cbrt(inf) == inf);
  CHECK(fluid_cbrt(-inf) == -inf);
  CHECK(std::isnan(fluid_cbrt(std::numeric_limits<float>::quiet_NaN())));
  // the smallest subnormal and the largest finite float
  const float tiny = std::numeric_limits<float>::denorm_min(), big = std::numeric_limits<float>::max();
  CHECK(fluid_cbrt(tiny) == float(std::cbrt(double(tiny))));
  CHECK(fluid_cbrt(big) == float(std::cbrt(double(big))));
  // double keeps std::cbrt, called at run time on both sides: g++ folds the cube root of a constant correctly
  // rounded even at -O0, while glibc's cbrt(0.7) is 0.61 ulp off and rounds the other way
  volatile double x = 0.7;
  CHECK(fluid_cbrt(double(x)) == std::cbrt(double(x)));
}
