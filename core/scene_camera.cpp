// Validation of the optional scene section "camera": how `ductile render` and `simulate --preview` look at
// the scene (docs/SCENE_FORMAT.md). Without it the renderer frames the domain automatically.
#include <cmath>

#include "core/error.h"
#include "core/scene_detail.h"

namespace ductile::scene_detail {

void validate_camera(json& root, Context& ctx) {
  if (!root.contains("camera")) return;
  const std::string ptr = "/camera";
  json& c = get_section(root, "", "camera", false);
  if (ctx.dim == 2) {
    check_keys(c, ptr, {"center", "height"});
    get_vec(c, ptr, "center", 2, Range{});
    get_number(c, ptr, "height", positive());
    return;
  }
  check_keys(c, ptr, {"position", "target", "up", "fov_deg"});
  const std::vector<double> p = get_vec(c, ptr, "position", 3, Range{});
  const std::vector<double> t = get_vec(c, ptr, "target", 3, Range{});
  const std::vector<double> up = get_vec(c, ptr, "up", 3, Range{}, std::vector<double>{0, 1, 0});
  get_number(c, ptr, "fov_deg", Range{0, 180, true, true, "vertical field of view"}, 35.0);
  // the view direction must be defined and not parallel to up
  const double d[3] = {t[0] - p[0], t[1] - p[1], t[2] - p[2]};
  const double dn = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
  if (!(dn > 0)) fail_at(child(ptr, "target"), "coincides with the camera's position");
  const double cr[3] = {d[1] * up[2] - d[2] * up[1], d[2] * up[0] - d[0] * up[2],
                        d[0] * up[1] - d[1] * up[0]};
  const double un = std::sqrt(up[0] * up[0] + up[1] * up[1] + up[2] * up[2]);
  if (!(std::sqrt(cr[0] * cr[0] + cr[1] * cr[1] + cr[2] * cr[2]) > 1e-9 * dn * un))
    fail_at(child(ptr, "up"), "is zero or parallel to the viewing direction (target - position)");
}

}  // namespace ductile::scene_detail
