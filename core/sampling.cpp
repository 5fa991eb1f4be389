#include "core/sampling.h"

#include <algorithm>
#include <cmath>

namespace ductile {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

bool SolidShape::inside(const double p[3]) const {
  switch (kind) {
    case Kind::kBox:
      for (int d = 0; d < dim; ++d)
        if (std::fabs(p[d] - center[d]) > half[d]) return false;
      return true;
    case Kind::kSphere:
    case Kind::kEllipsoid: {
      double s = 0;
      for (int d = 0; d < dim; ++d) {
        double u = (p[d] - center[d]) / half[d];
        s += u * u;
      }
      return s <= 1;
    }
    case Kind::kCylinder: {
      double r2 = 0;
      for (int d = 0; d < dim; ++d) {
        double u = p[d] - center[d];
        if (d == axis) {
          if (std::fabs(u) > half[1]) return false;
        } else {
          r2 += u * u;
        }
      }
      return r2 <= half[0] * half[0];
    }
    case Kind::kSdf:
      return sdf != nullptr && sdf->sample(p) < 0;
  }
  return false;
}

bool SolidShape::bounds(double lo[3], double hi[3]) const {
  for (int d = 0; d < 3; ++d) lo[d] = hi[d] = center[d];
  switch (kind) {
    case Kind::kBox:
    case Kind::kSphere:
    case Kind::kEllipsoid:
      for (int d = 0; d < dim; ++d) lo[d] = center[d] - half[d], hi[d] = center[d] + half[d];
      return true;
    case Kind::kCylinder:
      for (int d = 0; d < dim; ++d) {
        double e = d == axis ? half[1] : half[0];
        lo[d] = center[d] - e, hi[d] = center[d] + e;
      }
      return true;
    case Kind::kSdf:
      return sdf != nullptr && sdf_interior_bounds(*sdf, lo, hi);
  }
  return false;
}

bool sdf_interior_bounds(const DenseSdf& s, double lo[3], double hi[3]) {
  bool any = false;
  for (int d = 0; d < 3; ++d) lo[d] = 1e300, hi[d] = -1e300;
  const int* r = s.res;
  for (int i = 0; i < r[0]; ++i)
    for (int j = 0; j < r[1]; ++j)
      for (int k = 0; k < r[2]; ++k) {
        const double phi = s.at(i, j, k);
        if (!(phi < 0)) continue;
        any = true;
        const int c[3] = {i, j, k};
        for (int d = 0; d < 3; ++d) {
          const double x = s.origin[d] + c[d] * s.dx;
          // the node itself, then the zero crossing towards each non-negative neighbour along axis d
          double a = x, b = x;
          for (int dir = -1; dir <= 1; dir += 2) {
            int n[3] = {i, j, k};
            n[d] += dir;
            if (n[d] < 0 || n[d] >= r[d]) continue;
            const double pn = s.at(n[0], n[1], n[2]);
            if (pn < 0) continue;
            const double t = phi / (phi - pn);
            if (dir < 0)
              a = x - t * s.dx;
            else
              b = x + t * s.dx;
          }
          lo[d] = std::min(lo[d], a);
          hi[d] = std::max(hi[d], b);
        }
      }
  return any;
}

Lattice domain_lattice(int dim, const double lo[3], const double hi[3], double dx, int ppc) {
  Lattice lat;
  lat.dim = dim;
  lat.h = dx / std::pow(double(ppc), 1.0 / dim);
  for (int d = 0; d < 3; ++d) {
    lat.origin[d] = d < dim ? lo[d] + 0.5 * lat.h : 0.0;
    lat.count[d] = d < dim ? std::max<int64_t>(1, int64_t(std::floor((hi[d] - lo[d]) / lat.h + 1e-9))) : 1;
  }
  return lat;
}

std::vector<std::array<double, 3>> sample_solid(const SolidShape& s, const Lattice& lat) {
  std::vector<std::array<double, 3>> out;
  double lo[3], hi[3];
  if (!s.bounds(lo, hi)) return out;
  // the lattice indices whose points (or jittered cells) can reach the solid's bounds
  int64_t a[3] = {0, 0, 0}, b[3] = {0, 0, 0};
  const int64_t pad = lat.jitter ? 1 : 0;
  for (int d = 0; d < lat.dim; ++d) {
    a[d] = std::max<int64_t>(0, int64_t(std::floor((lo[d] - lat.origin[d]) / lat.h)) - pad);
    b[d] = std::min<int64_t>(lat.count[d] - 1, int64_t(std::ceil((hi[d] - lat.origin[d]) / lat.h)) + pad);
    if (b[d] < a[d]) return out;
  }
  for (int64_t i = a[0]; i <= b[0]; ++i)
    for (int64_t j = a[1]; j <= b[1]; ++j)
      for (int64_t k = a[2]; k <= b[2]; ++k) {
        const int64_t idx[3] = {i, j, k};
        double p[3] = {0, 0, 0};
        uint64_t key = mix64(lat.seed ^ mix64(uint64_t((i * lat.count[1] + j) * lat.count[2] + k)));
        for (int d = 0; d < lat.dim; ++d) {
          p[d] = lat.origin[d] + double(idx[d]) * lat.h;
          if (lat.jitter) {
            key = mix64(key + uint64_t(d) + 1);
            const double u = double(key >> 11) * 0x1.0p-53;  // uniform in [0, 1)
            p[d] += (u - 0.5) * lat.h;
          }
        }
        if (s.inside(p)) out.push_back({p[0], p[1], p[2]});
      }
  return out;
}

}  // namespace ductile
