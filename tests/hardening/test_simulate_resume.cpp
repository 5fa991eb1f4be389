// Crash safety of `ductile simulate`: a run killed with SIGKILL at an arbitrary moment, or stopped by SIGINT
// or SIGTERM, continues with --resume and writes the same frames, byte for byte, as an uninterrupted run.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <string>
#include <vector>

#include "apps/run_cli.h"
#include "hardening/process.h"
#include "io/temp_dir.h"

namespace fs = std::filesystem;
using namespace ductile;
using ductile::test::read_json;
using ductile::test::Result;
using ductile::test::run_ductile;

namespace {

// A 2D jelly block of 1,440 particles falling on the floor, 40 frames of 25 steps: long enough to be stopped
// mid-way (about a second), with checkpoints every 3 frames.
const char* kScene = R"json({
  "format": 1, "name": "resume", "dimension": 2,
  "domain": {"min": [0, 0], "max": [1, 1], "dx": 0.02},
  "time": {"dt": 1e-4, "frame_dt": 0.0025, "frames": 40},
  "gravity": [0, -9.81],
  "materials": [{"name": "jelly", "model": "fixed_corotated", "E": 2e4, "nu": 0.3, "density": 1000}],
  "objects": [{"name": "block", "material": "jelly", "velocity": [0.3, -2],
               "shape": {"type": "box", "center": [0.5, 0.3], "size": [0.6, 0.24]},
               "sampling": {"ppc": 4, "method": "jittered"}}]
}
)json";

const char* kArgs = " --backend cpu --threads 2 --quiet --checkpoint-every 3";

// `ductile simulate scene.json --out OUT` with kArgs, in the background.
pid_t spawn(const test::TempDir& dir, const std::string& out) {
  return test::spawn_ductile(dir, {"simulate", "scene.json", "--out", out, "--backend", "cpu", "--threads",
                                   "2", "--quiet", "--checkpoint-every", "3"});
}

// Waits until `file` exists (or the process ended); true when it exists.
bool wait_for(const fs::path& file, pid_t pid) {
  return test::wait_until([&] { return fs::exists(file); }, pid);
}

// Every frame of run a equals the same frame of run b byte for byte; and the frame statistics agree.
void check_same_frames(const fs::path& a, const fs::path& b, int frames) {
  for (int f = 0; f <= frames; ++f) {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%05d.ply", f);
    INFO("frame " << f);
    REQUIRE(fs::exists(b / "particles" / name));
    CHECK(test::read_text((a / "particles" / name).string()) ==
          test::read_text((b / "particles" / name).string()));
  }
  const auto sa = read_json((a / "summary.json").string()), sb = read_json((b / "summary.json").string());
  CHECK(sb["status"] == "completed");
  CHECK(sa["steps"] == sb["steps"]);
  CHECK(sa["frame_stats"] == sb["frame_stats"]);
  for (const auto& e : fs::recursive_directory_iterator(b))
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}

}  // namespace

TEST_CASE("simulate killed with SIGKILL mid-way resumes bit-identical to an uninterrupted run") {
  test::TempDir dir;
  test::write_text(dir.file("scene.json"), kScene);
  const Result whole = run_ductile(dir, std::string("simulate scene.json --out whole") + kArgs);
  INFO("stderr: " << whole.err);
  REQUIRE(whole.code == 0);
  // killed at an arbitrary moment after its first checkpoint (frame 3): mid-step, mid-frame or mid-write
  const pid_t pid = spawn(dir, "killed");
  REQUIRE(wait_for(dir.path() / "killed" / "particles" / "frame_00007.ply", pid));
  const int status = test::stop(pid, SIGKILL);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  REQUIRE(fs::exists(dir.path() / "killed" / "checkpoint.bin"));
  // the kill came before the end
  REQUIRE_FALSE(fs::exists(dir.path() / "killed" / "particles" / "frame_00040.ply"));
  CHECK(read_json(dir.file("killed/summary.json"))["status"] == "running");
  const Result resumed = run_ductile(dir, std::string("simulate scene.json --out killed --resume") + kArgs);
  INFO("resume stderr: " << resumed.err);
  REQUIRE(resumed.code == 0);
  CHECK(resumed.err.find("resuming after frame") != std::string::npos);
  check_same_frames(dir.path() / "whole", dir.path() / "killed", 40);
}

