// The scene sections of gradient runs: "loss" (what to minimize) and "gradient" (with respect to what, and
// how the tape keeps its checkpoints); validation and the losses they build.
#include "core/scene_gradient.h"

#include <algorithm>

#include "core/checkpoint.h"
#include "core/error.h"
#include "core/io/ply.h"
#include "core/scene_detail.h"

namespace ductile {

namespace scene_detail {

namespace {

// The names of the scene's objects, for references from losses.
std::vector<std::string> object_names(const json& root) {
  std::vector<std::string> names;
  for (const auto& o : root["objects"]) names.push_back(o["name"].get<std::string>());
  return names;
}

// "target": a PLY file of points (made absolute) or an inline array of points of D numbers each.
void validate_points(json& l, const std::string& ptr, Context& ctx) {
  if (!l.contains("target")) fail_at(ptr, "missing required key 'target' (a PLY file or an array of points)");
  json& t = l["target"];
  if (t.is_string()) {
    get_file(l, ptr, "target", ctx.doc->base_dir);
    return;
  }
  const std::string tptr = child(ptr, "target");
  if (!t.is_array() || t.empty()) fail_at(tptr, "expected a PLY file name or a non-empty array of points");
  for (size_t i = 0; i < t.size(); ++i) {
    if (!t[i].is_array() || int(t[i].size()) != ctx.dim)
      fail_at(child(tptr, i),
              "expected a point of " + std::to_string(ctx.dim) + " numbers, got " + show(t[i]));
    for (size_t d = 0; d < t[i].size(); ++d) check_number(t[i][d], child(child(tptr, i), d), Range{});
  }
}

}  // namespace

void validate_losses(json& root, Context& ctx) {
  json& list = get_list(root, "", "loss", false);
  const auto objects = object_names(root);
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string ptr = child("/loss", i);
    json& l = list[i];
    expect_object(l, ptr);
    const std::string type = get_choice(l, ptr, "type", {"positions", "chamfer", "center_of_mass"});
    if (type == "center_of_mass")
      check_keys(l, ptr, {"type", "frame", "object", "weight", "quantity", "target", "direction"});
    else
      check_keys(l, ptr, {"type", "frame", "object", "weight", "target"});
    get_int(l, ptr, "frame", 0, ctx.doc->frames);
    get_number(l, ptr, "weight", non_negative(), 1.0);
    if (l.contains("object")) {
      const std::string name = get_string(l, ptr, "object");
      if (std::find(objects.begin(), objects.end(), name) == objects.end()) {
        std::string known;
        for (const auto& o : objects) known += (known.empty() ? "" : ", ") + o;
        fail_at(child(ptr, "object"), "unknown object '" + name + "' (objects: " + known + ")");
      }
    }
    if (type != "center_of_mass") {
      validate_points(l, ptr, ctx);
      continue;
    }
    get_choice(l, ptr, "quantity", {"position", "velocity"}, std::string("position"));
    if (l.contains("target") == l.contains("direction"))
      fail_at(ptr, "expected exactly one of 'target' (squared distance) and 'direction' (linear objective)");
    get_vec(l, ptr, l.contains("target") ? "target" : "direction", ctx.dim, Range{});
  }
}

void validate_gradient(json& root, Context&) {
  json& g = get_section(root, "", "gradient", false);
  check_keys(g, "/gradient", {"wrt", "checkpoint"});
  json& wrt = get_list(g, "/gradient", "wrt", false);
  for (size_t i = 0; i < wrt.size(); ++i)
    if (!wrt[i].is_string())
      fail_at(child("/gradient/wrt", i), "expected a parameter name, got " + show(wrt[i]));
  const std::string policy = get_string(g, "/gradient", "checkpoint", std::string("sqrt"));
  CheckpointPolicy::parse(policy, "/gradient/checkpoint");
}

}  // namespace scene_detail

