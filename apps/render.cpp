// `ductile render RUN_DIR`: PNG images of every particle frame of a run and an MP4 through ffmpeg.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "core/error.h"
#include "core/io/ply.h"
#include "core/io/png.h"
#include "core/render/frame_render.h"
#include "core/render/video.h"
#include "core/scene.h"

namespace fs = std::filesystem;

namespace ductile::app {

namespace {

struct RenderCliOptions {
  std::string run_dir, out, color = "material", camera, range;
  int width = 960, height = 540, supersample = 2, threads = 0;
  double fps = 0, radius_scale = 1;
  bool no_video = false, quiet = false;
};

// Comma-separated numbers of an option; fails naming the option.
std::vector<double> numbers(const std::string& opt, const std::string& text, char sep = ',') {
  std::vector<double> r;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, sep)) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    if (item.empty() || *end != '\0' || !std::isfinite(v))
      fail(opt, "expected numbers separated by '" + std::string(1, sep) + "', got '" + text + "'");
    r.push_back(v);
  }
  return r;
}

// --camera: "auto", or PX,PY,PZ,TX,TY,TZ[,FOV] in 3D, CX,CY,HEIGHT in 2D.
std::optional<render::Camera> camera_option(const std::string& text, int dim, const double up[3]) {
  if (text.empty()) return std::nullopt;
  render::Camera c;
  c.dim = dim;
  if (text == "auto") return std::nullopt;
  const std::vector<double> v = numbers("--camera", text);
  if (dim == 3) {
    if (v.size() != 6 && v.size() != 7)
      fail("--camera", "expected PX,PY,PZ,TX,TY,TZ[,FOV_DEG] in 3D, got '" + text + "'");
    for (int i = 0; i < 3; ++i) c.position[i] = v[size_t(i)], c.target[i] = v[size_t(i) + 3], c.up[i] = up[i];
    if (v.size() == 7) c.fov_deg = v[6];
  } else {
    if (v.size() != 3) fail("--camera", "expected CX,CY,HEIGHT in 2D, got '" + text + "'");
    c.center[0] = v[0], c.center[1] = v[1], c.height = v[2];
  }
  return c;
}

// Frame files of a run directory, in frame order, with their numbers.
std::vector<std::pair<int, fs::path>> particle_frames(const fs::path& dir) {
  std::vector<std::pair<int, fs::path>> r;
  const std::regex pattern("frame_([0-9]{5,})\\.ply");
  if (!fs::is_directory(dir)) return r;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && std::regex_match(name, m, pattern)) r.emplace_back(std::stoi(m[1]), e.path());
  }
  std::sort(r.begin(), r.end());
  return r;
}

