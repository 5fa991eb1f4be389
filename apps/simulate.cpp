// `ductile simulate [SCENE]`: run a scene forward and write particles (PLY), volumes (VDB) and summary.json.
// Everything is loaded and checked before the first file is written; a failing step keeps the frames so far.
#include <omp.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/interrupt.h"
#include "apps/progress.h"
#include "apps/visual_outputs.h"
#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/checkpoint_file.h"
#include "core/io/ply.h"
#include "core/io/summary.h"
#include "core/io/vdb_volume.h"
#include "core/resources.h"
#include "core/scene.h"
#include "core/simulator.h"

namespace fs = std::filesystem;

namespace ductile::app {

namespace {

struct SimulateOptions {
  std::string scene;  // empty: the embedded default scene
  std::string out;    // empty: out/<scene name>
  std::string backend = "auto";
  int threads = 0;  // 0: OpenMP's default
  int frames = -1;  // -1: the scene's
  std::vector<std::string> sets;
  bool quiet = false;
  bool preview = false;       // render each frame and make an MP4
  int checkpoint_every = 10;  // frames between checkpoints (0: only when interrupted)
  bool resume = false;
  std::string max_memory;  // empty: the memory available
};

// "frame_00012.ply"
std::string frame_file(int frame, const char* ext) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "frame_%05d.%s", frame, ext);
  return buf;
}

// Removes frame files of an earlier run in `dir` so a sequence never mixes two runs; returns how many.
int remove_old_frames(const fs::path& dir, const char* ext) {
  if (!fs::is_directory(dir)) return 0;
  const std::regex pattern(std::string("frame_[0-9]{5}\\.") + ext);
  int removed = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && std::regex_match(e.path().filename().string(), pattern)) {
      fs::remove(e.path());
      ++removed;
    }
  return removed;
}

// Removes frame files numbered above `frame` in `dir`; returns how many.
int remove_frames_after(const fs::path& dir, const char* ext, int frame) {
  if (!fs::is_directory(dir)) return 0;
  const std::regex pattern(std::string("frame_([0-9]{5})\\.") + ext);
  int removed = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && std::regex_match(name, m, pattern) && std::stoi(m[1].str()) > frame) {
      fs::remove(e.path());
      ++removed;
    }
  }
  return removed;
}

// The scene's "name" (letters, digits, '-', '_', '.'; others become '_'), else the file's stem.
std::string scene_name(const SceneDocument& doc, const std::string& file) {
  std::string name;
  if (doc.json.contains("name") && doc.json["name"].is_string()) name = doc.json["name"].get<std::string>();
  if (name.empty() || name == "." || name == "..")
    name = file.empty() ? "default" : fs::path(file).stem().string();
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return name;
}

