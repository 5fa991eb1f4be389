// Validation of the robot sections and the robot's particles (actuators, fibers, body) of a built scene.
#include "core/control/robot_scene.h"

#include <cmath>

#include "core/checkpoint.h"
#include "core/error.h"
#include "core/level_set.h"
#include "core/scene_detail.h"

namespace ductile {

namespace scene_detail {

namespace {

// The names of the scene's objects.
std::vector<std::string> object_names(const json& root) {
  std::vector<std::string> names;
  if (root.contains("objects"))
    for (const auto& o : root["objects"]) names.push_back(o.value("name", std::string()));
  return names;
}

void expect_object_name(const json& v, const std::string& ptr, const std::vector<std::string>& names) {
  if (!v.is_string()) fail_at(ptr, "expected an object name, got " + show(v));
  for (const auto& n : names)
    if (n == v.get<std::string>()) return;
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  fail_at(ptr, "no object named " + show(v) + " (objects: " + known + ")");
}

// A direction of dim components, normalized in place; fails when it is zero.
void get_direction(json& obj, const std::string& ptr, const char* key, int dim, std::vector<double> def) {
  std::vector<double> d = get_vec(obj, ptr, key, dim, Range{}, def);
  double n = 0;
  for (double x : d) n += x * x;
  if (!(n > 0)) fail_at(child(ptr, key), "expected a non-zero direction");
  for (double& x : d) x /= std::sqrt(n);
  obj[key] = d;
}

void validate_actuators(json& root, Context& ctx, const std::vector<std::string>& objects) {
  json& list = get_list(root, "", "actuators", false);
  std::vector<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string ptr = child("/actuators", i);
    json& a = list[i];
    expect_object(a, ptr);
    check_keys(a, ptr, {"name", "object", "box", "mesh", "fiber", "strength"});
    const std::string name = get_string(a, ptr, "name", "actuator" + std::to_string(i));
    for (const auto& s : seen)
      if (s == name) fail_at(child(ptr, "name"), "a second actuator named '" + name + "'");
    seen.push_back(name);
    if (!a.contains("object")) fail_at(ptr, "missing required key 'object' (the object the actuator is in)");
    expect_object_name(a["object"], child(ptr, "object"), objects);
    if (a.contains("box")) {
      const std::string bp = child(ptr, "box");
      json& b = a["box"];
      expect_object(b, bp);
      check_keys(b, bp, {"min", "max"});
      const auto lo = get_vec(b, bp, "min", ctx.dim, Range{});
      const auto hi = get_vec(b, bp, "max", ctx.dim, Range{});
      for (int d = 0; d < ctx.dim; ++d)
        if (!(hi[size_t(d)] > lo[size_t(d)]))
          fail_at(child(child(bp, "max"), size_t(d)), "expected a number > " + show_number(lo[size_t(d)]));
    }
    if (a.contains("mesh")) {
      const std::string mp = child(ptr, "mesh");
      expect_object(a["mesh"], mp);
      check_keys(a["mesh"], mp, {"file"});
      get_file(a["mesh"], mp, "file", ctx.doc->base_dir);
    }
    std::vector<double> up(size_t(ctx.dim), 0.0);
    up[1] = 1;
    get_direction(a, ptr, "fiber", ctx.dim, up);
    get_number(a, ptr, "strength", non_negative());
  }
}

void validate_controller(json& root, Context& ctx) {
  json& c = get_section(root, "", "controller", false);
  const std::string ptr = "/controller";
  if (c.empty()) c["type"] = "sinusoid";
  const std::string type = get_choice(c, ptr, "type", {"open_loop", "sinusoid", "network"});
  std::vector<std::string> keys = {"type", "seed", "load"};
  if (type == "open_loop") {
    keys.push_back("interval");
    get_int(c, ptr, "interval", 1, 1 << 30, 10);
  } else {
    for (const char* k : {"frequency", "waves"}) keys.push_back(k);
    get_number(c, ptr, "frequency", positive(), 2.0);
    get_int(c, ptr, "waves", 1, 256, 4);
  }
  if (type == "sinusoid") {
    keys.push_back("init");
    get_number(c, ptr, "init", non_negative(), 0.01);
  }
  if (type == "network") {
    for (const char* k : {"hidden", "activation", "output", "inputs", "length_scale", "speed_scale"})
      keys.push_back(k);
    json& h = get_list(c, ptr, "hidden", false);
    if (h.empty()) h = json::array({32});
    for (size_t i = 0; i < h.size(); ++i)
      if (!h[i].is_number_integer() || h[i].get<int>() < 1 || h[i].get<int>() > 4096)
        fail_at(child(child(ptr, "hidden"), i), "expected a layer width from 1 to 4096, got " + show(h[i]));
    get_choice(c, ptr, "activation", {"tanh", "sin", "relu"}, std::string("tanh"));
    get_choice(c, ptr, "output", {"tanh", "sin"}, std::string("tanh"));
    json& in = get_list(c, ptr, "inputs", false);
    if (in.empty()) in = json::array({"clock", "com", "velocity", "goal"});
    for (size_t i = 0; i < in.size(); ++i)
      if (!in[i].is_string() ||
          (in[i] != "clock" && in[i] != "com" && in[i] != "velocity" && in[i] != "goal"))
        fail_at(child(child(ptr, "inputs"), i),
                "expected one of \"clock\", \"com\", \"velocity\", \"goal\", got " + show(in[i]));
    get_number(c, ptr, "length_scale", positive(), 0.1);
    get_number(c, ptr, "speed_scale", positive(), 1.0);
  }
  check_keys(c, ptr, keys);
  get_int(c, ptr, "seed", 0, 1 << 30, 0);
  if (c.contains("load")) get_file(c, ptr, "load", ctx.doc->base_dir);
}

void validate_objective(json& root, Context& ctx, const std::vector<std::string>& objects) {
  json& o = get_section(root, "", "objective", false);
  const std::string ptr = "/objective";
  check_keys(o, ptr, {"type", "direction", "target", "up", "from", "effort", "body"});
  get_choice(o, ptr, "type", {"travel", "velocity", "reach", "jump"}, std::string("travel"));
  std::vector<double> x(size_t(ctx.dim), 0.0), up(size_t(ctx.dim), 0.0);
  x[0] = 1;
  // up: against gravity (validated before this section)
  const auto& g = root["gravity"];
  double gn = 0;
  for (int d = 0; d < ctx.dim; ++d) gn += g[size_t(d)].get<double>() * g[size_t(d)].get<double>();
  for (int d = 0; d < ctx.dim; ++d) up[size_t(d)] = gn > 0 ? -g[size_t(d)].get<double>() / std::sqrt(gn) : 0;
  if (!(gn > 0)) up[1] = 1;
  get_direction(o, ptr, "direction", ctx.dim, x);
  get_direction(o, ptr, "up", ctx.dim, up);
  get_vec(o, ptr, "target", ctx.dim, Range{}, std::vector<double>(size_t(ctx.dim), 0.0));
  get_number(o, ptr, "from", Range{0, 1}, 0.5);
  get_number(o, ptr, "effort", non_negative(), 0.0);
  json& body = get_list(o, ptr, "body", false);
  for (size_t i = 0; i < body.size(); ++i) expect_object_name(body[i], child(child(ptr, "body"), i), objects);
}

void validate_optimize(json& root, Context& ctx) {
  json& o = get_section(root, "", "optimize", false);
  const std::string ptr = "/optimize";
  check_keys(
      o, ptr,
      {"iterations", "lr", "lr_decay", "grad_clip", "frames", "goals", "batch", "wrt", "checkpoint", "seed"});
  get_int(o, ptr, "iterations", 0, 1 << 30, 50);
  get_number(o, ptr, "lr", positive(), 0.05);
  get_number(o, ptr, "lr_decay", Range{0, 1, true, false}, 1.0);
  get_number(o, ptr, "grad_clip", non_negative(), 0.0);
  if (o.contains("frames")) get_int(o, ptr, "frames", 1, 1 << 30);
  json& goals = get_list(o, ptr, "goals", false);
  for (size_t i = 0; i < goals.size(); ++i) {
    json holder = {{"goal", goals[i]}};
    goals[i] = get_vec(holder, child(ptr, "goals"), "goal", ctx.dim, Range{});
  }
  get_int(o, ptr, "batch", 0, 1 << 30, 0);
  json& wrt = get_list(o, ptr, "wrt", false);
  for (size_t i = 0; i < wrt.size(); ++i)
    if (!wrt[i].is_string())
      fail_at(child(child(ptr, "wrt"), i), "expected a parameter name, got " + show(wrt[i]));
  CheckpointPolicy::parse(get_string(o, ptr, "checkpoint", std::string("all")), child(ptr, "checkpoint"));
  get_int(o, ptr, "seed", 0, 1 << 30, 0);
}

}  // namespace

void validate_robot(json& root, Context& ctx) {
  if (!root.contains("actuators")) {
    for (const char* s : {"controller", "objective", "optimize"})
      if (root.contains(s))
        fail_at(std::string("/") + s, "a robot section needs the scene's 'actuators' (docs/SCENE_FORMAT.md)");
    return;
  }
  const std::vector<std::string> objects = object_names(root);
  validate_actuators(root, ctx, objects);
  validate_controller(root, ctx);
  validate_objective(root, ctx, objects);
  validate_optimize(root, ctx);
}

}  // namespace scene_detail

