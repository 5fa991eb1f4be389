#include "core/observations.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "core/error.h"
#include "core/io/ply.h"

namespace fs = std::filesystem;

namespace ductile {

namespace {

// frame_NNNNN.ply files of a directory, by frame.
std::map<int, fs::path> ply_frames(const fs::path& dir) {
  std::map<int, fs::path> r;
  const std::regex pattern("frame_([0-9]+)\\.ply");
  for (const auto& e : fs::directory_iterator(dir)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    // frame numbers beyond 9 digits are not frames of ours (and would overflow int)
    if (e.is_regular_file() && std::regex_match(name, m, pattern) && m[1].length() <= 9)
      r[std::stoi(m[1].str())] = e.path();
  }
  return r;
}

// Columns NAMES of table t, component-major (out[c * n + p]); empty when the first is absent. A partial set
// (F00 without F11) is an error naming the file.
std::vector<double> columns(const io::PointTable& t, const std::vector<std::string>& names,
                            const std::string& file) {
  std::vector<int> col;
  for (const auto& name : names) col.push_back(t.column(name));
  if (col[0] < 0) {
    for (size_t c = 1; c < col.size(); ++c)
      if (col[c] >= 0) fail(file, "has '" + names[c] + "' but no '" + names[0] + "'");
    return {};
  }
  std::vector<double> out(names.size() * t.count);
  for (size_t c = 0; c < col.size(); ++c) {
    if (col[c] < 0) fail(file, "has '" + names[0] + "' but no '" + names[c] + "'");
    for (size_t k = 0; k < t.count; ++k) {
      const double x = double(t.at(k, col[c]));
      if (!std::isfinite(x))
        fail(file, "'" + names[c] + "' of point " + std::to_string(k) + " is not finite");
      out[c * t.count + k] = x;
    }
  }
  return out;
}

// The optional state columns of an ordered frame: vx .., F00 .., C00 .., plastic.
void read_state(const io::PointTable& t, int dim, const std::string& file, ObservedFrame& f) {
  std::vector<std::string> v, F, C;
  for (int i = 0; i < dim; ++i) {
    v.push_back(std::string("v") + "xyz"[i]);
    for (int j = 0; j < dim; ++j) {
      F.push_back("F" + std::to_string(i) + std::to_string(j));
      C.push_back("C" + std::to_string(i) + std::to_string(j));
    }
  }
  f.v = columns(t, v, file);
  f.F = columns(t, F, file);
  f.C = columns(t, C, file);
  f.plastic = columns(t, {"plastic"}, file);
}

Observations from_ply_dir(const fs::path& dir0, int dim, int particles) {
  fs::path dir = dir0;
  if (ply_frames(dir).empty() && fs::is_directory(dir / "particles")) dir = dir / "particles";
  const auto files = ply_frames(dir);
  if (files.empty()) fail(dir0.string(), "no frame_NNNNN.ply files here (nor in particles/)");
  Observations obs;
  obs.source = dir.string();
  obs.dim = dim;
  const char* axes[3] = {"x", "y", "z"};
  for (const auto& [frame, file] : files) {
    const io::PointTable t = io::read_ply(file.string());
    int col[3];
    for (int d = 0; d < dim; ++d)
      if ((col[d] = t.column(axes[d])) < 0) fail(file.string(), std::string("no '") + axes[d] + "' property");
    ObservedFrame f;
    f.frame = frame;
    f.ordered = int(t.count) == particles;
    for (size_t k = 0; k < t.count; ++k)
      for (int d = 0; d < dim; ++d) f.points.push_back(double(t.at(k, col[d])));
    if (f.ordered) read_state(t, dim, file.string(), f);
    obs.frames.push_back(std::move(f));
  }
  return obs;
}

Observations from_csv(const std::string& path, int dim, int particles) {
  std::ifstream in(path);
  if (!in) fail(path, "cannot open");
  std::string line;
  if (!std::getline(in, line)) fail(path, "empty file (expected a header frame,particle,x,y[,z])");
  // header
  std::vector<std::string> cols;
  {
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) {
      c.erase(std::remove_if(c.begin(), c.end(), ::isspace), c.end());
      cols.push_back(c);
    }
  }
  const bool tracked = cols.size() > 1 && cols[1] == "particle";
  std::vector<std::string> want = {"frame"};
  if (tracked) want.push_back("particle");
  for (int d = 0; d < dim; ++d) want.push_back(std::string(1, "xyz"[d]));
  if (cols != want) {
    std::string w;
    for (const auto& c : want) w += (w.empty() ? "" : ",") + c;
    fail(path + ":1", "expected the header '" + w + "' (or without 'particle' for unordered points)");
  }
  std::map<int, ObservedFrame> frames;
  int lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::vector<double> v;
    std::string c;
    while (std::getline(ss, c, ',')) {
      char* end = nullptr;
      const double x = std::strtod(c.c_str(), &end);
      if (end == c.c_str()) fail(path + ":" + std::to_string(lineno), "'" + c + "' is not a number");
      v.push_back(x);
    }
    if (v.size() != want.size())
      fail(path + ":" + std::to_string(lineno),
           std::to_string(v.size()) + " values, expected " + std::to_string(want.size()));
    // range checks before the conversions (a double beyond int's range has no int value)
    const int frame = v[0] >= 0 && v[0] <= 1e9 ? int(v[0]) : -1;
    if (v[0] != frame || frame < 0)
      fail(path + ":" + std::to_string(lineno), "the frame must be an integer >= 0");
    ObservedFrame& f = frames[frame];
    f.frame = frame;
    f.ordered = tracked;
    size_t k = 1;
    if (tracked) {
      const int p = v[1] >= 0 && v[1] < particles ? int(v[1]) : -1;
      if (v[1] != p || p < 0 || p >= particles)
        fail(path + ":" + std::to_string(lineno), "particle " + std::to_string(v[1]) +
                                                      " is not an index of the scene's " +
                                                      std::to_string(particles) + " particles");
      f.particles.push_back(p);
      k = 2;
    }
    for (int d = 0; d < dim; ++d) {
      if (!std::isfinite(v[k + d])) fail(path + ":" + std::to_string(lineno), "a coordinate is not finite");
      f.points.push_back(v[k + d]);
    }
  }
  if (frames.empty()) fail(path, "no observations after the header");
  Observations obs;
  obs.source = path;
  obs.dim = dim;
  for (auto& [frame, f] : frames) obs.frames.push_back(std::move(f));
  return obs;
}

}  // namespace