// A loaded, validated scene of dimension D and the run's settings, ready to simulate.
template <int D>
class Run {
 public:
  Run(const SimulateOptions& o, const SceneDocument& doc, Device dev, const fs::path& out)
      : o_(o), doc_(doc), data_(build_scene<float, D>(doc)), dev_(dev), out_(out) {
    for (const auto& w : data_.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (o.frames >= 0) data_.model.frames = o.frames;
    // the simulator checks the state against the model before anything is written
    sim_ = std::make_unique<Simulator<float, D>>(data_.model, dev_);
    sim_->set_state(data_.state);
    visual_ = std::make_unique<VisualOutputs<D>>(doc, data_, out, o.preview);
    write_vdb_ = doc.outputs.vdb && D == 3;
    voxel_ = doc.outputs.vdb_voxel > 0 ? doc.outputs.vdb_voxel : double(data_.model.grid.dx);
    every_ = std::max(1, doc.outputs.every_n_frames);
    s_.scene = doc.path;
    s_.out_dir = out.string();
    s_.backend = device_name(dev);
    s_.threads = omp_get_max_threads();
    s_.dim = D;
    s_.dt = double(data_.model.dt);
    s_.steps_per_frame = data_.model.steps_per_frame;
    s_.frames_planned = data_.model.frames;
    s_.particles = data_.state.n;
    for (size_t m = 0; m < data_.model.material_names.size(); ++m)
      legend_.push_back("material " + std::to_string(m) + " " + data_.model.material_names[m]);
    for (size_t k = 0; k < data_.object_names.size(); ++k)
      legend_.push_back("object " + std::to_string(k) + " " + data_.object_names[k]);
    if (doc.outputs.vdb && D == 2)
      s_.notes.push_back("VDB volumes are written for 3D scenes only; skipped in 2D");
  }

  // Simulates and writes every frame; returns the exit code (0, 2 when the simulation failed, 130 when
  // interrupted).
  int execute() {
    // a resumed run continues after the checkpoint's frame; a fresh one starts with frame 0
    const int first = o_.resume ? resume() + 1 : 1;
    if (!o_.resume) {
      prepare_dirs();
      io::write_file_atomic((out_ / "scene.json").string(), doc_.json.dump(2) + "\n");
    }
    install_interrupt_handlers();  // SIGINT, SIGTERM: finish the frame, checkpoint, exit 130
    Progress progress(data_.model.frames, data_.model.steps_per_frame, data_.state.n, o_.quiet);
    try {
      if (!o_.resume) write_frame(0, data_.state);
      State<float, D> st;
      for (int f = first; f <= data_.model.frames; ++f) {
        for (int k = 0; k < data_.model.steps_per_frame; ++k) {
          sim_->step();
          progress.tick(sim_->time(), sim_->steps());
        }
        progress.update(f, sim_->time(), sim_->steps());
        s_.steps = sim_->steps();
        s_.wall_seconds = wall0_ + progress.elapsed_seconds();
        if (f % every_ == 0) {
          sim_->get_state(st);
          object_indices(st);
          write_frame(f, st);
        }
        // the frame is whole: a checkpoint now (periodically, or because a signal asked the run to stop)
        if (interrupt_signal() ||
            (o_.checkpoint_every > 0 && (f % o_.checkpoint_every == 0 || f == data_.model.frames)))
          save_checkpoint(f);
        if (interrupt_signal()) return interrupted(progress, f);
      }
    } catch (const std::exception& e) {
      progress.finish();
      s_.status = std::string("failed: ") + e.what();
      visual_->finish(s_.notes);
      finish_summary(progress);
      std::fprintf(stderr, "error: %s\n", e.what());
      std::fprintf(stderr, "kept %zu frame(s) written before the failure in %s\n", s_.frames.size(),
                   out_.string().c_str());
      return 2;
    }
    progress.finish();
    s_.status = "completed";
    visual_->finish(s_.notes);
    finish_summary(progress);
    report();
    return 0;
  }

 private:
  // The object of each particle (after policy 'delete' removed some, through their initial indices).
  void object_indices(State<float, D>& st) const {
    const auto& origin = sim_->original_index();
    if (origin.empty()) {
      st.object = data_.state.object;
      return;
    }
    st.object.resize(size_t(st.n));
    for (int p = 0; p < st.n; ++p) {
      if (origin[p] >= data_.state.n) fail("simulator", "a particle's initial index is out of range");
      st.object[p] = data_.state.object[origin[p]];
    }
  }

  // The checkpoint file of this output directory.
  fs::path checkpoint_path() const { return out_ / "checkpoint.bin"; }

  // The simulator's full state after frame f, the summary so far and the scene's digest, atomically.
  void save_checkpoint(int f) {
    io::CheckpointFile c;
    c.kind = "simulate";
    sim_->save(c);
    c.meta["frame"] = f;
    c.meta["scene_digest"] = std::to_string(io::fnv1a64(doc_.json.dump()));
    c.meta["wall_seconds"] = s_.wall_seconds;
    nlohmann::json frames = nlohmann::json::array();
    for (const auto& fs : s_.frames)
      frames.push_back(
          {fs.frame, fs.time, fs.mass, fs.momentum[0], fs.momentum[1], fs.momentum[2], fs.kinetic_energy});
    c.meta["frame_stats"] = frames;
    io::write_checkpoint(checkpoint_path().string(), c);
  }

  // Restores the checkpoint of out_ (same scene, same overrides) and returns its frame; frames written after
  // it by the run that stopped are removed (they are written again, identically).
  int resume() {
    const std::string file = checkpoint_path().string();
    if (!fs::is_regular_file(file))
      fail("--resume", "no checkpoint in " + out_.string() + " (checkpoint.bin); run without --resume");
    const io::CheckpointFile c = io::read_checkpoint(file, "simulate");
    const auto& m = c.meta;
    if (!m.contains("scene_digest") || m["scene_digest"] != std::to_string(io::fnv1a64(doc_.json.dump())))
      fail(file, "written for a different scene or different --set overrides; resume with the same ones");
    if (!m.contains("frame") || !m["frame"].is_number_integer() || !m.contains("frame_stats") ||
        !m["frame_stats"].is_array())
      fail(file, "checkpoint lacks its frame or frame statistics");
    const int frame = m["frame"].get<int>();
    if (frame < 0 || frame >= data_.model.frames)
      fail("--resume", "the checkpoint is at frame " + std::to_string(frame) + " of " +
                           std::to_string(data_.model.frames) +
                           ": nothing left to simulate (a larger --frames extends the run)");
    sim_->restore(c, file);
    for (const auto& a : m["frame_stats"]) {
      if (!a.is_array() || a.size() != 7) fail(file, "malformed frame statistics");
      io::FrameStats t;
      t.frame = a[0].get<int>(), t.time = a[1].get<double>(), t.mass = a[2].get<double>();
      for (int d = 0; d < 3; ++d) t.momentum[d] = a[3 + d].get<double>();
      t.kinetic_energy = a[6].get<double>();
      s_.frames.push_back(t);
    }
    wall0_ = m.value("wall_seconds", 0.0);
    int removed = remove_frames_after(out_ / "particles", "ply", frame) +
                  remove_frames_after(out_ / "volumes", "vdb", frame);
    // temporaries a killed run left behind (core/io/atomic_file.h names them path.tmp-<pid>)
    std::vector<fs::path> stale;
    for (const auto& e : fs::recursive_directory_iterator(out_))
      if (e.is_regular_file() && e.path().filename().string().find(".tmp-") != std::string::npos)
        stale.push_back(e.path());
    for (const auto& p : stale) removed += int(fs::remove(p));
    std::fprintf(stderr, "note: resuming after frame %d (step %lld) from %s%s\n", frame,
                 (long long)sim_->steps(), file.c_str(),
                 removed
                     ? (", " + std::to_string(removed) + " later frame or temporary file(s) removed").c_str()
                     : "");
    return frame;
  }

  // A stopped run: the frames so far, a resumable checkpoint, status "interrupted", exit code 130.
  int interrupted(Progress& progress, int frame) {
    progress.finish();
    s_.status = "interrupted";
    finish_summary(progress);
    std::fprintf(stderr,
                 "interrupted by %s after frame %d: wrote a checkpoint; continue with the same command and "
                 "--resume\n",
                 interrupt_signal_name(), frame);
    return kInterruptedExitCode;
  }

  void prepare_dirs() {
    fs::create_directories(out_);
    int removed = 0;
    if (doc_.outputs.ply) fs::create_directories(out_ / "particles");
    if (write_vdb_) fs::create_directories(out_ / "volumes");
    removed += remove_old_frames(out_ / "particles", "ply");
    removed += remove_old_frames(out_ / "volumes", "vdb");
    removed += visual_->prepare();
    if (removed)
      std::fprintf(stderr, "note: removed %d frame file(s) of an earlier run in %s\n", removed, out_.c_str());
  }

  // PLY and VDB of one frame, then the summary with its totals.
  void write_frame(int frame, const State<float, D>& st) {
    std::vector<std::string> comments = legend_;
    comments.insert(comments.begin(),
                    "ductile frame " + std::to_string(frame) + " time " + std::to_string(st.time));
    if (doc_.outputs.ply)
      io::write_ply((out_ / "particles" / frame_file(frame, "ply")).string(),
                    io::particle_table(st, doc_.outputs.state), comments);
    if (write_vdb_) {
      if constexpr (D == 3)
        io::write_vdb_volume((out_ / "volumes" / frame_file(frame, "vdb")).string(), st, voxel_, st.time);
    }
    visual_->write(frame, st);
    s_.frames.push_back(io::frame_stats(frame, st));
    io::write_summary((out_ / "summary.json").string(), s_);
  }

  // The final summary; a failure to write it must not hide the simulation's own error.
  void finish_summary(const Progress& progress) {
    if (const int64_t k = sim_->boundary_events())
      s_.notes.push_back(
          std::to_string(k) + " particle(s) " +
          (data_.model.boundary_policy == BoundaryPolicy::kClamp ? "clamped to" : "deleted at") +
          " the domain boundary (domain.boundary.policy)");
    s_.steps = sim_->steps();
    s_.wall_seconds = wall0_ + progress.elapsed_seconds();
    try {
      io::write_summary((out_ / "summary.json").string(), s_);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
    }
  }

  // Where the frames went and how fast the run was.
  void report() const {
    const size_t n = s_.frames.size();
    if (doc_.outputs.ply) std::printf("wrote %zu PLY frame(s) to %s\n", n, (out_ / "particles").c_str());
    if (write_vdb_) std::printf("wrote %zu VDB volume(s) to %s\n", n, (out_ / "volumes").c_str());
    for (const auto& note : s_.notes) std::printf("note: %s\n", note.c_str());
    std::printf("summary: %s\n", (out_ / "summary.json").c_str());
    const double rate = s_.wall_seconds > 0 ? double(s_.particles) * double(s_.steps) / s_.wall_seconds : 0;
    std::printf("%d particles, %lld steps in %.3g s on %s: %.3g particle-steps/s\n", s_.particles,
                (long long)s_.steps, s_.wall_seconds, s_.backend.c_str(), rate);
  }

  const SimulateOptions& o_;
  const SceneDocument& doc_;
  SceneData<float, D> data_;
  Device dev_;
  fs::path out_;
  std::unique_ptr<Simulator<float, D>> sim_;
  std::unique_ptr<VisualOutputs<D>> visual_;  // previews, splats, meshes
  bool write_vdb_ = false;
  double voxel_ = 0;
  int every_ = 1;
  double wall0_ = 0;  // wall time of the runs before a resume
  io::RunSummary s_;
  std::vector<std::string> legend_;  // PLY comments naming the material and object indices
};

int simulate(const SimulateOptions& o) {
  // load, override and validate the scene (under the memory limit: its meshes, VDB grids and splats are
  // read then); nothing is written before it and the run are known to be good
  set_memory_limit(memory_limit_option(o.max_memory, "--max-memory"));
  SceneDocument doc;
  if (o.scene.empty()) {
    doc = load_scene_text(default_scene_text(), fs::current_path().string(), o.sets, "<default>");
  } else {
    if (!fs::is_regular_file(o.scene)) fail(o.scene, "no such scene file");
    doc = load_scene_file(o.scene, o.sets);
  }
  for (const auto& w : doc.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  const std::string name = scene_name(doc, o.scene);
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const Device dev = choose_device(o.backend);
  const fs::path out =
      fs::absolute(o.out.empty() ? fs::path("out") / name : fs::path(o.out)).lexically_normal();
  if (fs::exists(out) && !fs::is_directory(out))
    fail("--out", out.string() + " exists and is not a directory");
  if (doc.dim == 2) return Run<2>(o, doc, dev, out).execute();
  if (doc.dim == 3) return Run<3>(o, doc, dev, out).execute();
  fail("/dim", "expected 2 or 3, got " + std::to_string(doc.dim));
}

}  // namespace

Device choose_device(const std::string& backend) {
  if (backend == "cpu") return Device::kCpu;
  if (backend == "cuda") {
    if (!cuda_available()) fail("--backend cuda", "no usable CUDA device: " + cuda_device_description());
    return Device::kCuda;
  }
  return cuda_available() ? Device::kCuda : Device::kCpu;
}

void add_simulate_command(CLI::App& app) {
  auto o = std::make_shared<SimulateOptions>();
  auto* cmd = app.add_subcommand("simulate", "Run a scene forward and write particle and volume frames");
  cmd->add_option("scene", o->scene, "Scene JSON file (default: the embedded example scene)");
  cmd->add_option("--out,-o", o->out, "Output directory (default: out/<scene name>)");
  cmd->add_option("--backend", o->backend, "cpu, cuda or auto (cuda when available)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  cmd->add_option("--threads", o->threads, "OpenMP threads for the cpu backend")->check(CLI::Range(1, 4096));
  cmd->add_option("--frames", o->frames, "Frames to simulate after frame 0 (overrides the scene)")
      ->check(CLI::Range(0, 100000000));
  cmd->add_option("--set", o->sets,
                  "Override a scene value: path=value (JSON pointer or dotted path); repeatable")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("--quiet,-q", o->quiet, "No progress output");
  cmd->add_flag("--preview", o->preview,
                "Render each frame to OUT/render/frame_NNNNN.png and the run to OUT/render/video.mp4");
  cmd->add_option("--checkpoint-every", o->checkpoint_every,
                  "Frames between checkpoints (OUT/checkpoint.bin, for --resume); 0: only when interrupted")
      ->check(CLI::Range(0, 100000000));
  cmd->add_flag("--resume", o->resume,
                "Continue the run in --out from its checkpoint (same scene and --set); bit-identical on CPU");
  cmd->add_option(
      "--max-memory", o->max_memory,
      "Refuse runs estimated to need more memory than SIZE (e.g. 8GB; default: what is available)");
  cmd->callback([o] {
    const int code = simulate(*o);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace ductile::app