bool scene_has_robot(const SceneDocument& doc) {
  return doc.json.contains("actuators");
}

template <class T, int D>
RobotScene<T, D> build_robot(const SceneDocument& doc, const SceneData<T, D>& data) {
  using nlohmann::json;
  const json& root = doc.json;
  if (!root.contains("actuators")) fail("", "the scene has no 'actuators' section");
  RobotScene<T, D> r;
  const int n = data.state.n;
  auto object_index = [&](const std::string& name) {
    for (size_t i = 0; i < data.object_names.size(); ++i)
      if (data.object_names[i] == name) return int(i);
    return -1;
  };
  // actuators: their particles and fibers
  auto& s = r.setup;
  s.actuator.assign(size_t(n), -1);
  s.fiber.assign(size_t(D) * n, T(0));
  const json& list = root["actuators"];
  const double dx = root["domain"]["dx"].get<double>();
  for (size_t k = 0; k < list.size(); ++k) {
    const json& a = list[k];
    const std::string ptr = scene_detail::child("/actuators", k);
    s.actuator_names.push_back(a["name"].get<std::string>());
    s.strength.push_back(a["strength"].get<double>());
    const int obj = object_index(a["object"].get<std::string>());
    std::shared_ptr<DenseSdf> region;
    if (a.contains("mesh")) {
      // a closed mesh of the asset, placed like the object's own mesh
      const json& shape = root["objects"][size_t(obj)]["shape"];
      region = std::make_shared<DenseSdf>(
          sdf_from_obj(a["mesh"]["file"].get<std::string>(), scene_detail::placement_of(shape), dx / 2));
    }
    int count = 0;
    for (int p = 0; p < n; ++p) {
      if (data.state.object[p] != obj) continue;
      double x[3] = {0, 0, 0};
      for (int d = 0; d < D; ++d) x[d] = double(data.state.x[size_t(d) * n + p]);
      bool inside = true;
      if (a.contains("box"))
        for (int d = 0; d < D; ++d)
          inside = inside && x[d] >= a["box"]["min"][size_t(d)].get<double>() &&
                   x[d] <= a["box"]["max"][size_t(d)].get<double>();
      if (inside && region) inside = region->sample(x) < 0;
      if (!inside) continue;
      if (s.actuator[p] >= 0)
        fail(ptr, "particle " + std::to_string(p) + " is also in actuator '" +
                      s.actuator_names[size_t(s.actuator[p])] + "'; actuator regions must not overlap");
      s.actuator[p] = int32_t(k);
      for (int d = 0; d < D; ++d) s.fiber[size_t(d) * n + p] = T(a["fiber"][size_t(d)].get<double>());
      ++count;
    }
    if (count == 0) fail(ptr, "selects no particle of object '" + a["object"].get<std::string>() + "'");
  }
  // the body whose centre of mass the controller sees and the objective scores
  const json& o = root["objective"];
  s.body.assign(size_t(n), o["body"].empty() ? 1 : 0);
  for (const auto& b : o["body"]) {
    const int obj = object_index(b.get<std::string>());
    for (int p = 0; p < n; ++p)
      if (data.state.object[p] == obj) s.body[p] = 1;
  }
  auto vec3 = [&](const json& v) {
    std::array<double, 3> a{0, 0, 0};
    for (int d = 0; d < D; ++d) a[size_t(d)] = v[size_t(d)].get<double>();
    return a;
  };
  r.objective.type = o["type"].get<std::string>();
  r.objective.direction = vec3(o["direction"]);
  r.objective.target = vec3(o["target"]);
  r.objective.up = vec3(o["up"]);
  r.objective.from = o["from"].get<double>();
  r.objective.effort = o["effort"].get<double>();
  r.controller = root["controller"];
  // training settings
  const json& op = root["optimize"];
  auto& st = r.optimize;
  st.iterations = op["iterations"].get<int>();
  st.learning_rate = op["lr"].get<double>();
  st.lr_decay = op["lr_decay"].get<double>();
  st.grad_clip = op["grad_clip"].get<double>();
  st.frames = op.value("frames", 0);
  for (const auto& g : op["goals"]) st.goals.push_back(vec3(g));
  st.batch = op["batch"].get<int>();
  st.wrt = op["wrt"].get<std::vector<std::string>>();
  st.checkpoint = op["checkpoint"].get<std::string>();
  st.seed = op["seed"].get<uint64_t>();
  return r;
}

template RobotScene<float, 2> build_robot(const SceneDocument&, const SceneData<float, 2>&);
template RobotScene<float, 3> build_robot(const SceneDocument&, const SceneData<float, 3>&);
template RobotScene<double, 2> build_robot(const SceneDocument&, const SceneData<double, 2>&);
template RobotScene<double, 3> build_robot(const SceneDocument&, const SceneData<double, 3>&);

}  // namespace ductile
