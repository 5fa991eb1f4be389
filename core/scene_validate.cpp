// Validation of the scene sections "domain", "materials", "time" and "outputs".
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "core/io/vdb_volume.h"
#include "core/scene_detail.h"
#include "materials/registry.h"

namespace ductile::scene_detail {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// A ParamSpec's range; bounds at +-1e30 or beyond mean unbounded.
Range spec_range(const ParamSpec& s) {
  Range r;
  r.lo = s.min <= -1e30 ? -kInf : s.min;
  r.hi = s.max >= 1e30 ? kInf : s.max;
  r.lo_open = s.min_exclusive;
  r.hi_open = s.max_exclusive;
  r.meaning = s.meaning;
  return r;
}

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(3);
  s << v;
  return s.str();
}

}  // namespace

// The model's options (MaterialEntry::options: "true"/"false" or the number, %.17g), then its files.
template <class T, int D>
void configure_files(Material<T, D>& mat, const json& m, const std::vector<std::string>& files,
                     const std::string& ptr) {
  const auto& reg = MaterialRegistry::instance();
  if (reg.has(mat.model()))
    for (const auto& o : reg.get(mat.model()).options)
      if (m.contains(o.name)) {
        const json& v = m[o.name];
        char buf[40];
        if (!v.is_boolean()) std::snprintf(buf, sizeof buf, "%.17g", v.get<double>());
        try {
          mat.configure(o.name, v.is_boolean() ? (v.get<bool>() ? "true" : "false") : std::string(buf));
        } catch (const std::exception& e) {
          fail_at(child(ptr, o.name), e.what());
        }
      }
  for (const auto& f : files)
    if (m.contains(f)) {
      try {
        mat.configure(f, m[f].get<std::string>());
      } catch (const std::exception& e) {
        fail_at(child(ptr, f), e.what());
      }
    }
}
template void configure_files(Material<float, 2>&, const json&, const std::vector<std::string>&,
                              const std::string&);
template void configure_files(Material<float, 3>&, const json&, const std::vector<std::string>&,
                              const std::string&);
template void configure_files(Material<double, 2>&, const json&, const std::vector<std::string>&,
                              const std::string&);
template void configure_files(Material<double, 3>&, const json&, const std::vector<std::string>&,
                              const std::string&);

// domain: box, grid spacing and the condition on its walls; the size is rounded up to whole cells.
void validate_domain(json& root, Context& ctx) {
  const std::string ptr = "/domain";
  json& d = get_section(root, "", "domain", true);
  check_keys(d, ptr, {"min", "max", "dx", "boundary"});
  const int D = ctx.dim;
  std::vector<double> lo = get_vec(d, ptr, "min", D, Range{});
  std::vector<double> hi = get_vec(d, ptr, "max", D, Range{});
  ctx.dx = get_number(d, ptr, "dx", positive());
  double nodes = 1;
  for (int i = 0; i < D; ++i) {
    if (!(hi[i] > lo[i]))
      fail_at(child(child(ptr, "max"), size_t(i)),
              "expected a number > " + show_number(lo[i]) + " (the domain's min), got " + show_number(hi[i]));
    const double cells = std::ceil((hi[i] - lo[i]) / ctx.dx - 1e-6);
    const double rounded = lo[i] + cells * ctx.dx;
    if (std::fabs(rounded - hi[i]) > 1e-9 * std::max(1.0, std::fabs(hi[i]))) {
      ctx.doc->warnings.push_back(child(child(ptr, "max"), size_t(i)) +
                                  ": the domain size is not a whole number of cells; max rounded up from " +
                                  show_number(hi[i]) + " to " + show_number(rounded));
      d["max"][i] = rounded;
    }
    ctx.lo[i] = lo[i];
    ctx.hi[i] = rounded;
    nodes *= cells + 5;
  }
  if (nodes > 2e9) fail_at(child(ptr, "dx"), "the grid would have " + fmt(nodes) + " nodes (at most 2e9)");
  const std::string bptr = child(ptr, "boundary");
  json& b = get_section(d, ptr, "boundary", false);
  check_keys(b, bptr, {"surface", "friction", "cells", "policy"});
  get_choice(b, bptr, "policy", {"error", "clamp", "delete"}, std::string("error"));
  get_choice(b, bptr, "surface", {"sticky", "slip", "separate"}, std::string("slip"));
  get_number(b, bptr, "friction", non_negative(), 0.0);
  get_int(b, bptr, "cells", 1, std::numeric_limits<int>::max(), 3);
}

