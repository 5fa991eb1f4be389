// `ductile fit SCENE --observed PATH --out DIR`: fit named parameters of a scene to observed motion with Adam
// or L-BFGS on the gradient tape. Per iteration it prints the loss, the gradient norm and the values, and
// rewrites (atomically) the history (CSV), a plot (SVG), the fitted scene (JSON) and the optimizer's state,
// so that `--resume` continues an interrupted fit exactly.
#include "core/fit.h"

#include <omp.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/history_plots.h"
#include "core/observations.h"
#include "core/optimizer.h"
#include "core/resources.h"
#include "core/scene.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace ductile::app {

namespace {

struct FitOptions {
  std::string scene, observed, out = "fit";
  std::vector<std::string> params, sets;
  std::string optimizer = "lbfgs";
  int iterations = 30;
  double lr = 0.1;
  double grad_clip = 0;
  double lr_decay = 1;
  int window = 0, grow_every = 10;  // growing windows of observed frames (0: all frames at once)
  bool teacher_forcing = false;     // windows start from the observed state (--window frames each)
  double tol = 0;                   // stop when the loss falls below
  int frames = -1, every = 1;
  bool chamfer = false;
  std::string checkpoint = "sqrt";
  std::string backend = "cpu";
  std::string precision = "double";
  bool resume = false, quiet = false;
  std::string max_memory;  // empty: the memory available (core/resources.h)
};

template <class T, int D>
class FitRun {
 public:
  FitRun(const FitOptions& o, const SceneDocument& doc, Device dev)
      : o_(o), doc_(doc), data_(build_scene<T, D>(doc)) {
    for (const auto& w : data_.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    last_frame_ = o.frames >= 0 ? o.frames : data_.model.frames;
    obs_ = load_observations(o.observed, D, data_.state.n);
    window_ = frames_at(0);
    const int64_t last_step = build_losses(window_);
    std::vector<FitParameterSpec> specs;
    for (const auto& p : o.params) specs.push_back(FitParameterSpec::parse(p, "--param"));
    fit_ = std::make_unique<Fit<T, D>>(data_, specs, ptrs_, last_step, dev,
                                       CheckpointPolicy::parse(o.checkpoint, "--checkpoint"));
    if (o.teacher_forcing) {
      if (o.window <= 0) fail("--teacher-forcing", "needs --window K (the frames per window)");
      build_windows(window_);
    }
    if (!o.quiet)
      std::fprintf(stderr, "fit: %zu observed frames from %s, %lld steps per evaluation, %zu unknowns\n",
                   losses_.size(), obs_.source.c_str(), (long long)last_step, fit_->names().size());
  }

  int execute() {
    fs::create_directories(o_.out);
    OptimizerOptions oo;
    oo.method = o_.optimizer, oo.learning_rate = o_.lr, oo.grad_clip = o_.grad_clip,
    oo.lr_decay = o_.lr_decay;
    oo.lo = fit_->lo(), oo.hi = fit_->hi();
    Optimizer opt(oo);
    const Objective f = [&](const std::vector<double>& u, std::vector<double>& g) {
      return fit_->objective(u, g);
    };
    const fs::path state_file = fs::path(o_.out) / "fit_state.json";
    if (o_.resume && fs::exists(state_file)) {
      const json st = json::parse(io_read(state_file.string()));
      if (st.at("names").get<std::vector<std::string>>() != fit_->names())
        fail(state_file.string(), "was written for other parameters; start afresh without --resume");
      opt.load(st.at("optimizer"));
      history_ = st.at("history");
      // the objective of the saved state: its window of frames
      if (st.at("window").get<int>() != window_) {
        window_ = st.at("window").get<int>();
        set_window_losses();
        if (o_.teacher_forcing) build_windows(window_);
      }
      if (!o_.quiet) std::fprintf(stderr, "resuming at iteration %d\n", opt.iteration());
    } else {
      opt.start(fit_->u_now(), f);
      record(opt);
      save(opt);
    }
    while (opt.iteration() < o_.iterations && !(opt.value() < o_.tol)) {
      // a longer window of observed frames: a new objective from the current values
      if (const int w = frames_at(opt.iteration()); w != window_) {
        window_ = w;
        set_window_losses();
        if (o_.teacher_forcing) build_windows(window_);
        opt.restart(f);
        if (!o_.quiet && o_.teacher_forcing)
          std::fprintf(stderr, "windows: %zu of %d frames, loss %.6e\n", windows_.size(), window_,
                       opt.value());
        else if (!o_.quiet)
          std::fprintf(stderr, "window: frames 1..%d, loss %.6e\n", window_, opt.value());
      }
      if (!opt.iterate(f)) {
        if (!o_.quiet) std::fprintf(stderr, "stopping: %s\n", opt.stop_reason().c_str());
        break;
      }
      record(opt);
      save(opt);
    }
    report(opt);
    return 0;
  }

 private:
  static std::string io_read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Frames fitted at iteration i: --window frames, growing by as many every --grow-every iterations.
  int frames_at(int i) const {
    if (o_.window <= 0) return last_frame_;
    return std::min(last_frame_, o_.window * (1 + i / std::max(o_.grow_every, 1)));
  }
  // The fit's objective becomes the losses of window_'s frames. The losses are rebuilt first and only then
  // handed over: in `set_losses(ptrs_, build_losses(..))` the order of the two arguments is unspecified, and
  // clang copied the old pointers before build_losses freed their losses (found by UBSan's vptr check).
  void set_window_losses() {
    const int64_t last_step = build_losses(window_);
    fit_->set_losses(ptrs_, last_step);
  }
  // The losses of observed frames 1..frames (into losses_ and ptrs_); returns the last step they read.
  int64_t build_losses(int frames) {
    losses_ = observation_losses<T, D>(obs_, data_.model.steps_per_frame, frames, o_.every, o_.chamfer);
    ptrs_.clear();
    int64_t last_step = 0;
    for (const auto& l : losses_) {
      ptrs_.push_back(l.get());
      for (int64_t s : l->steps()) last_step = std::max(last_step, s);
    }
    return last_step;
  }

  // Teacher-forced windows of `length` frames over all observed frames, set into the fit.
  void build_windows(int length) {
    windows_ = teacher_windows<T, D>(obs_, data_.state, data_.model.steps_per_frame,
                                     double(data_.model.dt) * data_.model.steps_per_frame, last_frame_,
                                     length, o_.every, o_.chamfer);
    fit_->set_windows(&windows_);
    if (o_.quiet) return;
    std::string own;
    for (const auto& w : windows_)
      if (!w.observed_state) own += (own.empty() ? "" : ", ") + std::to_string(w.first);
    std::fprintf(stderr, "teacher forcing: %zu windows of %d frames\n", windows_.size(), length);
    if (!own.empty())
      std::fprintf(stderr,
                   "note: observed frames %s have no F (simulate the truth with outputs.state = true); those "
                   "windows start from the observed x and v with F, C and plastic of the model's own run\n",
                   own.c_str());
  }

  bool is_weight(size_t k) const { return fit_->names()[k].find("/weights[") != std::string::npos; }
  bool has_weights() const {
    for (size_t k = 0; k < fit_->names().size(); ++k)
      if (is_weight(k)) return true;
    return false;
  }

  // One history row and its progress line.
  void record(const Optimizer& opt) {
    const std::vector<double> v = fit_->values(opt.u());
    double gn = 0;
    for (double g : opt.gradient()) gn += g * g;
    gn = std::sqrt(gn);
    // network weights are too many to list: the history keeps the named values and the weights' norm
    std::vector<double> shown;
    double wn = 0;
    for (size_t k = 0; k < v.size(); ++k)
      if (is_weight(k))
        wn += v[k] * v[k];
      else
        shown.push_back(v[k]);
    if (has_weights()) shown.push_back(std::sqrt(wn));
    history_.push_back({{"iteration", opt.iteration()},
                        {"evaluations", opt.evaluations()},
                        {"loss", opt.value()},
                        {"gradient_norm", gn},
                        {"values", shown}});
    if (opt.backoffs()) history_.back()["steps_taken_back"] = opt.backoffs();  // Adam's safeguard
    if (o_.quiet) return;
    std::fprintf(stderr, "iteration %3d  loss %.6e  |grad| %.3e ", opt.iteration(), opt.value(), gn);
    for (size_t k = 0; k < v.size() && k < 8; ++k)
      std::fprintf(stderr, " %s=%.6g", fit_->names()[k].c_str(), v[k]);
    if (v.size() > 8) std::fprintf(stderr, " (and %zu more)", v.size() - 8);
    if (opt.backoffs()) std::fprintf(stderr, "  (%d unstable steps taken back and halved)", opt.backoffs());
    std::fprintf(stderr, "\n");
  }

  // History CSV, plot, fitted scene and the optimizer's state, each written atomically.
  void save(const Optimizer& opt) {
    const fs::path out(o_.out);
    std::ostringstream csv;
    csv << "iteration,evaluations,loss,gradient_norm";
    for (size_t k = 0; k < fit_->names().size(); ++k)
      if (!is_weight(k)) csv << "," << fit_->names()[k];
    if (has_weights()) csv << ",weights_norm";
    csv << "\n";
    csv.precision(17);
    for (const auto& h : history_) {
      csv << h["iteration"].get<int>() << "," << h["evaluations"].get<int>() << "," << h["loss"].get<double>()
          << "," << h["gradient_norm"].get<double>();
      for (double v : h["values"]) csv << "," << v;
      csv << "\n";
    }
    io::write_file_atomic((out / "history.csv").string(), csv.str());
    io::write_history_plots(out.string(), csv.str(),
                            "ductile fit: " + doc_.path);  // loss.svg, parameters.svg
    std::vector<std::string> skipped;
    json fitted = fit_->fitted_scene(doc_.json, opt.u(), skipped);
    save_weights(opt, fitted, skipped);
    io::write_file_atomic((out / "fitted_scene.json").string(), fitted.dump(2) + "\n");
    const json st = {{"scene", doc_.path},
                     {"names", fit_->names()},
                     {"optimizer", opt.save()},
                     {"history", history_},
                     {"window", window_}};
    io::write_file_atomic((out / "fit_state.json").string(), st.dump() + "\n");
    skipped_ = skipped;
  }

  // Fitted network weights go to DIR/<material>_weights.safetensors (written atomically), which the fitted
  // scene names.
  void save_weights(const Optimizer& opt, json& fitted, std::vector<std::string>& skipped) {
    const auto& mats = data_.model.material_names;
    bool any = false;
    for (size_t m = 0; m < mats.size(); ++m) {
      const std::string prefix = "materials/" + mats[m] + "/weights[";
      bool has = false;
      for (const auto& n : fit_->names()) has = has || n.rfind(prefix, 0) == 0;
      if (!has) continue;
      if (!any) fit_->apply(opt.u()), any = true;
      const std::string file = fs::absolute(fs::path(o_.out) / (mats[m] + "_weights.safetensors")).string();
      data_.model.materials[m]->save_learnable(file);
      fitted["materials"][m]["weights"] = file;
      weight_files_[mats[m]] = file;
    }
    // the weights are in their files, not in the scene's JSON
    std::vector<std::string> rest;
    for (const auto& n : skipped)
      if (n.find("/weights[") == std::string::npos) rest.push_back(n);
    skipped.swap(rest);
  }

  void report(const Optimizer& opt) const {
    const std::vector<double> v = fit_->values(opt.u());
    json r = {{"loss", opt.value()}, {"iterations", opt.iteration()}, {"evaluations", opt.evaluations()}};
    for (size_t k = 0; k < v.size(); ++k)
      if (fit_->names()[k].find("/weights[") == std::string::npos) r["values"][fit_->names()[k]] = v[k];
    for (const auto& [m, file] : weight_files_) r["weights"][m] = file;
    r["out"] = fs::absolute(o_.out).string();
    if (!skipped_.empty()) r["not_in_fitted_scene"] = skipped_;
    std::printf("%s\n", r.dump(2).c_str());
  }

  const FitOptions& o_;
  const SceneDocument& doc_;
  SceneData<T, D> data_;
  int last_frame_ = 0, window_ = 0;
  Observations obs_;
  std::vector<std::unique_ptr<Loss<T, D>>> losses_;
  std::vector<const Loss<T, D>*> ptrs_;
  std::vector<TeacherWindow<T, D>> windows_;
  std::unique_ptr<Fit<T, D>> fit_;
  json history_ = json::array();
  std::vector<std::string> skipped_;
  std::map<std::string, std::string> weight_files_;
};

int fit(FitOptions o) {
  if (!fs::is_regular_file(o.scene)) fail(o.scene, "no such scene file");
  // the memory limit covers the scene's own files too (distance fields of meshes, VDB grids, splats)
  set_memory_limit(memory_limit_option(o.max_memory, "--max-memory"));
  SceneDocument doc = load_scene_file(o.scene, o.sets);
  for (const auto& w : doc.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  // parameters: --param, else the scene's gradient.wrt
  if (o.params.empty())
    for (const auto& w : doc.json["gradient"]["wrt"]) o.params.push_back(w.get<std::string>());
  const Device dev = choose_device(o.backend);
  const bool dbl = o.precision == "double";
  if (doc.dim == 2)
    return dbl ? FitRun<double, 2>(o, doc, dev).execute() : FitRun<float, 2>(o, doc, dev).execute();
  return dbl ? FitRun<double, 3>(o, doc, dev).execute() : FitRun<float, 3>(o, doc, dev).execute();
}

}  // namespace

void add_fit_command(CLI::App& app) {
  auto o = std::make_shared<FitOptions>();
  auto* cmd = app.add_subcommand(
      "fit", "Fit scene parameters to observed motion (Adam or L-BFGS through the gradient tape)");
  cmd->add_option("scene", o->scene, "Scene JSON file whose values are the starting guess")->required();
  cmd->add_option("--observed", o->observed,
                  "Observed motion: a directory of PLY frames or a CSV of tracked points")
      ->required();
  cmd->add_option("--out,-o", o->out,
                  "Output directory (history.csv, loss.svg, fitted_scene.json, fit_state.json)");
  cmd->add_option("--param", o->params,
                  "NAME[:log|linear[:MIN:MAX]], repeatable (default: the scene's gradient.wrt), e.g. "
                  "materials/jelly/E:log:1e3:1e7")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--optimizer", o->optimizer, "lbfgs (default) or adam")
      ->check(CLI::IsMember({"lbfgs", "adam"}));
  cmd->add_option("--iterations", o->iterations, "Optimizer iterations")->check(CLI::Range(0, 1000000));
  cmd->add_option("--lr", o->lr,
                  "Adam's step, L-BFGS's first step, in the unknowns (log units for log scale)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--grad-clip", o->grad_clip, "Adam: clip the gradient to this norm")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--lr-decay", o->lr_decay, "Adam: multiply the step by this every iteration (e.g. 0.99)")
      ->check(CLI::Range(1e-6, 1.0));
  cmd->add_option(
         "--window", o->window,
         "Fit the first K observed frames first, growing by K every --grow-every iterations (0: all)")
      ->check(CLI::Range(0, 100000000));
  cmd->add_flag(
      "--teacher-forcing", o->teacher_forcing,
      "Cut the observations into windows of --window frames, each simulated from the observed state "
      "at its start (x, v; F, C with outputs.state), losses summed; windows grow as --window does");
  cmd->add_option("--grow-every", o->grow_every, "Iterations between growths of the window")
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--tol", o->tol, "Stop when the loss falls below this")->check(CLI::NonNegativeNumber);
  cmd->add_option("--frames", o->frames,
                  "Fit the observed frames up to this one (default: the scene's frames)")
      ->check(CLI::Range(1, 100000000));
  cmd->add_option("--every", o->every, "Use every k-th observed frame")->check(CLI::Range(1, 1000000));
  cmd->add_flag("--chamfer", o->chamfer, "Compare every frame by Chamfer distance (unordered points)");
  cmd->add_option("--checkpoint", o->checkpoint, "Tape checkpoints: all, sqrt, every:K or budget:SIZE");
  cmd->add_option("--backend", o->backend, "cpu, cuda or auto")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  cmd->add_option("--precision", o->precision, "double (default) or float")
      ->check(CLI::IsMember({"double", "float"}));
  cmd->add_option("--set", o->sets, "Override a scene value: path=value; repeatable")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_flag("--resume", o->resume, "Continue the fit saved in --out (fit_state.json)");
  cmd->add_flag("--quiet,-q", o->quiet, "No progress output");
  cmd->add_option(
      "--max-memory", o->max_memory,
      "Refuse runs estimated to need more memory than SIZE (e.g. 8GB; default: what is available)");
  cmd->callback([o] {
    const int code = fit(*o);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace ductile::app
