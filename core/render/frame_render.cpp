// Frames of a run to images: per-object particle radii from the scene's sampling, colours from the PLY
// columns, colliders rebuilt from the scene and posed at each frame's time.
#include "core/render/frame_render.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/render/colormap.h"
#include "core/render/frame_stress.h"
#include "core/scene_detail.h"

namespace ductile::render {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
}

struct FrameRenderer::Colliders {
  std::vector<Collider<float, 2>> c2;
  std::vector<Collider<float, 3>> c3;
};

ColorBy color_by_name(const std::string& name) {
  if (name == "material") return ColorBy::kMaterial;
  if (name == "object") return ColorBy::kObject;
  if (name == "speed") return ColorBy::kSpeed;
  if (name == "stress") return ColorBy::kStress;
  if (name == "J") return ColorBy::kJ;
  fail("--color", "unknown colouring '" + name + "' (choices: material, object, speed, stress, J)");
}

namespace {

bool is_category(ColorBy c) {
  return c == ColorBy::kMaterial || c == ColorBy::kObject;
}

}  // namespace

std::vector<double> FrameRenderer::values(const io::PointTable& t, const std::string& name) const {
  std::vector<double> v(t.count);
  if (s_.color == ColorBy::kSpeed) {
    const int cx = t.column("vx"), cy = t.column("vy"), cz = t.column("vz");
    if (cx < 0 || cy < 0) fail(name, "has no velocity columns vx, vy");
    for (size_t r = 0; r < t.count; ++r) {
      const double a = t.at(r, cx), b = t.at(r, cy), z = cz >= 0 ? t.at(r, cz) : 0.0;
      v[r] = std::sqrt(a * a + b * b + z * z);
    }
  } else if (s_.color == ColorBy::kJ) {
    const int c = t.column("J");
    if (c < 0) fail(name, "has no 'J' column to colour by");
    for (size_t r = 0; r < t.count; ++r) v[r] = t.at(r, c);
  } else if (s_.color == ColorBy::kStress) {
    const int c = t.column("stress");
    if (c >= 0)
      for (size_t r = 0; r < t.count; ++r) v[r] = t.at(r, c);
    else
      v = stress_->von_mises(t, name);
  }
  return v;
}

FrameRenderer::FrameRenderer(const SceneDocument& doc, const FrameRenderSettings& s)
    : dim_(doc.dim), s_(s), colliders_(std::make_unique<Colliders>()) {
  const auto& j = doc.json;
  const auto& dom = j.at("domain");
  world_.dim = dim_;
  for (int d = 0; d < dim_; ++d) {
    world_.lo[d] = dom.at("min").at(size_t(d)).get<double>();
    world_.hi[d] = dom.at("max").at(size_t(d)).get<double>();
  }
  if (dim_ == 2) world_.lo[2] = world_.hi[2] = 0;
  // up: against gravity (y when there is none)
  double g[3] = {0, 0, 0}, gn = 0;
  for (int d = 0; d < dim_; ++d) g[d] = j.at("gravity").at(size_t(d)).get<double>(), gn += g[d] * g[d];
  if (gn > 0)
    for (int d = 0; d < 3; ++d) world_.up[d] = -g[d] / std::sqrt(gn);
  // particle radius per object: a little over half the lattice spacing so that neighbours touch
  const double dx = dom.at("dx").get<double>();
  for (const auto& o : j.at("objects")) {
    const int ppc = o.contains("sampling") ? o["sampling"].value("ppc", 8) : 8;
    object_radius_.push_back(float(s.radius_scale * 0.6 * dx / std::pow(double(ppc), 1.0 / dim_)));
  }
  for (size_t i = 0; i < j.at("colliders").size(); ++i) {
    if (dim_ == 2)
      colliders_->c2.push_back(scene_detail::build_collider<float, 2>(doc, i));
    else
      colliders_->c3.push_back(scene_detail::build_collider<float, 3>(doc, i));
  }
  const int W = s.image.width, H = s.image.height;
  if (s.camera)
    camera_ = *s.camera;
  else if (j.contains("camera"))
    camera_ = camera_from_json(j.at("camera"), dim_);
  else
    camera_ = auto_camera(dim_, world_.lo, world_.hi, world_.up, W, H), auto_camera_ = true;
  make_view(camera_, W, H);  // fails now for a degenerate camera
  if (s.color == ColorBy::kStress) stress_ = std::make_unique<StressEvaluator>(doc);
  if (!std::isnan(s.range_lo)) lo_ = s.range_lo;
  if (!std::isnan(s.range_hi)) hi_ = s.range_hi;
}

FrameRenderer::~FrameRenderer() = default;

