// `ductile fit --resume` after the fit was killed with SIGKILL at an arbitrary moment: the same iterates, bit
// for bit, as an uninterrupted fit (fit_state.json and every output are replaced atomically each iteration).
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <string>

#include "apps/run_cli.h"
#include "apps/throw_scene.h"
#include "hardening/process.h"
#include "io/temp_dir.h"

namespace fs = std::filesystem;
using namespace ductile;
using ductile::test::Result;
using ductile::test::run_ductile;

namespace {

// The shared 2D jelly throw (tests/apps/throw_scene.h), fitting E and nu.
const std::string kScene = test::throw_scene(R"(["materials/jelly/E", "materials/jelly/nu"])");

// Iterations recorded in a fit's state file so far (0 while there is none or it does not parse).
size_t iterations_saved(const std::string& file) {
  if (!fs::exists(file)) return 0;
  const auto j = nlohmann::json::parse(test::read_text(file), nullptr, false);
  return j.is_object() && j.contains("history") ? j["history"].size() : 0;
}

}  // namespace

TEST_CASE("fit killed with SIGKILL mid-way resumes to the same iterates as an uninterrupted fit") {
  test::TempDir dir;
  test::write_text(dir.file("throw.json"), kScene);
  REQUIRE(run_ductile(dir, "simulate throw.json --out truth --set materials.jelly.E=8e3 -q").code == 0);
  const std::string args = "fit throw.json --observed truth --optimizer adam --lr 0.1 --iterations 12 -q";
  const Result whole = run_ductile(dir, args + " --out whole");
  INFO("stderr: " << whole.err);
  REQUIRE(whole.code == 0);
  const pid_t pid =
      test::spawn_ductile(dir, {"fit", "throw.json", "--observed", "truth", "--optimizer", "adam", "--lr",
                                "0.1", "--iterations", "12", "-q", "--out", "killed"});
  const std::string state = dir.file("killed/fit_state.json");
  REQUIRE(test::wait_until([&] { return iterations_saved(state) >= 4; }, pid));
  const int status = test::stop(pid, SIGKILL);
  REQUIRE(WIFSIGNALED(status));
  // killed before its end (13 records: the start and 12 iterations)
  REQUIRE(iterations_saved(state) < 13);
  const Result resumed = run_ductile(dir, args + " --out killed --resume");
  INFO("resume stderr: " << resumed.err);
  REQUIRE(resumed.code == 0);
  CHECK(test::read_text(dir.file("killed/history.csv")) == test::read_text(dir.file("whole/history.csv")));
  CHECK(test::read_text(dir.file("killed/fitted_scene.json")) ==
        test::read_text(dir.file("whole/fitted_scene.json")));
}
