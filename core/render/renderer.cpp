// The software renderer: a per-pixel ray cast of the ground and the colliders (sphere tracing of their signed
// distance, J. C. Hart 1996, analytic for planes), then particles splatted as impostor spheres with exact
// per-pixel depth into the z-buffer; shading is Lambert plus a Blinn-Phong highlight, sRGB-encoded.
#include "core/render/renderer.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace ductile::render {

namespace {

constexpr float kFar = std::numeric_limits<float>::infinity();

struct Frame {
  int w = 0, h = 0;
  std::vector<float> depth, rgb;  // w*h and 3*w*h
};

double dot3(const double a[3], const double b[3]) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

// Lambert + ambient + highlight of base colour c for unit normal n, light l and half vector hv.
void shade(const float c[3], const double n[3], const double l[3], const double hv[3], float out[3]) {
  const double diff = std::max(0.0, dot3(n, l));
  const double spec = std::pow(std::max(0.0, dot3(n, hv)), 32.0) * 0.25;
  for (int i = 0; i < 3; ++i) out[i] = float(c[i] * (0.3 + 0.75 * diff) + spec);
}

// Linear [0,1] to 8-bit sRGB (IEC 61966-2-1).
uint8_t to_srgb8(float v) {
  v = std::clamp(v, 0.0f, 1.0f);
  const float s = v <= 0.0031308f ? 12.92f * v : 1.055f * std::pow(v, 1 / 2.4f) - 0.055f;
  return uint8_t(std::lround(s * 255));
}

// Radius of a sphere around the collider's origin that holds its solid (infinite for planes).
double collider_bound(const ColliderData<float, 3>& c) {
  switch (c.shape) {
    case ColliderShape::kPlane:
      return kFar;
    case ColliderShape::kSphere:
      return c.p[0];
    case ColliderShape::kBox:
      return std::sqrt(double(c.p[0]) * c.p[0] + c.p[1] * c.p[1] + c.p[2] * c.p[2]);
    case ColliderShape::kCylinder:
      return std::sqrt(double(c.p[0]) * c.p[0] + c.p[1] * c.p[1]);
    case ColliderShape::kSdf: {
      double r = 0;
      for (int m = 0; m < 8; ++m) {
        double q = 0;
        for (int d = 0; d < 3; ++d) {
          const double e = c.sdf_origin[d] + (((m >> d) & 1) ? (c.sdf_res[d] - 1) * double(c.sdf_dx) : 0.0);
          q += e * e;
        }
        r = std::max(r, std::sqrt(q));
      }
      return r;
    }
  }
  return kFar;
}

// The first hit of ray (o, d) with collider c within [t0, t1]: distance and world normal.
bool hit_collider(const ColliderData<float, 3>& c, double bound, const double o[3], const double d[3],
                  double t0, double t1, double eps, double& t_hit, double n[3]) {
  if (c.shape == ColliderShape::kPlane) {
    double nw[3], pt[3];
    for (int i = 0; i < 3; ++i) {
      nw[i] = 0;
      for (int j = 0; j < 3; ++j) nw[i] += double(c.R(i, j)) * c.p[j];
      pt[i] = c.t[i] - o[i];
    }
    const double dn = dot3(d, nw);
    if (dn >= -1e-9) return false;  // seen from below or edge-on: the solid side
    const double t = dot3(pt, nw) / dn;
    if (t < t0 || t > t1) return false;
    t_hit = t;
    for (int i = 0; i < 3; ++i) n[i] = nw[i];
    return true;
  }
  // clip to the bounding sphere, then sphere-trace
  double oc[3];
  for (int i = 0; i < 3; ++i) oc[i] = o[i] - c.t[i];
  const double b = dot3(oc, d), cc = dot3(oc, oc) - bound * bound * 1.0201;
  const double disc = b * b - cc;
  if (disc < 0) return false;
  const double s = std::sqrt(disc);
  double t = std::max(t0, -b - s);
  const double te = std::min(t1, -b + s);
  Vec<float, 3> x, nv;
  for (int it = 0; it < 160 && t <= te; ++it) {
    for (int i = 0; i < 3; ++i) x[i] = float(o[i] + t * d[i]);
    const double phi = collider_phi(c, x, nv);
    if (phi < eps) {
      t_hit = t;
      for (int i = 0; i < 3; ++i) n[i] = nv[i];
      return true;
    }
    t += std::max(phi * 0.9, 0.25 * eps);
  }
  return false;
}

// Background, ground and colliders of a 3D image.
void draw_world_3d(const Surroundings& w, const View& v, const double l[3], Frame& f) {
  double size = 0;
  for (int i = 0; i < 3; ++i) size = std::max(size, w.hi[i] - w.lo[i]);
  const double eps = 2e-4 * size;
  // the ground: the domain face lowest along up, unless a plane collider is drawn
  bool plane = false;
  for (const auto& c : w.colliders3) plane = plane || c.shape == ColliderShape::kPlane;
  int ua = 0;
  for (int i = 1; i < 3; ++i)
    if (std::fabs(w.up[i]) > std::fabs(w.up[ua])) ua = i;
  const double ground = w.up[ua] >= 0 ? w.lo[ua] : w.hi[ua];
  const double checker = std::pow(10.0, std::floor(std::log10(size / 4)));
  std::vector<double> bounds;
  for (const auto& c : w.colliders3) bounds.push_back(collider_bound(c));
  // the region where planes are drawn: the domain widened by a quarter of its size
  double glo[3], ghi[3];
  for (int i = 0; i < 3; ++i) glo[i] = w.lo[i] - 0.25 * size, ghi[i] = w.hi[i] + 0.25 * size;
#pragma omp parallel for schedule(dynamic, 4)
  for (int y = 0; y < f.h; ++y)
    for (int x = 0; x < f.w; ++x) {
      double o[3], d[3], n[3], hv[3];
      v.ray(x + 0.5, y + 0.5, o, d);
      for (int i = 0; i < 3; ++i) hv[i] = l[i] - d[i];
      const double hn = std::sqrt(dot3(hv, hv));
      for (int i = 0; i < 3; ++i) hv[i] /= hn;
      float* px = &f.rgb[3 * (size_t(y) * f.w + x)];
      // sky: a vertical gradient
      const float g = float(0.5 + 0.5 * dot3(d, v.up));
      px[0] = 0.16f + 0.10f * g, px[1] = 0.17f + 0.12f * g, px[2] = 0.20f + 0.16f * g;
      double best = kFar;
      float col[3];
      if (!plane && w.ground && std::fabs(d[ua]) > 1e-9) {
        const double t = (ground - o[ua]) / d[ua];
        double p[3];
        for (int i = 0; i < 3; ++i) p[i] = o[i] + t * d[i];
        bool in = t > 0 && d[ua] * (w.up[ua] >= 0 ? 1 : -1) < 0;
        for (int i = 0; i < 3 && in; ++i) in = i == ua || (p[i] >= w.lo[i] && p[i] <= w.hi[i]);
        if (in) {
          best = t;
          int k = 0;
          for (int i = 0; i < 3; ++i)
            if (i != ua) k += int(std::floor(p[i] / checker));
          const float base[3] = {k & 1 ? 0.50f : 0.58f, k & 1 ? 0.50f : 0.58f, k & 1 ? 0.52f : 0.60f};
          double nn[3] = {0, 0, 0};
          nn[ua] = w.up[ua] >= 0 ? 1 : -1;
          shade(base, nn, l, hv, col);
          for (int i = 0; i < 3; ++i) px[i] = col[i];
        }
      }
      for (size_t k = 0; k < w.colliders3.size(); ++k) {
        const auto& c = w.colliders3[k];
        double t;
        if (!hit_collider(c, bounds[k], o, d, 0, best, eps, t, n)) continue;
        if (c.shape == ColliderShape::kPlane) {
          double p[3];
          bool in = true;
          for (int i = 0; i < 3; ++i) p[i] = o[i] + t * d[i], in = in && p[i] >= glo[i] && p[i] <= ghi[i];
          if (!in) continue;
          int q = 0;
          for (int i = 0; i < 3; ++i) q += std::fabs(n[i]) < 0.9 ? int(std::floor(p[i] / checker)) : 0;
          const float base[3] = {q & 1 ? 0.50f : 0.58f, q & 1 ? 0.50f : 0.58f, q & 1 ? 0.52f : 0.60f};
          shade(base, n, l, hv, col);
        } else {
          const float base[3] = {0.55f, 0.60f, 0.68f};
          shade(base, n, l, hv, col);
        }
        best = t;
        for (int i = 0; i < 3; ++i) px[i] = col[i];
      }
      // depth along the viewing axis, as the particles store it
      f.depth[size_t(y) * f.w + x] = best == kFar ? kFar : float(best * dot3(d, v.fwd));
    }
}

// Background, domain and colliders of a 2D image.
void draw_world_2d(const Surroundings& w, const View& v, Frame& f) {
  const double px_size = 1 / v.focal;
#pragma omp parallel for schedule(static)
  for (int y = 0; y < f.h; ++y)
    for (int x = 0; x < f.w; ++x) {
      double wx, wy;
      v.unproject_2d(x + 0.5, y + 0.5, wx, wy);
      float* px = &f.rgb[3 * (size_t(y) * f.w + x)];
      const bool inside = wx >= w.lo[0] && wx <= w.hi[0] && wy >= w.lo[1] && wy <= w.hi[1];
      const float bg = inside ? 0.22f : 0.12f;
      px[0] = bg, px[1] = bg * 1.04f, px[2] = bg * 1.12f;
      Vec<float, 2> p, n;
      p[0] = float(wx), p[1] = float(wy);
      for (const auto& c : w.colliders2) {
        const double phi = collider_phi(c, p, n);
        if (phi < 0) {
          const float e = phi > -1.5 * px_size ? 0.35f : 0.55f;  // a darker rim one pixel wide
          px[0] = e, px[1] = e * 1.05f, px[2] = e * 1.15f;
        }
      }
    }
}

// Splats the spheres into the frame: projection in parallel, then rows in bands so that threads never share
// a pixel.
void draw_spheres(const View& v, const Spheres& s, const double l[3], Frame& f) {
  const size_t n = s.size();
  std::vector<float> sx(n), sy(n), sr(n), sz(n);
  // light and half vector in view coordinates (right, up, towards the viewer)
  double lv[3], hv[3];
  if (v.dim == 3) {
    lv[0] = dot3(l, v.right), lv[1] = dot3(l, v.up), lv[2] = -dot3(l, v.fwd);
  } else {
    lv[0] = l[0], lv[1] = l[1], lv[2] = l[2];
  }
  hv[0] = lv[0], hv[1] = lv[1], hv[2] = lv[2] + 1;
  const double hn = std::sqrt(dot3(hv, hv));
  for (double& c : hv) c /= hn;
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < int64_t(n); ++i) {
    const double p[3] = {s.x[3 * i], s.x[3 * i + 1], s.x[3 * i + 2]};
    double px, py, depth;
    if (!v.project(p, px, py, depth) || !std::isfinite(px) || !std::isfinite(py)) {
      sr[i] = -1;
      continue;
    }
    sx[i] = float(px), sy[i] = float(py), sz[i] = float(depth);
    sr[i] = float(v.dim == 3 ? v.focal * s.radius[i] / depth : v.focal * s.radius[i]);
  }
  const int bands = std::max(1, std::min(f.h, 8 * omp_get_max_threads()));
#pragma omp parallel for schedule(dynamic, 1)
  for (int b = 0; b < bands; ++b) {
    const int y0 = int(int64_t(f.h) * b / bands), y1 = int(int64_t(f.h) * (b + 1) / bands);
    for (size_t i = 0; i < n; ++i) {
      const float r = sr[i];
      if (r < 0 || sy[i] + r < y0 || sy[i] - r > y1) continue;
      // a sphere smaller than a pixel still covers the pixel it is in (half a pixel's diagonal)
      const float rr = std::max(r, 0.75f);
      const int xa = std::max(0, int(std::floor(sx[i] - rr))), xb = std::min(f.w - 1, int(sx[i] + rr));
      const int ya = std::max(y0, int(std::floor(sy[i] - rr))), yb = std::min(y1 - 1, int(sy[i] + rr));
      const float* c = &s.rgb[3 * i];
      for (int y = ya; y <= yb; ++y)
        for (int x = xa; x <= xb; ++x) {
          const double u = (x + 0.5 - sx[i]) / rr, w = (sy[i] - (y + 0.5)) / rr;
          const double d2 = u * u + w * w;
          if (d2 > 1) continue;
          const double nz = std::sqrt(1 - d2);
          const float depth = float(sz[i] - nz * s.radius[i]);
          const size_t k = size_t(y) * f.w + x;
          if (depth >= f.depth[k]) continue;
          f.depth[k] = depth;
          const double nv[3] = {u, w, nz};
          shade(c, nv, lv, hv, &f.rgb[3 * k]);
        }
    }
  }
}

}  // namespace

