// The software renderer draws what it should: silhouettes of known particle sets where projection says, the
// background elsewhere, colours that follow the data, colliders, and PNG files that decode.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <random>

#include "core/io/png.h"
#include "core/io/point_table.h"
#include "core/render/frame_render.h"
#include "core/render/renderer.h"
#include "core/scene.h"
#include "io/temp_dir.h"

using namespace ductile;

namespace {

// Points of a lattice of spacing h inside a ball (3D) or disc (2D, z = 0) of radius R about c.
render::Spheres ball(const double c[3], double R, double h, int dim, double radius) {
  render::Spheres s;
  const int n = int(std::ceil(R / h));
  for (int i = -n; i <= n; ++i)
    for (int j = -n; j <= n; ++j)
      for (int k = (dim == 3 ? -n : 0); k <= (dim == 3 ? n : 0); ++k) {
        const double p[3] = {i * h, j * h, k * h};
        if (p[0] * p[0] + p[1] * p[1] + p[2] * p[2] > R * R) continue;
        s.x.insert(s.x.end(), {float(c[0] + p[0]), float(c[1] + p[1]), float(c[2] + p[2])});
        s.radius.push_back(float(radius));
        s.rgb.insert(s.rgb.end(), {0.9f, 0.4f, 0.1f});
      }
  return s;
}

// Whether pixel (x, y) differs from the background image.
bool differs(const io::Rgb8Image& a, const io::Rgb8Image& b, int x, int y) {
  const size_t k = 3 * (size_t(y) * a.width + x);
  int d = 0;
  for (int c = 0; c < 3; ++c) d = std::max(d, std::abs(int(a.rgb[k + c]) - int(b.rgb[k + c])));
  return d > 8;
}

// Checks the covered pixels form a disc of radius r_px about the image centre: inside r - tol all covered,
// outside r + tol none, and counts them.
void check_disc(const io::Rgb8Image& img, const io::Rgb8Image& bg, double r_px, double tol) {
  int wrong_in = 0, wrong_out = 0, covered = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const double d = std::hypot(x + 0.5 - 0.5 * img.width, y + 0.5 - 0.5 * img.height);
      const bool on = differs(img, bg, x, y);
      covered += on;
      if (d < r_px - tol && !on) ++wrong_in;
      if (d > r_px + tol && on) ++wrong_out;
    }
  CHECK(wrong_in == 0);
  CHECK(wrong_out == 0);
  const double area = 3.14159265358979 * r_px * r_px;
  CHECK(covered > 0.9 * area);
  CHECK(covered < 1.1 * area + 8 * tol * r_px);
}

}  // namespace

TEST_CASE("render: a ball of particles seen head-on is a disc of the projected radius") {
  render::Surroundings world;
  world.ground = false;
  for (int d = 0; d < 3; ++d) world.lo[d] = 0, world.hi[d] = 1;
  render::Camera cam;
  const double c[3] = {0.5, 0.5, 0.5};
  const double dist = 2.0, R = 0.2, h = 0.01, pr = 0.008;
  cam.position[0] = 0.5, cam.position[1] = 0.5, cam.position[2] = 0.5 + dist;
  cam.target[0] = 0.5, cam.target[1] = 0.5, cam.target[2] = 0.5;
  cam.fov_deg = 30;
  render::RenderOptions opt;
  opt.width = 160, opt.height = 120, opt.supersample = 1;
  const render::Spheres s = ball(c, R, h, 3, pr);
  const io::Rgb8Image img = render::render_image(world, cam, s, opt);
  const io::Rgb8Image bg = render::render_image(world, cam, render::Spheres{}, opt);
  // silhouette of a sphere of radius R + pr at distance dist: tangent cone, r = f (R+pr) / sqrt(d^2 -
  // (R+pr)^2)
  const double f = 0.5 * opt.height / std::tan(0.5 * cam.fov_deg * 3.14159265358979 / 180);
  const double Re = R + pr;
  const double r_px = f * Re / std::sqrt(dist * dist - Re * Re);
  check_disc(img, bg, r_px, 2.0);
  // not uniform: shading varies over the disc
  int lo = 255, hi = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      if (differs(img, bg, x, y))
        lo = std::min(lo, int(img.rgb[3 * (y * img.width + x)])),
        hi = std::max(hi, int(img.rgb[3 * (y * img.width + x)]));
  CHECK(hi - lo > 40);
}

