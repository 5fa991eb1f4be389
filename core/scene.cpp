// Scene loading: JSON text with line and column on syntax errors, overrides, then validation of every
// section in the order they depend on each other.
#include "core/scene.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>

#include "core/error.h"
#include "core/scene_detail.h"

namespace ductile {

namespace {

namespace fs = std::filesystem;
using namespace scene_detail;

// Tracks the JSON pointer of the value being parsed so that a key given twice in one object (which JSON
// parsers would silently resolve) is an error naming it.
class DuplicateKeyCheck {
 public:
  bool operator()(int, json::parse_event_t ev, json& parsed) {
    using E = json::parse_event_t;
    if (ev == E::object_start || ev == E::array_start) {
      stack_.push_back({ev == E::array_start, 0, {}, here(), {}});
    } else if (ev == E::key) {
      Frame& f = stack_.back();
      f.key = parsed.get<std::string>();
      if (!f.keys.insert(f.key).second) fail(here(), "duplicate key (the text gives it twice)");
    } else if (ev == E::object_end || ev == E::array_end) {
      stack_.pop_back();
      if (!stack_.empty() && stack_.back().array) ++stack_.back().index;
    } else if (ev == E::value && !stack_.empty() && stack_.back().array) {
      ++stack_.back().index;
    }
    return true;
  }

 private:
  struct Frame {
    bool array;
    size_t index;
    std::set<std::string> keys;
    std::string ptr, key;
  };
  // the pointer of the next value inside the innermost container
  std::string here() const {
    if (stack_.empty()) return "";
    const Frame& f = stack_.back();
    return f.array ? child(f.ptr, f.index) : child(f.ptr, f.key);
  }
  std::vector<Frame> stack_;
};

// Line and column (from 1) of byte `at` of text (clamped to its end).
std::pair<size_t, size_t> line_column(const std::string& text, size_t at) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < at && i < text.size(); ++i) {
    if (text[i] == '\n')
      ++line, col = 1;
    else
      ++col;
  }
  return {line, col};
}

// The JSON text parsed (comments allowed); syntax errors become "name:line:column: syntax error: ...".
json parse_scene_json(const std::string& text, const std::string& name) {
  try {
    DuplicateKeyCheck check;
    return json::parse(
        text, [&check](int depth, json::parse_event_t ev, json& parsed) { return check(depth, ev, parsed); },
        true,
        /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    // line and column as nlohmann counts them, else from the byte where the parser stopped
    std::string msg = e.what();
    size_t line = 1, col = 1;
    const size_t at = msg.find("at line ");
    if (at == std::string::npos || std::sscanf(msg.c_str() + at, "at line %zu, column %zu", &line, &col) != 2)
      std::tie(line, col) = line_column(text, e.byte ? e.byte - 1 : 0);
    // nlohmann's message after its "parse error at line L, column C: " prefix
    const size_t c = msg.find("column");
    if (c != std::string::npos && msg.find(": ", c) != std::string::npos)
      msg = msg.substr(msg.find(": ", c) + 2);
    const std::string lead = "syntax error ";
    if (msg.compare(0, lead.size(), lead) == 0) msg = msg.substr(lead.size());
    throw Error(name + ":" + std::to_string(line) + ":" + std::to_string(col) + ": syntax error: " + msg);
  } catch (const json::out_of_range& e) {
    // a number beyond a double's range (nlohmann's error 406 names the number, not where it stands): the
    // place where the text first has it
    const std::string msg = e.what();
    const size_t q0 = msg.find('\''), q1 = q0 == std::string::npos ? q0 : msg.find('\'', q0 + 1);
    const std::string number = q1 == std::string::npos ? std::string() : msg.substr(q0 + 1, q1 - q0 - 1);
    const size_t at = number.empty() ? std::string::npos : text.find(number);
    const auto [line, col] =
        at == std::string::npos ? std::pair<size_t, size_t>{1, 1} : line_column(text, at);
    throw Error(name + ":" + std::to_string(line) + ":" + std::to_string(col) +
                ": number out of range: " + (number.empty() ? msg : number + " is beyond a double's range"));
  }
}

// The whole document: format and dimension first, then the sections in dependency order.
void validate_scene(json& root, SceneDocument& doc) {
  expect_object(root, "");
  // the version first: a newer format may have keys this one does not know
  if (!root.contains("format")) fail_at("", "missing required key 'format' (this build reads format 1)");
  const json& f = root["format"];
  if (!f.is_number_integer()) fail_at("/format", "expected the integer 1, got " + show(f));
  if (f.get<int64_t>() != 1)
    fail_at("/format", "unsupported scene format " + show(f) + " (this build reads format 1)");
  check_keys(root, "",
             {"format", "name", "description", "dimension", "domain", "time", "gravity", "materials",
              "objects", "colliders", "outputs", "loss", "gradient", "actuators", "controller", "objective",
              "optimize", "camera"});
  if (root.contains("name")) get_string(root, "", "name");
  if (root.contains("description")) get_string(root, "", "description");
  Context ctx;
  ctx.doc = &doc;
  ctx.dim = doc.dim = get_int(root, "", "dimension", 2, 3, 3);
  validate_domain(root, ctx);
  validate_materials(root, ctx);
  validate_objects(root, ctx);
  validate_colliders(root, ctx);
  validate_time(root, ctx);
  std::vector<double> g(size_t(ctx.dim), 0.0);
  g[1] = -9.81;
  get_vec(root, "", "gravity", ctx.dim, Range{}, g);
  validate_outputs(root, ctx);
  validate_camera(root, ctx);
  validate_losses(root, ctx);
  validate_gradient(root, ctx);
  validate_robot(root, ctx);
}

}  // namespace

