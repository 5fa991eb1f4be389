// The scene the fit command tests share: a 2D jelly block thrown onto a floor, 8 frames of 5 steps, whose E
// (2e3) is the starting guess; `wrt` is the gradient section's parameter list as JSON.
#pragma once

#include <string>

namespace ductile::test {

inline std::string throw_scene(const std::string& wrt = R"(["materials/jelly/E"])") {
  return R"json({
  "format": 1, "name": "throw", "dimension": 2,
  "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.03125, "boundary": {"surface": "slip", "friction": 0.2}},
  "time": {"dt": 1e-3, "frame_dt": 0.005, "frames": 8},
  "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 2e3, "nu": 0.3, "density": 1000}],
  "objects": [{"name": "block", "material": "jelly", "velocity": [1, -2.5],
               "shape": {"type": "box", "center": [0.4, 0.3], "size": [0.15, 0.12]}}],
  "colliders": [{"name": "floor", "type": "plane", "point": [0, 0.21], "normal": [0, 1], "surface": "slip",
                 "friction": 0.3}],
  "gradient": {"wrt": )json" +
         wrt + R"json(}
})json";
}

}  // namespace ductile::test
