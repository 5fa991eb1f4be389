// libFuzzer harness: scene JSON, parsed, validated and built (materials, colliders, sampled particles) under
// a 20 MB memory limit, as `ductile simulate` does before its first step. Relative files resolve in scenes/.
// The limit bounds each input's work too: a mesh's distance field within it (~0.9 M nodes) takes about 5 s
// in the instrumented build, under the 10 s per input of scripts/fuzz.sh.
#include <cstdint>
#include <string>

#include "core/resources.h"
#include "core/scene.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16 * 1024) return 0;
  ductile::set_memory_limit(20e6);
  const std::string text(reinterpret_cast<const char*>(data), size);
  return ductile::fuzz::expect_clean([&] {
    const auto doc = ductile::load_scene_text(text, DUCTILE_SOURCE_DIR "/scenes", {}, "fuzz.json");
    if (doc.dim == 2)
      ductile::build_scene<float, 2>(doc);
    else
      ductile::build_scene<float, 3>(doc);
  });
}