TEST_CASE("render: a 2D disc of particles is a disc in the orthographic view") {
  render::Surroundings world;
  world.dim = 2;
  world.hi[2] = 0;
  render::Camera cam;
  cam.dim = 2;
  cam.center[0] = 0.5, cam.center[1] = 0.5, cam.height = 1.0;
  render::RenderOptions opt;
  opt.width = 100, opt.height = 100, opt.supersample = 1;
  const double c[3] = {0.5, 0.5, 0};
  const render::Spheres s = ball(c, 0.25, 0.01, 2, 0.006);
  const io::Rgb8Image img = render::render_image(world, cam, s, opt);
  const io::Rgb8Image bg = render::render_image(world, cam, render::Spheres{}, opt);
  check_disc(img, bg, (0.25 + 0.006) * 100, 1.5);
}

TEST_CASE("render: colliders are drawn where they are") {
  render::Surroundings world;
  world.ground = false;
  render::Camera cam;
  cam.position[0] = 0.5, cam.position[1] = 0.5, cam.position[2] = 3;
  cam.target[0] = 0.5, cam.target[1] = 0.5, cam.target[2] = 0.5;
  render::RenderOptions opt;
  opt.width = 64, opt.height = 64, opt.supersample = 1;
  const io::Rgb8Image bg = render::render_image(world, cam, render::Spheres{}, opt);
  ColliderData<float, 3> sphere;
  sphere.shape = ColliderShape::kSphere;
  sphere.p[0] = 0.1f;
  sphere.t[0] = 0.5f, sphere.t[1] = 0.5f, sphere.t[2] = 0.5f;
  world.colliders3.push_back(sphere);
  const io::Rgb8Image img = render::render_image(world, cam, render::Spheres{}, opt);
  CHECK(differs(img, bg, 32, 32));
  CHECK(!differs(img, bg, 2, 2));
  CHECK(!differs(img, bg, 61, 32));
}

