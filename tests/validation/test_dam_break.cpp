// Dam break: the surge front of a collapsing 2D water column against Martin & Moyce's measurements.
//
// Reference: Martin & Moyce 1952, "An experimental study of the collapse of liquid columns on a rigid
// horizontal plane", Phil. Trans. R. Soc. A 244, 312-324, Fig. 3: surge front of a column of width a and
// height n^2 a with n^2 = 2, in M&M's dimensionless form Z = x / a (x from the back wall; Z = 1 at release)
// against T = n t sqrt(g / a) = t sqrt(2 g / a). The points are the digitisation of Fig. 3 (a = 2 1/4 in)
// kept in PySPH (pypr/pysph, pysph/examples/db_exp_data.py, get_martin_moyce_2), the first five (T <= 3.35):
//   T 0.832 1.219 1.997 2.547 3.345
//   Z 1.217 1.474 2.292 2.995 4.134
// An independent transcription of M&M's tables (T 0.84, 2.32, 3.33 -> Z 1.22, 2.78, 4.11) and M&M's smaller
// column (a = 1 1/8 in) agree with these within 2-4 %, the scatter of the data. Upper bound: Ritter's
// shallow-water solution (1892; e.g. Stoker, "Water Waves", 1957, ch. 10) moves the front at 2 sqrt(g h0),
// i.e. dZ/dT = 2 for h0 = 2a; real and simulated fronts are slower.
//
// Scene (dam_break_scene.h): a = 0.05715 m (M&M's 2 1/4 in), 16 cells per a, 2 x 2 particles per cell (2048
// particles), slip walls (inviscid idealisation), the `fluid` model with Tait's gamma = 7, water viscosity
// 1e-3 Pa s and an artificial sound speed of 20 m/s (bulk modulus rho c^2 = 4e5 Pa): about 10 times the
// fastest flow, so |J - 1| stays below 10 % (checked); dt = 0.3 dx / c.
//
// Tolerance: the simulated front may lead the measurements by up to 10 % and trail them by at most 3 % (the
// scatter of the data). An inviscid free-slip front leads the experiment, which has bed friction and a gate
// that takes time to lift. 10 % is the agreement asked of MPM on the laboratory benchmarks of this suite; no
// published bound for this scene's inviscid lead over the data was found to cite.
// Measured: +4.7, +6.7, +7.4, +9.2, +7.7 % at the five points (front speed dZ/dT over T in [2, 3.35] 1.48
// against M&M's 1.37, +8 %). The lead grows with resolution (up to +14.4 % at 32 cells per a, same speed
// within +6 %): the 16-cell result sits inside the band partly through numerical dissipation at the front.
// The speed check allows 12 %.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>

#include "validation/dam_break_scene.h"

using namespace ductile;
using namespace ductile::validation;

TEST_CASE("validation: dam break surge front against Martin & Moyce 1952 (2D, n^2 = 2)") {
  if (!has_material("fluid")) {
    MESSAGE("fluid is not registered; skipping");
    return;
  }
  Stopwatch clock;
  DamBreakSetup ds;
  DamBreakResult r = run_dam_break(ds);
  const double t_mm[] = {0.832, 1.219, 1.997, 2.547, 3.345};
  const double z_mm[] = {1.217, 1.474, 2.292, 2.995, 4.134};
  std::printf("validation dam break: %d particles, %d steps, max |v|/c %.3f, J in [%.3f, %.3f]\n",
              r.particles, r.steps, r.max_speed_over_c, r.min_J, r.max_J);
  for (int k = 0; k < 5; ++k) {
    const double z = front_at(r, t_mm[k]);
    const double err = z / z_mm[k] - 1;
    std::printf("  T = %.3f: Z = %.3f, Martin & Moyce %.3f (%+.1f %%), Ritter bound %.3f\n", t_mm[k], z,
                z_mm[k], 100 * err, 1 + 2 * t_mm[k]);
    CHECK(err <= 0.10);
    CHECK(err >= -0.03);
    CHECK(z < 1 + 2 * t_mm[k]);
  }
  const double speed = (front_at(r, t_mm[4]) - front_at(r, t_mm[2])) / (t_mm[4] - t_mm[2]);
  const double speed_mm = (z_mm[4] - z_mm[2]) / (t_mm[4] - t_mm[2]);
  std::printf(
      "  front speed dZ/dT over T in [%.3f, %.3f]: %.3f, Martin & Moyce %.3f (%+.1f %%), Ritter 2; wall %.1f "
      "s, cpu %.1f s\n",
      t_mm[2], t_mm[4], speed, speed_mm, 100 * (speed / speed_mm - 1), clock.seconds(), clock.cpu_seconds());
  CHECK(std::fabs(speed / speed_mm - 1) <= 0.12);
  CHECK(speed < 2);
  // weak compressibility held: the flow stayed slow against the sound speed and the volume nearly constant
  CHECK(r.max_speed_over_c < 0.15);
  CHECK(r.min_J > 0.9);
  CHECK(r.max_J < 1.1);
}
