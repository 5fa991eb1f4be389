// libFuzzer harness: checkpoint files (core/io/checkpoint_file.h) as `simulate --resume` reads them: the
// container, then the simulator's state restored into the run of a small fixed scene (fuzz/corpus/checkpoint
// holds a checkpoint of this scene, written by `ductile simulate`).
#include <cstdint>
#include <memory>
#include <string>

#include "core/io/checkpoint_file.h"
#include "core/scene.h"
#include "core/simulator.h"
#include "fuzz/fuzz_util.h"

namespace {

const char* kScene = R"json({"format": 1, "dimension": 2,
 "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.1}, "time": {"dt": 1e-3, "frame_dt": 0.01, "frames": 2},
 "materials": [{"name": "m", "model": "fixed_corotated", "E": 1e4, "nu": 0.3, "density": 1000}],
 "objects": [{"name": "b", "material": "m", "shape": {"type": "box", "center": [0.5, 0.5], "size": [0.2, 0.2]},
              "sampling": {"ppc": 1}}]})json";

struct Fixture {
  ductile::SceneDocument doc = ductile::load_scene_text(kScene, ".");
  ductile::SceneData<float, 2> data = ductile::build_scene<float, 2>(doc);
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fx;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  return ductile::fuzz::expect_clean([&] {
    const auto c = ductile::io::parse_checkpoint(bytes, "fuzz.ckpt");
    ductile::Simulator<float, 2> sim(fx.data.model, ductile::Device::kCpu);
    sim.set_state(fx.data.state);
    sim.restore(c, "fuzz.ckpt");
    // a restored state must step (or fail with an Error naming the fault)
    sim.step();
  });
}