namespace {

// Target points of a loss, D values per point.
std::vector<double> target_points(const nlohmann::json& t, const std::string& ptr, int D) {
  std::vector<double> r;
  if (t.is_string()) {
    const io::PointTable tab = io::read_ply(t.get<std::string>());
    const char* axes[3] = {"x", "y", "z"};
    int col[3];
    for (int d = 0; d < D; ++d)
      if ((col[d] = tab.column(axes[d])) < 0)
        fail(ptr, t.get<std::string>() + " has no '" + axes[d] + "' column");
    for (size_t k = 0; k < tab.count; ++k)
      for (int d = 0; d < D; ++d) r.push_back(double(tab.at(k, col[d])));
    return r;
  }
  for (const auto& p : t)
    for (int d = 0; d < D; ++d) r.push_back(p[size_t(d)].get<double>());
  return r;
}

}  // namespace

template <class T, int D>
std::vector<std::unique_ptr<Loss<T, D>>> build_losses(const SceneDocument& doc, const SceneData<T, D>& data) {
  std::vector<std::unique_ptr<Loss<T, D>>> out;
  const auto& list = doc.json["loss"];
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& l = list[i];
    const std::string ptr = "/loss/" + std::to_string(i);
    const std::string type = l["type"].get<std::string>();
    const int64_t step = int64_t(l["frame"].get<int>()) * doc.steps_per_frame;
    const double weight = l["weight"].get<double>();
    // the particles of the named object, or all
    std::vector<int32_t> sel;
    if (l.contains("object")) {
      const auto& names = data.object_names;
      const int k =
          int(std::find(names.begin(), names.end(), l["object"].get<std::string>()) - names.begin());
      for (int p = 0; p < data.state.n; ++p)
        if (data.state.object[p] == k) sel.push_back(p);
      if (sel.empty()) fail(ptr + "/object", "the object has no particles");
    }
    if (type == "positions") {
      std::vector<double> y = target_points(l["target"], ptr + "/target", D);
      // a frame of the whole scene (as `ductile simulate` writes) gives the object's rows
      if (!sel.empty() && y.size() == size_t(data.state.n) * D) {
        std::vector<double> rows;
        for (int32_t p : sel)
          for (int d = 0; d < D; ++d) rows.push_back(y[size_t(p) * D + d]);
        y.swap(rows);
      }
      const size_t want = sel.empty() ? size_t(data.state.n) : sel.size();
      if (y.size() != want * D)
        fail(ptr + "/target",
             std::to_string(y.size() / D) + " target points for " + std::to_string(want) +
                 " particles (positions compare particle by particle, in the order the scene "
                 "creates them)");
      out.push_back(make_position_loss<T, D>(step, sel, std::move(y), weight));
    } else if (type == "chamfer") {
      out.push_back(
          make_chamfer_loss<T, D>(step, sel, target_points(l["target"], ptr + "/target", D), weight));
    } else {
      CenterOfMassSpec spec;
      spec.velocity = l["quantity"].get<std::string>() == "velocity";
      spec.has_target = l.contains("target");
      const auto& v = l[spec.has_target ? "target" : "direction"];
      for (int d = 0; d < D; ++d)
        (spec.has_target ? spec.target : spec.direction)[d] = v[size_t(d)].get<double>();
      out.push_back(make_center_of_mass_loss<T, D>(step, sel, spec, weight));
    }
  }
  return out;
}

template std::vector<std::unique_ptr<Loss<float, 2>>> build_losses(const SceneDocument&,
                                                                   const SceneData<float, 2>&);
template std::vector<std::unique_ptr<Loss<float, 3>>> build_losses(const SceneDocument&,
                                                                   const SceneData<float, 3>&);
template std::vector<std::unique_ptr<Loss<double, 2>>> build_losses(const SceneDocument&,
                                                                    const SceneData<double, 2>&);
template std::vector<std::unique_ptr<Loss<double, 3>>> build_losses(const SceneDocument&,
                                                                    const SceneData<double, 3>&);

}  // namespace ductile
