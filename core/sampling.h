// Particle sampling: solids (analytic shapes or a signed distance field) filled with points of a regular or
// jittered lattice. Independent of the scene format; 2D uses the first two coordinates.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/level_set.h"

namespace ductile {

struct SolidShape {
  enum class Kind { kBox, kSphere, kCylinder, kEllipsoid, kSdf };
  Kind kind = Kind::kBox;
  int dim = 3;
  double center[3] = {0, 0, 0};
  // box: half sizes; sphere: radius (all three); ellipsoid: radii; cylinder: radius in [0], half height in
  // [1]
  double half[3] = {0, 0, 0};
  int axis = 1;                   // cylinder axis (0 = x, 1 = y, 2 = z)
  const DenseSdf* sdf = nullptr;  // kSdf: inside where phi < 0

  // Whether point p lies inside (boundary included).
  bool inside(const double p[3]) const;
  // Axis-aligned bounds of the solid; false when it is empty (an SDF with no interior).
  bool bounds(double lo[3], double hi[3]) const;
};

// Bounds of the region where the trilinear interpolant of the SDF is negative: along every axis the extreme
// zero crossings on the lines of the array (exact for trilinear interpolation). False when nothing is inside.
bool sdf_interior_bounds(const DenseSdf& sdf, double lo[3], double hi[3]);

// A lattice of spacing h whose point i sits at origin + i * h (i in [0, count) per axis).
struct Lattice {
  int dim = 3;
  double origin[3] = {0, 0, 0};
  double h = 0;
  int64_t count[3] = {1, 1, 1};
  bool jitter = false;  // move each point uniformly within its lattice cell
  uint64_t seed = 0;    // jitter stream; a point's offset depends only on seed and its lattice index
};

// The lattice points inside the solid, in lattice order (x slowest). Deterministic on every platform.
std::vector<std::array<double, 3>> sample_solid(const SolidShape& s, const Lattice& lat);

// The lattice with ppc points per cell of size dx over the box [lo, hi]: h = dx / ppc^(1/dim), the first
// point half a spacing inside lo.
Lattice domain_lattice(int dim, const double lo[3], const double hi[3], double dx, int ppc);

// A 64-bit mix (splitmix64 finalizer), used for seeds and jitter.
uint64_t mix64(uint64_t x);

}  // namespace ductile
