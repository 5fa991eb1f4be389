// Validation of the scene section "objects": material reference, shape, sampling and initial velocity.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/scene_gaussians.h"

namespace ductile::scene_detail {

namespace {

const char* const kAxisNames[3] = {"x", "y", "z"};

// Checks the keys and values of one shape, fills its defaults and loads mesh and vdb fields.
void validate_shape(json& o, const std::string& optr, Context& ctx) {
  const std::string ptr = child(optr, "shape");
  json& s = get_section(o, optr, "shape", true);
  const std::string type =
      get_choice(s, ptr, "type", {"box", "sphere", "cylinder", "ellipsoid", "mesh", "vdb", "gaussians"});
  const int D = ctx.dim;
  if (D == 2 && (type == "cylinder" || type == "mesh" || type == "vdb" || type == "gaussians"))
    fail_at(child(ptr, "type"),
            "'" + type + "' shapes need a 3D scene (2D objects take box, sphere or ellipsoid)");
  if (type == "box") {
    check_keys(s, ptr, {"type", "center", "size"});
    get_vec(s, ptr, "center", D, Range{});
    get_vec(s, ptr, "size", D, positive());
  } else if (type == "sphere") {
    check_keys(s, ptr, {"type", "center", "radius"});
    get_vec(s, ptr, "center", D, Range{});
    get_number(s, ptr, "radius", positive());
  } else if (type == "ellipsoid") {
    check_keys(s, ptr, {"type", "center", "radii"});
    get_vec(s, ptr, "center", D, Range{});
    get_vec(s, ptr, "radii", D, positive());
  } else if (type == "cylinder") {
    check_keys(s, ptr, {"type", "center", "radius", "height", "axis"});
    get_vec(s, ptr, "center", D, Range{});
    get_number(s, ptr, "radius", positive());
    get_number(s, ptr, "height", positive());
    get_choice(s, ptr, "axis", {"x", "y", "z"}, std::string("y"));
  } else if (type == "gaussians") {
    // checked, read and bounded in validate_objects (core/scene_gaussians.cpp)
  } else {
    std::vector<std::string> keys = {"type", "file", "scale", "rotate_deg", "translate", "sdf_dx"};
    if (type == "vdb") keys.push_back("grid");
    check_keys(s, ptr, keys);
    get_file(s, ptr, "file", ctx.doc->base_dir);
    if (type == "vdb") get_string(s, ptr, "grid", std::string());
    get_number(s, ptr, "scale", positive(), 1.0);
    get_vec(s, ptr, "rotate_deg", 3, Range{}, std::vector<double>{0, 0, 0});
    get_vec(s, ptr, "translate", 3, Range{}, std::vector<double>{0, 0, 0});
    get_number(s, ptr, "sdf_dx", positive(), ctx.dx / 2);
    ctx.doc->sdfs[ptr] = load_shape_sdf(s, ptr, false);
  }
}

}  // namespace

// objects: named bodies of one material each, sampled with particles; later objects replace earlier ones
// where they overlap.
void validate_objects(json& root, Context& ctx) {
  json& list = get_list(root, "", "objects", true, 1);
  const int D = ctx.dim;
  std::vector<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string ptr = child("/objects", i);
    json& o = list[i];
    check_keys(o, ptr, {"name", "material", "shape", "sampling", "velocity", "angular_velocity"});
    // name (unique) and material reference
    const std::string name = get_string(o, ptr, "name", "object_" + std::to_string(i));
    for (size_t k = 0; k < names.size(); ++k)
      if (names[k] == name)
        fail_at(child(ptr, "name"),
                "duplicate object name '" + name + "' (also " + child("/objects", k) + ")");
    names.push_back(name);
    const std::string mat = get_string(o, ptr, "material");
    if (std::find(ctx.materials.begin(), ctx.materials.end(), mat) == ctx.materials.end()) {
      std::string declared;
      for (const auto& m : ctx.materials) declared += (declared.empty() ? "" : ", ") + m;
      fail_at(child(ptr, "material"), "unknown material '" + mat + "' (declared: " + declared + ")");
    }
    validate_shape(o, ptr, ctx);
    // sampling
    const std::string sptr = child(ptr, "sampling");
    json& smp = get_section(o, ptr, "sampling", false);
    check_keys(smp, sptr, {"ppc", "method", "seed"});
    get_int(smp, sptr, "ppc", 1, 1000, D == 3 ? 8 : 4);
    get_choice(smp, sptr, "method", {"regular", "jittered"}, std::string("regular"));
    get_int(smp, sptr, "seed", 0, std::numeric_limits<int>::max(), 0);
    // initial velocity: linear plus angular about the centre of mass
    std::vector<double> v = get_vec(o, ptr, "velocity", D, Range{}, std::vector<double>(size_t(D), 0.0));
    std::vector<double> w = get_angular(o, ptr, "angular_velocity", D, 0.0);
    // the solid (or the Gaussians' centres) must lie inside the domain
    double lo[3], hi[3];
    if (o["shape"]["type"] == "gaussians") {
      validate_gaussians_shape(o["shape"], child(ptr, "shape"), ctx, lo, hi);
    } else {
      auto it = ctx.doc->sdfs.find(child(ptr, "shape"));
      SolidShape solid = object_solid(o["shape"], D, it == ctx.doc->sdfs.end() ? nullptr : it->second.get());
      if (!solid.bounds(lo, hi))
        fail_at(child(ptr, "shape"), "the shape has no inside (no negative distances)");
    }
    const double tol = 1e-9 * ctx.dx;
    for (int d = 0; d < D; ++d)
      if (lo[d] < ctx.lo[d] - tol || hi[d] > ctx.hi[d] + tol)
        fail_at(child(ptr, "shape"), std::string("lies outside the domain: its ") + kAxisNames[d] +
                                         " extent [" + show_number(lo[d]) + ", " + show_number(hi[d]) +
                                         "] is not inside [" + show_number(ctx.lo[d]) + ", " +
                                         show_number(ctx.hi[d]) + "]");
    // largest initial speed: |v| + |w| * (diagonal of the bounds), a bound for any centre of mass inside
    double vn = 0, wn = 0, diag = 0;
    for (int d = 0; d < D; ++d) vn += v[size_t(d)] * v[size_t(d)], diag += (hi[d] - lo[d]) * (hi[d] - lo[d]);
    for (int d = 0; d < 3; ++d) wn += w[size_t(d)] * w[size_t(d)];
    ctx.speed = std::max(ctx.speed, std::sqrt(vn) + std::sqrt(wn) * std::sqrt(diag));
  }
}

}  // namespace ductile::scene_detail