Observations load_observations(const std::string& path, int dim, int particles) {
  if (fs::is_directory(path)) return from_ply_dir(path, dim, particles);
  if (!fs::is_regular_file(path)) fail(path, "no such file or directory");
  if (fs::path(path).extension() == ".csv") return from_csv(path, dim, particles);
  fail(path, "expected a directory of PLY frames or a .csv file of tracked points");
}

template <class T, int D>
std::vector<std::unique_ptr<Loss<T, D>>> observation_losses(const Observations& obs, int steps_per_frame,
                                                            int last_frame, int every, bool chamfer,
                                                            int first_frame, double weight) {
  std::vector<const ObservedFrame*> use;
  for (const auto& f : obs.frames)
    if (f.frame > first_frame && f.frame <= last_frame && f.frame % std::max(every, 1) == 0)
      use.push_back(&f);
  if (use.empty())
    fail(obs.source, "no observed frame between " + std::to_string(first_frame + 1) + " and " +
                         std::to_string(last_frame) + " to fit against");
  std::vector<std::unique_ptr<Loss<T, D>>> r;
  const double w = weight > 0 ? weight : 1.0 / double(use.size());
  for (const ObservedFrame* f : use) {
    const int64_t step = int64_t(f->frame - first_frame) * steps_per_frame;
    if (f->ordered && !chamfer)
      r.push_back(make_position_loss<T, D>(step, f->particles, f->points, w));
    else
      r.push_back(make_chamfer_loss<T, D>(step, f->particles, f->points, w));
  }
  return r;
}

#define DUCTILE_INSTANTIATE_OBS(T, D)                                                                       \
  template std::vector<std::unique_ptr<Loss<T, D>>> observation_losses<T, D>(const Observations&, int, int, \
                                                                             int, bool, int, double);
DUCTILE_INSTANTIATE_OBS(float, 2)
DUCTILE_INSTANTIATE_OBS(float, 3)
DUCTILE_INSTANTIATE_OBS(double, 2)
DUCTILE_INSTANTIATE_OBS(double, 3)

}  // namespace ductile
