// Pinhole and orthographic cameras: look-at bases, projection of points, rays through pixels, framing.
#include "core/render/camera.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace ductile::render {

namespace {

constexpr double kPi = 3.14159265358979323846;

double dot3(const double a[3], const double b[3]) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
void cross3(const double a[3], const double b[3], double r[3]) {
  r[0] = a[1] * b[2] - a[2] * b[1];
  r[1] = a[2] * b[0] - a[0] * b[2];
  r[2] = a[0] * b[1] - a[1] * b[0];
}
bool normalize3(double a[3]) {
  const double n = std::sqrt(dot3(a, a));
  if (!(n > 1e-12)) return false;
  for (int i = 0; i < 3; ++i) a[i] /= n;
  return true;
}

}  // namespace

bool View::project(const double p[3], double& px, double& py, double& depth) const {
  if (dim == 2) {
    px = 0.5 * width + (p[0] - center[0]) * focal;
    py = 0.5 * height - (p[1] - center[1]) * focal;
    depth = 0;
    return true;
  }
  const double r[3] = {p[0] - eye[0], p[1] - eye[1], p[2] - eye[2]};
  depth = dot3(r, fwd);
  if (depth <= 1e-9) return false;
  px = 0.5 * width + focal * dot3(r, right) / depth;
  py = 0.5 * height - focal * dot3(r, up) / depth;
  return true;
}

void View::ray(double px, double py, double o[3], double d[3]) const {
  const double a = (px - 0.5 * width) / focal, b = (0.5 * height - py) / focal;
  for (int i = 0; i < 3; ++i) {
    o[i] = eye[i];
    d[i] = fwd[i] + a * right[i] + b * up[i];
  }
  normalize3(d);
}

void View::unproject_2d(double px, double py, double& x, double& y) const {
  x = center[0] + (px - 0.5 * width) / focal;
  y = center[1] - (py - 0.5 * height) / focal;
}

View make_view(const Camera& cam, int w, int h) {
  if (w <= 0 || h <= 0) fail("camera", "image size must be positive");
  View v;
  v.dim = cam.dim;
  v.width = w;
  v.height = h;
  if (cam.dim == 2) {
    if (!(cam.height > 0)) fail("camera", "the 2D view height must be > 0");
    v.focal = h / cam.height;
    v.center[0] = cam.center[0];
    v.center[1] = cam.center[1];
    return v;
  }
  for (int i = 0; i < 3; ++i) {
    v.eye[i] = cam.position[i];
    v.fwd[i] = cam.target[i] - cam.position[i];
  }
  if (!normalize3(v.fwd)) fail("camera", "position and target coincide");
  double upv[3] = {cam.up[0], cam.up[1], cam.up[2]};
  cross3(v.fwd, upv, v.right);
  if (!normalize3(v.right)) fail("camera", "up is parallel to the viewing direction");
  cross3(v.right, v.fwd, v.up);
  if (!(cam.fov_deg > 0 && cam.fov_deg < 180)) fail("camera", "fov_deg must lie in (0, 180)");
  v.focal = 0.5 * h / std::tan(0.5 * cam.fov_deg * kPi / 180);
  return v;
}

Camera auto_camera(int dim, const double lo[3], const double hi[3], const double up_in[3], int w, int h) {
  Camera c;
  c.dim = dim;
  if (dim == 2) {
    const double sx = hi[0] - lo[0], sy = hi[1] - lo[1];
    c.center[0] = 0.5 * (lo[0] + hi[0]);
    c.center[1] = 0.5 * (lo[1] + hi[1]);
    c.height = 1.04 * std::max(sy, sx * double(h) / double(w));
    return c;
  }
  double up[3] = {up_in[0], up_in[1], up_in[2]};
  if (!normalize3(up)) up[0] = 0, up[1] = 1, up[2] = 0;
  for (int i = 0; i < 3; ++i) {
    c.up[i] = up[i];
    c.target[i] = 0.5 * (lo[i] + hi[i]);
  }
  // direction from the target to the eye: a front axis, turned 30 deg about up and raised 25 deg
  double a[3] = {0, 0, 0};
  if (std::fabs(up[2]) < 0.9)
    a[2] = 1;  // y-up (and x-up) scenes: seen from +z
  else
    a[1] = -1;  // z-up scenes: seen from -y, as Blender's front view
  double t[3];
  const double ad = dot3(a, up);
  for (int i = 0; i < 3; ++i) a[i] -= ad * up[i];
  normalize3(a);
  cross3(up, a, t);
  const double yaw = 30 * kPi / 180, pitch = 25 * kPi / 180;
  double dir[3];
  for (int i = 0; i < 3; ++i)
    dir[i] = std::cos(pitch) * (std::cos(yaw) * a[i] + std::sin(yaw) * t[i]) + std::sin(pitch) * up[i];
  // the smallest distance at which all 8 corners fit (bisection on the projected extent)
  auto fits = [&](double dist) {
    Camera cc = c;
    for (int i = 0; i < 3; ++i) cc.position[i] = c.target[i] + dist * dir[i];
    const View v = make_view(cc, w, h);
    for (int m = 0; m < 8; ++m) {
      const double p[3] = {(m & 1) ? hi[0] : lo[0], (m & 2) ? hi[1] : lo[1], (m & 4) ? hi[2] : lo[2]};
      double px, py, dp;
      if (!v.project(p, px, py, dp)) return false;
      if (px < 0.04 * w || px > 0.96 * w || py < 0.04 * h || py > 0.96 * h) return false;
    }
    return true;
  };
  double diag = 0;
  for (int i = 0; i < 3; ++i) diag += (hi[i] - lo[i]) * (hi[i] - lo[i]);
  diag = std::max(std::sqrt(diag), 1e-6);
  double near = 0.01 * diag, far = 100 * diag;
  for (int it = 0; it < 60; ++it) {
    const double mid = 0.5 * (near + far);
    (fits(mid) ? far : near) = mid;
  }
  for (int i = 0; i < 3; ++i) c.position[i] = c.target[i] + far * dir[i];
  return c;
}

Camera camera_from_json(const nlohmann::json& cam, int dim) {
  Camera c;
  c.dim = dim;
  if (dim == 2) {
    for (int i = 0; i < 2; ++i) c.center[i] = cam.at("center").at(size_t(i)).get<double>();
    c.height = cam.at("height").get<double>();
    return c;
  }
  for (int i = 0; i < 3; ++i) {
    c.position[i] = cam.at("position").at(size_t(i)).get<double>();
    c.target[i] = cam.at("target").at(size_t(i)).get<double>();
    c.up[i] = cam.at("up").at(size_t(i)).get<double>();
  }
  c.fov_deg = cam.at("fov_deg").get<double>();
  return c;
}

}  // namespace ductile::render
