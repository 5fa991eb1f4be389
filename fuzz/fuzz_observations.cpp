// libFuzzer harness: observed motion for `ductile fit`. The first byte picks the form (CSV file or a
// directory of PLY frames) and the dimension; a PLY directory gets up to three frames split at "\nFRAME\n".
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/observations.h"
#include "fuzz/fuzz_util.h"

// Every loss term of the observations on a state of n particles at rest.
template <int D>
void evaluate(const ductile::Observations& obs, int n) {
  ductile::State<double, D> s;
  s.resize(n);
  std::vector<double> ax(size_t(D) * n), av(size_t(D) * n);
  for (const auto& loss : ductile::observation_losses<double, D>(obs, 1, 4))
    for (int64_t step : loss->steps()) loss->evaluate(step, s, ax, av);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int mode = data[0] & 1, dim = (data[0] & 2) ? 3 : 2, particles = 8;
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string path;
  if (mode == 0) {
    path = ductile::fuzz::put("obs.csv", data + 1, size - 1);
  } else {
    const auto dir = ductile::fuzz::work_dir() / "frames";
    std::filesystem::remove_all(dir);
    size_t start = 0;
    for (int f = 0; f < 3 && start <= body.size(); ++f) {
      size_t end = body.find("\nFRAME\n", start);
      if (end == std::string::npos) end = body.size();
      const std::string name = "frames/frame_0000" + std::to_string(f) + ".ply";
      ductile::fuzz::put(name, reinterpret_cast<const uint8_t*>(body.data()) + start, end - start);
      start = end + 7;
    }
    path = dir.string();
  }
  return ductile::fuzz::expect_clean([&] {
    const auto obs = ductile::load_observations(path, dim, particles);
    // the losses index the scene's particles: build and evaluate them as fit does
    if (dim == 2)
      evaluate<2>(obs, particles);
    else
      evaluate<3>(obs, particles);
  });
}