// materials: named, one model each, parameters checked against the model's ParamSpec table.
void validate_materials(json& root, Context& ctx) {
  json& list = get_list(root, "", "materials", true, 1);
  const auto& reg = MaterialRegistry::instance();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string ptr = child("/materials", i);
    json& m = list[i];
    expect_object(m, ptr);
    const std::string name = get_string(m, ptr, "name");
    if (name.empty()) fail_at(child(ptr, "name"), "expected a non-empty name");
    for (size_t k = 0; k < ctx.materials.size(); ++k)
      if (ctx.materials[k] == name)
        fail_at(child(ptr, "name"),
                "duplicate material name '" + name + "' (also " + child("/materials", k) + ")");
    const std::string model = get_string(m, ptr, "model");
    if (!reg.has(model)) fail_at(child(ptr, "model"), reg.unknown(model));
    const auto& specs = reg.get(model).specs();
    const auto& files = reg.get(model).file_keys;
    std::vector<std::string> params;
    for (const auto& s : specs) params.push_back(s.name);
    for (const auto& f : files) params.push_back(f);
    for (const auto& o : reg.get(model).options) params.push_back(o.name);
    for (auto it = m.begin(); it != m.end(); ++it)
      if (it.key() != "name" && it.key() != "model" &&
          std::find(params.begin(), params.end(), it.key()) == params.end())
        fail_at(child(ptr, it.key()),
                "unknown parameter of model '" + model + "' (its parameters: " + join(params) + ")");
    // options: true/false or a number > 0
    for (const auto& o : reg.get(model).options)
      if (m.contains(o.name)) {
        if (o.boolean)
          get_bool(m, ptr, o.name.c_str());
        else
          get_number(m, ptr, o.name.c_str(), Range{0, kInf, true, false, o.meaning.c_str()});
      }
    // files (absolute paths), handed to the material when it is built
    for (const auto& f : files)
      if (m.contains(f)) get_file(m, ptr, f.c_str(), ctx.doc->base_dir);
    // values in spec order, defaults filled in
    std::vector<double> values;
    double density = -1;
    for (const auto& s : specs) {
      values.push_back(get_number(m, ptr, s.name, spec_range(s), s.default_value));
      if (std::string(s.name) == "density") density = values.back();
    }
    if (!(density > 0)) fail_at(child(ptr, "model"), "model '" + model + "' has no density parameter");
    double c = 0;
    if (ctx.dim == 2) {
      auto mat = reg.make<double, 2>(model);
      mat->values() = values;
      configure_files(*mat, m, files, ptr);
      c = mat->wave_speed();
    } else {
      auto mat = reg.make<double, 3>(model);
      mat->values() = values;
      configure_files(*mat, m, files, ptr);
      c = mat->wave_speed();
    }
    if (std::isfinite(c)) ctx.wave_speed = std::max(ctx.wave_speed, c);
    ctx.materials.push_back(name);
    ctx.material_density.push_back(density);
  }
}

