// LibTorch as a plugin (core/torch_plugin.h), seen from the `ductile` process: it starts without LibTorch,
// loads the plugin when a scene names a neural material (the one beside a copied executable first), and names
// a plugin that fails to load in its errors.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "apps/run_cli.h"
#include "apps/throw_scene.h"
#include "io/temp_dir.h"

using namespace ductile;
using ductile::test::Result;
using ductile::test::run_ductile;

#ifdef DUCTILE_WITH_TORCH
namespace {

// The shared 2D jelly throw, and the same with a fresh (stress-free) network in place of the jelly.
void write_scenes(const test::TempDir& dir) {
  test::write_text(dir.file("jelly.json"), test::throw_scene());
  std::string scene = test::throw_scene(R"(["materials/jelly/weights"])");
  const std::string jelly = R"("model": "fixed_corotated", "E": 2e3, "nu": 0.3, "density": 1000)";
  scene.replace(scene.find(jelly), jelly.size(),
                R"("model": "neural", "density": 1000, "wave_speed": 3, "stress_scale": 8e3)");
  test::write_text(dir.file("neural.json"), scene);
}

// Whether the dynamic loader's log (LD_DEBUG=files, on standard error) shows LibTorch being loaded.
bool loaded_torch(const Result& r) {
  return r.err.find("libtorch_cpu.so") != std::string::npos;
}

}  // namespace

TEST_CASE(
    "torch plugin: ductile runs analytic scenes without loading LibTorch, and loads it for a neural one") {
  test::TempDir dir;
  write_scenes(dir);
  const Result plain = run_ductile(dir, "simulate jelly.json --out a -q", "LD_DEBUG=files");
  INFO("analytic scene: exit " << plain.code);
  CHECK(plain.code == 0);
  CHECK_FALSE(loaded_torch(plain));
  // the loader's log shows every library loaded: the check above can see LibTorch when it is there
  const Result neural = run_ductile(dir, "simulate neural.json --out n -q", "LD_DEBUG=files");
  INFO("neural scene: exit " << neural.code);
  CHECK(neural.code == 0);
  CHECK(loaded_torch(neural));
  CHECK(test::read_json(dir.file("n/summary.json"))["status"] == "completed");
}

TEST_CASE(
    "torch plugin: one that fails to load is named, with the loader's reason, where LibTorch is needed") {
  test::TempDir dir;
  write_scenes(dir);
  const std::string missing = "DUCTILE_TORCH_PLUGIN=" + dir.file("no_such_plugin.so");
  // nothing else needs it
  CHECK(run_ductile(dir, "simulate jelly.json --out a -q", missing).code == 0);
  const Result r = run_ductile(dir, "simulate neural.json --out n -q", missing);
  INFO("stderr: " << r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find("unknown material model 'neural'") != std::string::npos);
  CHECK(r.err.find("LibTorch plugin " + dir.file("no_such_plugin.so") + " failed to load") !=
        std::string::npos);
  CHECK(r.err.find("No such file") != std::string::npos);
  const Result v = run_ductile(dir, "version", missing);
  CHECK(v.code == 0);
  CHECK(v.out.find("libtorch: LibTorch plugin " + dir.file("no_such_plugin.so") + " failed to load") !=
        std::string::npos);
  // the plugin that was built is found without the variable
  const Result built = run_ductile(dir, "version");
  CHECK(built.out.find("libtorch 2.") != std::string::npos);
}

TEST_CASE("torch plugin: a copy of ductile loads the plugin copied beside it") {
  namespace fs = std::filesystem;
  test::TempDir dir;
  write_scenes(dir);
  const fs::path built = fs::path(DUCTILE_BINARY).parent_path() / "libductile_torch.so";
  REQUIRE(fs::is_regular_file(built));
  fs::create_directory(dir.file("bin"));
  fs::copy_file(DUCTILE_BINARY, dir.file("bin/ductile"));
  fs::copy_file(built, dir.file("bin/libductile_torch.so"));
  const std::string cmd = "cd '" + dir.path().string() +
                          "' && env LD_DEBUG=files bin/ductile simulate neural.json --out n -q 2>'" +
                          dir.file("stderr.txt") + "'";
  CHECK(std::system(cmd.c_str()) == 0);
  const std::string log = test::read_text(dir.file("stderr.txt"));
  CHECK(log.find("file=" + dir.file("bin/libductile_torch.so")) != std::string::npos);
  CHECK(log.find("file=" + built.string()) == std::string::npos);
}
#endif