int render_run(const RenderCliOptions& o) {
  const fs::path run = o.run_dir;
  if (!fs::is_directory(run)) fail(o.run_dir, "no such run directory");
  const fs::path scene = run / "scene.json";
  if (!fs::is_regular_file(scene))
    fail(o.run_dir, "has no scene.json (expected a directory written by `ductile simulate`)");
  const auto frames = particle_frames(run / "particles");
  if (frames.empty())
    fail(o.run_dir,
         "has no particle frames (particles/frame_NNNNN.ply); was the run made with outputs.ply off?");
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const SceneDocument doc = load_scene_file(scene.string());
  render::FrameRenderSettings s;
  s.image.width = o.width;
  s.image.height = o.height;
  s.image.supersample = o.supersample;
  s.color = render::color_by_name(o.color);
  s.radius_scale = o.radius_scale;
  if (!o.range.empty()) {
    const std::vector<double> r = numbers("--range", o.range, ':');
    if (r.size() != 2 || !(r[1] > r[0]))
      fail("--range", "expected LO:HI with LO < HI, got '" + o.range + "'");
    s.range_lo = r[0], s.range_hi = r[1];
  }
  double up[3] = {0, 1, 0}, gn = 0;
  for (int d = 0; d < doc.dim; ++d) gn += std::pow(doc.json["gravity"][size_t(d)].get<double>(), 2);
  if (gn > 0)
    for (int d = 0; d < doc.dim; ++d) up[d] = -doc.json["gravity"][size_t(d)].get<double>() / std::sqrt(gn);
  s.camera = camera_option(o.camera, doc.dim, up);
  render::FrameRenderer renderer(doc, s);
  {
    // the automatic camera frames the particles of the first and the last frame
    const io::PointTable a = io::read_ply(frames.front().second.string());
    const io::PointTable b = io::read_ply(frames.back().second.string());
    renderer.frame_content({&a, &b});
  }
  // a colour range shared by all frames, so that a colour means the same value throughout the video
  const bool scan = s.color != render::ColorBy::kMaterial && s.color != render::ColorBy::kObject &&
                    (std::isnan(s.range_lo) || std::isnan(s.range_hi));
  if (scan)
    for (const auto& f : frames) renderer.scan_range(io::read_ply(f.second.string()), f.second.string());
  const fs::path out = o.out.empty() ? run / "render" : fs::path(o.out);
  fs::create_directories(out);
  for (const auto& e : fs::directory_iterator(out))
    if (std::regex_match(e.path().filename().string(), std::regex("frame_[0-9]{5,}\\.png")))
      fs::remove(e.path());
  double render_s = 0;
  for (const auto& f : frames) {
    const io::PointTable t = io::read_ply(f.second.string());
    const auto t0 = std::chrono::steady_clock::now();
    const io::Rgb8Image img = renderer.render(t, f.first * doc.frame_dt, f.second.string());
    render_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char name[32];
    std::snprintf(name, sizeof name, "frame_%05d.png", f.first);
    io::write_png((out / name).string(), img);
    if (!o.quiet) std::fprintf(stderr, "\rrender: frame %d (%zu particles)   ", f.first, t.count);
  }
  if (!o.quiet) std::fprintf(stderr, "\n");
  std::printf("wrote %zu PNG frame(s) of %dx%d to %s (%.3g s per frame, %d threads)\n", frames.size(),
              o.width, o.height, out.c_str(), render_s / double(frames.size()), omp_get_max_threads());
  if (scan) {
    double lo, hi;
    renderer.range(lo, hi);
    std::printf("colour range of %s: %.4g to %.4g\n", o.color.c_str(), lo, hi);
  }
  if (o.no_video) return 0;
  // real time: one written frame per frame_dt * every_n_frames
  const int every = doc.outputs.every_n_frames;
  const double fps = o.fps > 0 ? o.fps : std::clamp(1.0 / (doc.frame_dt * every), 1.0, 120.0);
  const fs::path mp4 = out / "video.mp4";
  try {
    render::encode_mp4(out.string(), mp4.string(), fps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  std::printf("video: %s (%.3g frames/s)\n", mp4.c_str(), fps);
  return 0;
}

}  // namespace

void add_render_command(CLI::App& app) {
  auto o = std::make_shared<RenderCliOptions>();
  auto* cmd = app.add_subcommand("render", "Render the particle frames of a run to PNG images and an MP4");
  cmd->add_option("run_dir", o->run_dir, "Directory written by `ductile simulate`")->required();
  cmd->add_option("--out,-o", o->out, "Output directory (default: RUN_DIR/render)");
  cmd->add_option("--color", o->color, "Colour by material, object, speed, stress or J")
      ->check(CLI::IsMember({"material", "object", "speed", "stress", "J"}));
  cmd->add_option("--width", o->width, "Image width in pixels")->check(CLI::Range(16, 8192));
  cmd->add_option("--height", o->height, "Image height in pixels")->check(CLI::Range(16, 8192));
  cmd->add_option(
      "--camera", o->camera,
      "auto, or PX,PY,PZ,TX,TY,TZ[,FOV_DEG] (3D) / CX,CY,HEIGHT (2D); default: the scene's camera "
      "section, else auto");
  cmd->add_option("--fps", o->fps, "Video frame rate (default: real time)")->check(CLI::Range(0.01, 1000.0));
  cmd->add_option("--range", o->range,
                  "Colour range LO:HI for speed, stress or J (default: over all frames)");
  cmd->add_option("--supersample", o->supersample, "Samples per pixel along each axis (1-4)")
      ->check(CLI::Range(1, 4));
  cmd->add_option("--radius-scale", o->radius_scale, "Scale of the drawn particle radius")
      ->check(CLI::Range(0.01, 100.0));
  cmd->add_option("--threads", o->threads, "OpenMP threads")->check(CLI::Range(1, 4096));
  cmd->add_flag("--no-video", o->no_video, "PNG frames only");
  cmd->add_flag("--quiet,-q", o->quiet, "No progress output");
  cmd->callback([o] {
    const int code = render_run(*o);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace ductile::app