void FrameRenderer::frame_content(const std::vector<const io::PointTable*>& frames) {
  if (!auto_camera_) return;
  double lo[3] = {kInf, kInf, kInf}, hi[3] = {-kInf, -kInf, -kInf};
  for (const io::PointTable* t : frames) {
    const int c[3] = {t->column("x"), t->column("y"), t->column("z")};
    for (size_t r = 0; r < t->count; ++r)
      for (int d = 0; d < dim_; ++d) {
        const double v = c[d] >= 0 ? t->at(r, c[d]) : 0.0;
        if (std::isfinite(v)) lo[d] = std::min(lo[d], v), hi[d] = std::max(hi[d], v);
      }
  }
  if (!(lo[0] <= hi[0])) return;  // no particles: keep the whole domain
  // down to the floor (where things fall), 15% margins, inside the domain
  int ua = 0;
  for (int d = 1; d < dim_; ++d)
    if (std::fabs(world_.up[d]) > std::fabs(world_.up[ua])) ua = d;
  if (world_.up[ua] > 0) lo[ua] = world_.lo[ua];
  if (world_.up[ua] < 0) hi[ua] = world_.hi[ua];
  double size = 0;
  for (int d = 0; d < dim_; ++d) size = std::max(size, hi[d] - lo[d]);
  for (int d = 0; d < dim_; ++d) {
    const double m = 0.15 * size;
    lo[d] = std::max(world_.lo[d], lo[d] - m);
    hi[d] = std::min(world_.hi[d], hi[d] + m);
  }
  if (dim_ == 2) lo[2] = hi[2] = 0;
  camera_ = auto_camera(dim_, lo, hi, world_.up, s_.image.width, s_.image.height);
}

void FrameRenderer::scan_range(const io::PointTable& t, const std::string& name) {
  if (is_category(s_.color)) return;
  double lo = lo_, hi = hi_;
  for (double v : values(t, name)) {
    if (!std::isfinite(v)) continue;
    if (std::isnan(s_.range_lo)) lo = std::min(lo, v);
    if (std::isnan(s_.range_hi)) hi = std::max(hi, v);
  }
  lo_ = lo, hi_ = hi;
}

void FrameRenderer::range(double& lo, double& hi) const {
  lo = lo_, hi = hi_;
  if (s_.color == ColorBy::kSpeed && std::isnan(s_.range_lo)) lo = 0;  // speeds start at rest
  if (s_.color == ColorBy::kJ) {
    // symmetric about 1 (no volume change) unless given
    const double a =
        std::max(std::isfinite(hi) ? std::fabs(hi - 1) : 0.0, std::isfinite(lo) ? std::fabs(1 - lo) : 0.0);
    if (std::isnan(s_.range_lo)) lo = 1 - std::max(a, 1e-3);
    if (std::isnan(s_.range_hi)) hi = 1 + std::max(a, 1e-3);
  }
  if (!std::isfinite(lo)) lo = 0;
  if (!std::isfinite(hi) || hi <= lo) hi = lo + 1;
}

io::Rgb8Image FrameRenderer::render(const io::PointTable& t, double time, const std::string& name) const {
  const int cx = t.column("x"), cy = t.column("y"), cz = t.column("z");
  if (cx < 0 || cy < 0 || (dim_ == 3 && cz < 0)) fail(name, "has no position columns x, y, z");
  const int cm = t.column("material"), co = t.column("object");
  const std::vector<double> val = is_category(s_.color) ? std::vector<double>() : values(t, name);
  if (s_.color == ColorBy::kMaterial && cm < 0) fail(name, "has no 'material' column to colour by");
  if (s_.color == ColorBy::kObject && co < 0) fail(name, "has no 'object' column to colour by");
  double lo, hi;
  range(lo, hi);
  Spheres sp;
  const size_t n = t.count;
  sp.x.resize(3 * n);
  sp.radius.resize(n);
  sp.rgb.resize(3 * n);
  const float r_default = object_radius_.empty() ? 0.01f : object_radius_[0];
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < int64_t(n); ++i) {
    const size_t r = size_t(i);
    sp.x[3 * r] = t.at(r, cx);
    sp.x[3 * r + 1] = t.at(r, cy);
    sp.x[3 * r + 2] = cz >= 0 ? t.at(r, cz) : 0.0f;
    const float ov = co >= 0 ? t.at(r, co) : 0.0f;
    const int obj = ov >= 0 && ov < float(object_radius_.size()) ? int(ov) : -1;
    sp.radius[r] = obj >= 0 ? object_radius_[size_t(obj)] : r_default;
    float* c = &sp.rgb[3 * r];
    if (s_.color == ColorBy::kMaterial)
      category_color(int(t.at(r, cm)), c);
    else if (s_.color == ColorBy::kObject)
      category_color(int(ov), c);
    else if (s_.color == ColorBy::kJ)
      diverging_color((val[r] - lo) / (hi - lo), c);
    else
      turbo_color((val[r] - lo) / (hi - lo), c);
  }
  // colliders posed at this frame's time (their SDF samples stay in the Collider)
  Surroundings w = world_;
  for (const auto& c : colliders_->c2) {
    w.colliders2.push_back(c.at(time));
    w.colliders2.back().sdf = c.sdf.data();
  }
  for (const auto& c : colliders_->c3) {
    w.colliders3.push_back(c.at(time));
    w.colliders3.back().sdf = c.sdf.data();
  }
  return render_image(w, camera_, sp, s_.image);
}

}  // namespace ductile::render