SceneDocument load_scene_text(const std::string& text, const std::string& base_dir,
                              const std::vector<std::string>& overrides, const std::string& name) {
  json root = parse_scene_json(text, name);
  for (const auto& o : overrides) apply_scene_override(root, o);
  SceneDocument doc;
  doc.path = name;
  doc.base_dir =
      fs::absolute(base_dir.empty() ? fs::path(".") : fs::path(base_dir)).lexically_normal().string();
  validate_scene(root, doc);
  doc.json = std::move(root);
  return doc;
}

SceneDocument load_scene_file(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in || fs::is_directory(path)) fail(path, "cannot open scene file");
  std::stringstream ss;
  ss << in.rdbuf();
  const fs::path dir = fs::absolute(path).parent_path();
  return load_scene_text(ss.str(), dir.string(), overrides, path);
}

const std::string& default_scene_text() {
  static const std::string text = R"json({
  "format": 1,
  "name": "jelly_and_sand",
  "description": "A spinning jelly cube drops onto a tilted box while a sand column collapses into a pile.",
  "dimension": 3,
  "domain": {"min": [0, 0, 0], "max": [1, 1, 1], "dx": 0.025,
             "boundary": {"surface": "slip", "friction": 0.3, "cells": 3}},
  "time": {"dt": "auto", "cfl": 0.4, "frame_dt": 0.041666666666666664, "frames": 48},
  "gravity": [0, -9.81, 0],
  "materials": [
    {"name": "jelly", "model": "fixed_corotated", "E": 2e4, "nu": 0.3, "density": 1000},
    {"name": "sand", "model": "drucker_prager", "E": 5e4, "nu": 0.3, "density": 1600, "friction_angle": 35}
  ],
  "objects": [
    {"name": "jelly_cube", "material": "jelly",
     "shape": {"type": "box", "center": [0.3, 0.6, 0.5], "size": [0.2, 0.2, 0.2]},
     "sampling": {"ppc": 8, "method": "regular"},
     "velocity": [0, -0.5, 0], "angular_velocity": [0, 0, 1.5]},
    {"name": "sand_column", "material": "sand",
     "shape": {"type": "box", "center": [0.72, 0.225, 0.5], "size": [0.2, 0.25, 0.2]},
     "sampling": {"ppc": 8, "method": "jittered", "seed": 1}}
  ],
  "colliders": [
    {"name": "floor", "type": "plane", "point": [0, 0.1, 0], "normal": [0, 1, 0],
     "surface": "slip", "friction": 0.5},
    {"name": "pedestal", "type": "box", "center": [0.3, 0.18, 0.5], "size": [0.2, 0.16, 0.2],
     "rotate_deg": [0, 45, 15], "surface": "slip", "friction": 0.2}
  ],
  "outputs": {"every_n_frames": 1, "ply": true, "vdb": false}
}
)json";
  return text;
}

}  // namespace ductile