// time: a fixed or automatic (CFL) step, shrunk so that a whole number of steps fills each frame.
void validate_time(json& root, Context& ctx) {
  const std::string ptr = "/time";
  json& t = get_section(root, "", "time", false);
  check_keys(t, ptr, {"dt", "cfl", "frame_dt", "frames", "allow_cfl_violation"});
  const double cfl = get_number(t, ptr, "cfl", Range{0, 1, true, false}, 0.4);
  const double frame_dt = get_number(t, ptr, "frame_dt", positive(), 1.0 / 24);
  const int frames = get_int(t, ptr, "frames", 1, std::numeric_limits<int>::max(), 48);
  if (!t.contains("dt")) t["dt"] = "auto";
  const json& dtv = t["dt"];
  const bool automatic = dtv.is_string() && dtv.get<std::string>() == "auto";
  if (!automatic && !(dtv.is_number() && dtv.get<double>() > 0 && std::isfinite(dtv.get<double>())))
    fail_at(child(ptr, "dt"), "expected a number > 0 or \"auto\", got " + show(dtv));
  const double speed = ctx.wave_speed + ctx.speed;
  const double cfl_dt = speed > 0 ? cfl * ctx.dx / speed : kInf;
  double target = automatic ? std::min(cfl_dt, frame_dt) : dtv.get<double>();
  // a step longer than dx / speed lets information skip a cell: the explicit update is unstable, refused
  // (unless allow_cfl_violation: fault-injection tests run such scenes on purpose)
  const double limit_dt = speed > 0 ? ctx.dx / speed : kInf;
  const bool allow = get_bool(t, ptr, "allow_cfl_violation", false);
  if (!automatic && !allow && target > limit_dt * (1 + 1e-9))
    fail_at(child(ptr, "dt"), fmt(target) +
                                  " s violates the CFL condition dt <= dx / (wave speed + initial speed) = " +
                                  fmt(ctx.dx) + " m / (" + fmt(ctx.wave_speed) + " + " + fmt(ctx.speed) +
                                  ") m/s = " + fmt(limit_dt) + " s; use \"auto\" (cfl " + fmt(cfl) +
                                  " times that bound) or a smaller dt (or allow_cfl_violation)");
  if (!automatic && target > cfl_dt * (1 + 1e-9))
    ctx.doc->warnings.push_back(child(ptr, "dt") + ": " + fmt(target) + " s is above the CFL bound " +
                                fmt(cfl_dt) + " s (cfl " + fmt(cfl) + " * dx " + fmt(ctx.dx) +
                                " m / (wave speed " + fmt(ctx.wave_speed) + " m/s + initial speed " +
                                fmt(ctx.speed) + " m/s)); the simulation may become unstable");
  const double steps = std::max(1.0, std::ceil(frame_dt / target - 1e-9));
  if (steps > 1e8)
    fail_at(ptr, "a frame would take " + fmt(steps) + " steps of " + fmt(target) + " s (at most 1e8)");
  ctx.doc->frame_dt = frame_dt;
  ctx.doc->frames = frames;
  ctx.doc->steps_per_frame = int(steps);
  ctx.doc->dt = frame_dt / steps;
  ctx.doc->cfl_dt = cfl_dt;
}

// outputs: what `ductile simulate` writes and how often.
void validate_outputs(json& root, Context& ctx) {
  const std::string ptr = "/outputs";
  json& o = get_section(root, "", "outputs", false);
  check_keys(o, ptr,
             {"every_n_frames", "ply", "state", "vdb", "vdb_voxel", "mesh", "mesh_voxel", "mesh_radius"});
  OutputSettings& s = ctx.doc->outputs;
  s.every_n_frames = get_int(o, ptr, "every_n_frames", 1, std::numeric_limits<int>::max(), 1);
  s.ply = get_bool(o, ptr, "ply", true);
  s.state = get_bool(o, ptr, "state", false);
  s.vdb = get_bool(o, ptr, "vdb", false);
  s.vdb_voxel = get_number(o, ptr, "vdb_voxel", non_negative(), 0.0);
  s.mesh = get_bool(o, ptr, "mesh", false);
  s.mesh_voxel = get_number(o, ptr, "mesh_voxel", non_negative(), 0.0);
  s.mesh_radius = get_number(o, ptr, "mesh_radius", non_negative(), 0.0);
  if (s.mesh && ctx.dim == 2)
    ctx.doc->warnings.push_back(
        "/outputs/mesh: surface meshes are written for 3D scenes only; ignored in 2D");
  // a build without OpenVDB cannot write them: said before anything runs (nothing in a build with it)
  if (s.vdb && ctx.dim == 3) io::require_openvdb("VDB volume output (" + ptr + "/vdb)");
  if (s.mesh && ctx.dim == 3) io::require_openvdb("surface mesh output (" + ptr + "/mesh)");
}

}  // namespace ductile::scene_detail