io::Rgb8Image render_image(const Surroundings& world, const Camera& cam, const Spheres& parts,
                           const RenderOptions& opt) {
  if (opt.width < 1 || opt.height < 1 || opt.width > 16384 || opt.height > 16384)
    fail("render", "image size " + std::to_string(opt.width) + "x" + std::to_string(opt.height) +
                       " out of range (1..16384)");
  if (parts.x.size() != 3 * parts.size() || parts.rgb.size() != 3 * parts.size())
    fail("render", "sphere arrays of inconsistent sizes");
  const int ss = std::clamp(opt.supersample, 1, 4);
  Frame f;
  f.w = opt.width * ss;
  f.h = opt.height * ss;
  f.depth.assign(size_t(f.w) * f.h, kFar);
  f.rgb.assign(size_t(f.w) * f.h * 3, 0.0f);
  const View v = make_view(cam, f.w, f.h);
  // key light: above, slightly from the camera's left and front
  double l[3];
  if (v.dim == 3) {
    for (int i = 0; i < 3; ++i) l[i] = 1.0 * world.up[i] - 0.45 * v.right[i] - 0.6 * v.fwd[i];
  } else {
    l[0] = -0.4, l[1] = 0.6, l[2] = 0.7;
  }
  const double ln = std::sqrt(dot3(l, l));
  for (double& c : l) c /= ln;
  if (v.dim == 3)
    draw_world_3d(world, v, l, f);
  else
    draw_world_2d(world, v, f);
  draw_spheres(v, parts, l, f);
  // box filter down to the output size, then sRGB
  io::Rgb8Image img;
  img.width = opt.width;
  img.height = opt.height;
  img.rgb.resize(size_t(opt.width) * opt.height * 3);
  const float inv = 1.0f / float(ss * ss);
#pragma omp parallel for schedule(static)
  for (int y = 0; y < opt.height; ++y)
    for (int x = 0; x < opt.width; ++x)
      for (int c = 0; c < 3; ++c) {
        float acc = 0;
        for (int j = 0; j < ss; ++j)
          for (int i = 0; i < ss; ++i)
            acc += f.rgb[3 * ((size_t(y) * ss + j) * f.w + size_t(x) * ss + i) + c];
        img.rgb[3 * (size_t(y) * opt.width + x) + c] = to_srgb8(acc * inv);
      }
  return img;
}

}  // namespace ductile::render