TEST_CASE("render: colour by speed differs where speeds differ, by material where materials differ") {
  const char* scene = R"json({"format": 1, "dimension": 2,
    "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.05},
    "materials": [{"name": "a", "model": "fixed_corotated"}, {"name": "b", "model": "fixed_corotated"}],
    "objects": [{"material": "a", "shape": {"type": "box", "center": [0.25, 0.5], "size": [0.2, 0.2]}},
                {"material": "b", "shape": {"type": "box", "center": [0.75, 0.5], "size": [0.2, 0.2]}}],
    "camera": {"center": [0.5, 0.5], "height": 1}})json";
  const SceneDocument doc = load_scene_text(scene, ".");
  // two blocks of particles: the left one at rest, the right one at 2 m/s
  io::PointTable t;
  t.names = {"x", "y", "z", "vx", "vy", "vz", "material", "object", "J"};
  for (int side = 0; side < 2; ++side)
    for (int i = 0; i < 8; ++i)
      for (int j = 0; j < 8; ++j) {
        const float x = 0.15f + 0.5f * side + 0.025f * i + 0.0125f, y = 0.4f + 0.025f * j + 0.0125f;
        t.values.insert(t.values.end(), {x, y, 0, side ? 2.0f : 0.0f, 0, 0, float(side), float(side), 1});
        ++t.count;
      }
  render::FrameRenderSettings s;
  s.image.width = 100, s.image.height = 100, s.image.supersample = 1;
  auto pixel = [](const io::Rgb8Image& img, int x, int y) {
    const size_t k = 3 * (size_t(y) * img.width + x);
    return std::array<int, 3>{img.rgb[k], img.rgb[k + 1], img.rgb[k + 2]};
  };
  auto dist = [](std::array<int, 3> a, std::array<int, 3> b) {
    return std::abs(a[0] - b[0]) + std::abs(a[1] - b[1]) + std::abs(a[2] - b[2]);
  };
  s.color = render::ColorBy::kSpeed;
  render::FrameRenderer speed(doc, s);
  speed.scan_range(t);
  double lo, hi;
  speed.range(lo, hi);
  CHECK(lo == 0);
  CHECK(hi == doctest::Approx(2.0));
  const io::Rgb8Image a = speed.render(t, 0, "table");
  // pixels at particle centres of the two blocks (same place within their lattice cells, so same shading)
  CHECK(dist(pixel(a, 25, 49), pixel(a, 75, 49)) > 60);
  // two particles of the same block share their colour
  CHECK(dist(pixel(a, 25, 49), pixel(a, 30, 49)) < 12);
  s.color = render::ColorBy::kMaterial;
  const io::Rgb8Image b = render::FrameRenderer(doc, s).render(t, 0, "table");
  CHECK(dist(pixel(b, 25, 49), pixel(b, 75, 49)) > 60);
  // every velocity the same: the speed colours agree
  for (size_t r = 0; r < t.count; ++r) t.values[r * 9 + 3] = 1.0f;
  s.color = render::ColorBy::kSpeed;
  const io::Rgb8Image c = render::FrameRenderer(doc, s).render(t, 0, "table");
  CHECK(dist(pixel(c, 25, 49), pixel(c, 75, 49)) < 12);
  // stress from the frames' F (outputs.state): the left block at rest (F = I, no stress), the right one
  // stretched by 10% along x; von Mises of fixed-corotated with E = 1e5 (default), nu = 0.3 (default)
  {
    io::PointTable u = t;
    for (const char* c : {"F00", "F01", "F10", "F11", "plastic"}) u.names.push_back(c);
    u.values.clear();
    for (size_t r = 0; r < t.count; ++r) {
      for (size_t k = 0; k < 9; ++k) u.values.push_back(t.values[r * 9 + k]);
      const float f = r < t.count / 2 ? 1.0f : 1.1f;
      u.values.insert(u.values.end(), {f, 0, 0, 1, 1});
    }
    s.color = render::ColorBy::kStress;
    render::FrameRenderer stress(doc, s);
    stress.scan_range(u);
    stress.range(lo, hi);
    CHECK(lo == doctest::Approx(0).epsilon(1e-6));
    CHECK(hi > 1e3);
    const io::Rgb8Image d = stress.render(u, 0, "table");
    CHECK(dist(pixel(d, 25, 49), pixel(d, 75, 49)) > 60);
  }
  // stress needs its column
  s.color = render::ColorBy::kStress;
  CHECK_THROWS_WITH(
      render::FrameRenderer(doc, s).render(t, 0, "frame_00003.ply"),
      doctest::Contains("frame_00003.ply: has no 'F00' column: colouring by stress needs frames written "
                        "with the scene's outputs.state = true"));
}

TEST_CASE("png: written images decode to the same pixels, damaged files are refused with a reason") {
  io::Rgb8Image img;
  img.width = 37, img.height = 23;
  std::mt19937 rng(3);
  for (int i = 0; i < img.width * img.height * 3; ++i) img.rgb.push_back(uint8_t(rng() & 0xff));
  test::TempDir dir;
  io::write_png(dir.file("a.png"), img);
  const io::Rgb8Image back = io::read_png(dir.file("a.png"));
  CHECK(back.width == 37);
  CHECK(back.height == 23);
  CHECK(back.rgb == img.rgb);
  std::string bytes = io::png_bytes(img);
  CHECK_THROWS_WITH(io::parse_png(bytes.substr(0, bytes.size() - 20), "cut.png"),
                    doctest::Contains("cut.png: not a readable PNG"));
  std::string bad = bytes;
  bad[40] = char(bad[40] ^ 0x55);  // inside IDAT: the CRC no longer matches
  CHECK_THROWS_WITH(io::parse_png(bad, "bad.png"), doctest::Contains("CRC mismatch"));
  CHECK_THROWS_WITH(io::parse_png("GIF89a", "x.png"), doctest::Contains("missing PNG signature"));
}