TEST_CASE("SIGINT and SIGTERM finish the frame, leave a checkpoint, status 'interrupted' and exit code 130") {
  test::TempDir dir;
  test::write_text(dir.file("scene.json"), kScene);
  const Result whole = run_ductile(dir, std::string("simulate scene.json --out whole") + kArgs);
  REQUIRE(whole.code == 0);
  for (int sig : {SIGINT, SIGTERM}) {
    const std::string out = sig == SIGINT ? "int" : "term";
    INFO("signal " << sig);
    const pid_t pid = spawn(dir, out);
    REQUIRE(wait_for(dir.path() / out / "particles" / "frame_00002.ply", pid));
    const int status = test::stop(pid, sig);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 130);
    const auto s = read_json((dir.path() / out / "summary.json").string());
    CHECK(s["status"] == "interrupted");
    // the checkpoint is at the last frame written: nothing after it, nothing lost
    const int last = s["frame_stats"].back()["frame"].get<int>();
    CHECK(last < 40);
    CHECK(fs::exists(dir.path() / out / "checkpoint.bin"));
    const Result resumed = run_ductile(dir, "simulate scene.json --out " + out + " --resume" + kArgs);
    INFO("resume stderr: " << resumed.err);
    REQUIRE(resumed.code == 0);
    CHECK(resumed.err.find("resuming after frame " + std::to_string(last)) != std::string::npos);
    check_same_frames(dir.path() / "whole", dir.path() / out, 40);
  }
}

TEST_CASE("simulate --resume refuses a missing checkpoint, another scene and a corrupted file") {
  test::TempDir dir;
  test::write_text(dir.file("scene.json"), kScene);
  Result r = run_ductile(dir, std::string("simulate scene.json --out run --resume") + kArgs);
  CHECK(r.code == 1);
  CHECK(r.err.find("no checkpoint") != std::string::npos);
  r = run_ductile(dir, std::string("simulate scene.json --out run --frames 6") + kArgs);
  REQUIRE(r.code == 0);
  REQUIRE(fs::exists(dir.path() / "run" / "checkpoint.bin"));
  // another scene: a --set override changes it
  r = run_ductile(dir, std::string("simulate scene.json --out run --resume --set gravity=[0,-5]") + kArgs);
  CHECK(r.code == 1);
  CHECK(r.err.find("different scene") != std::string::npos);
  // a completed run has nothing to resume, unless --frames extends it
  r = run_ductile(dir, std::string("simulate scene.json --out run --resume --frames 6") + kArgs);
  CHECK(r.code == 1);
  CHECK(r.err.find("nothing left to simulate") != std::string::npos);
  r = run_ductile(dir, std::string("simulate scene.json --out run --resume --frames 8") + kArgs);
  CHECK(r.code == 0);
  CHECK(fs::exists(dir.path() / "run" / "particles" / "frame_00008.ply"));
  CHECK(read_json(dir.file("run/summary.json"))["frame_stats"].size() == 9);
  // a flipped byte
  std::string bytes = test::read_text(dir.file("run/checkpoint.bin"));
  bytes[bytes.size() / 2] ^= 1;
  test::write_text(dir.file("run/checkpoint.bin"), bytes);
  r = run_ductile(dir, std::string("simulate scene.json --out run --resume") + kArgs);
  CHECK(r.code == 1);
  CHECK(r.err.find("corrupted") != std::string::npos);
  // truncated
  test::write_text(dir.file("run/checkpoint.bin"), bytes.substr(0, 40));
  r = run_ductile(dir, std::string("simulate scene.json --out run --resume") + kArgs);
  CHECK(r.code == 1);
  CHECK(r.err.find("checkpoint") != std::string::npos);
}
