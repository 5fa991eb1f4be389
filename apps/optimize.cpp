// `ductile optimize SCENE --out DIR`: trains a soft robot's controller (and optionally co-designed stiffness
// and actuator strengths) through the gradient tape with Adam, or with a gradient-free baseline (random
// search, CMA-ES) given a number of rollouts. Per iteration it prints the loss, the objective's metric and
// the gradient norm, and rewrites atomically the history (CSV), the plots (SVG), the controller (JSON) and
// the optimizer's state, so that `--resume` continues an interrupted run exactly; at the end the trained
// controller's rollout is written as PLY frames (docs/ROBOTS.md).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "apps/interrupt.h"
#include "core/control/controller_file.h"
#include "core/control/robot_training.h"
#include "core/control/search.h"
#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/history_plots.h"
#include "core/io/ply.h"
#include "core/io/point_table.h"
#include "core/optimizer.h"
#include "core/resources.h"
#include "core/scene.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace ductile::app {

namespace {

struct OptimizeOptions {
  std::string scene, out = "optimize", method = "adam", controller_file, precision = "double";
  std::vector<std::string> sets;
  int iterations = -1;  // -1: the scene's optimize.iterations
  double lr = 0, sigma = 0.1;
  bool resume = false, quiet = false, rollout = true;
  std::string max_memory;  // empty: the memory available (core/resources.h)
};

template <class T, int D>
class OptimizeRun {
 public:
  OptimizeRun(const OptimizeOptions& o, const SceneDocument& doc) : o_(o), doc_(doc) {
    data_ = build_scene<T, D>(doc);
    for (const auto& w : data_.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    robot_ = build_robot<T, D>(doc, data_);
    const auto& st = robot_.optimize;
    steps_ = int64_t(st.frames > 0 ? st.frames : data_.model.frames) * data_.model.steps_per_frame;
    iterations_ = o.iterations >= 0 ? o.iterations : st.iterations;
    // the controller, from the scene's settings and the robot's first centre of mass
    ControllerContext ctx;
    ctx.actuators = int(robot_.setup.strength.size());
    ctx.dim = D;
    ctx.dt = double(data_.model.dt);
    ctx.steps = steps_;
    ctx.origin.com = body_com();
    ctx.seed = robot_.controller.value("seed", 0);
    controller_ = ControllerRegistry::instance().make(robot_.controller, ctx, "/controller");
    const std::string load =
        !o.controller_file.empty() ? o.controller_file : robot_.controller.value("load", "");
    if (!load.empty()) load_controller_file(load, *controller_);
    trainer_ = std::make_unique<RobotTrainer<T, D>>(
        data_, robot_, *controller_, Device::kCpu,
        CheckpointPolicy::parse(st.checkpoint, "/optimize/checkpoint"), steps_);
    if (!o.quiet)
      std::fprintf(stderr,
                   "optimize: %d actuators, %s controller with %d parameters, %zu co-designed, %lld steps "
                   "per episode, %zu goal(s), method %s\n",
                   ctx.actuators, controller_->type().c_str(), controller_->size(),
                   trainer_->codesign_names().size(), (long long)steps_, std::max<size_t>(1, st.goals.size()),
                   o.method.c_str());
  }

  int execute() {
    fs::create_directories(o_.out);
    start_ = std::chrono::steady_clock::now();
    install_interrupt_handlers();
    std::vector<double> u = o_.method == "adam" ? train_adam() : train_search();
    wall_ += elapsed();
    // the trained controller's rollout (the first goal) and the summary
    json summary = {{"scene", doc_.path},
                    {"method", o_.method},
                    {"iterations", iterations_},
                    {"episode_steps", steps_},
                    {"simulated_steps", simulated_steps_},
                    {"wall_seconds", wall_},
                    {"metric_name", objective_metric_name(robot_.objective.type)}};
    if (!history_.empty()) {
      summary["first"] = history_.front();
      summary["last"] = history_.back();
    }
    // Ctrl-C or SIGTERM: the state of the last finished iteration is saved; --resume continues from it
    if (interrupt_signal()) {
      summary["status"] = std::string("interrupted by ") + interrupt_signal_name();
      io::write_file_atomic((fs::path(o_.out) / "summary.json").string(), summary.dump(2) + "\n");
      std::fprintf(stderr, "interrupted by %s after iteration %d; continue with --resume\n",
                   interrupt_signal_name(), history_.empty() ? -1 : history_.back()["iteration"].get<int>());
      return kInterruptedExitCode;
    }
    summary["status"] = "completed";
    if (o_.rollout) {
      const EpisodeResult r = write_rollout(u);
      summary["rollout"] = {
          {"loss", r.loss}, {"metric", r.metric}, {"frames", (fs::path(o_.out) / "rollout")}};
      // the trained controller on every goal: the mean loss that was optimized, and each goal's metric
      if (robot_.optimize.goals.size() > 1) {
        std::vector<int> all(robot_.optimize.goals.size());
        for (size_t g = 0; g < all.size(); ++g) all[g] = int(g);
        std::vector<EpisodeResult> eps;
        summary["rollout"]["mean_loss"] = trainer_->evaluate(u, all, nullptr, &eps);
        for (const auto& e : eps) summary["rollout"]["metric_per_goal"].push_back(e.metric);
      }
    }
    io::write_file_atomic((fs::path(o_.out) / "summary.json").string(), summary.dump(2) + "\n");
    std::printf("%s\n", summary.dump(2).c_str());
    return 0;
  }

 private:
  // The body's mass-weighted centre of mass in the initial state.
  std::array<double, 3> body_com() const {
    std::array<double, 3> c{0, 0, 0};
    double m = 0;
    const auto& s = data_.state;
    for (int p = 0; p < s.n; ++p)
      if (robot_.setup.body[size_t(p)]) {
        m += double(s.mass[size_t(p)]);
        for (int d = 0; d < D; ++d)
          c[size_t(d)] += double(s.mass[size_t(p)]) * double(s.x[size_t(d) * s.n + p]);
      }
    for (int d = 0; d < D; ++d) c[size_t(d)] /= m;
    return c;
  }

  // The goals of iteration i: all, or `batch` drawn with a stream seeded by the iteration.
  std::vector<int> goals_at(int i) const {
    const auto& st = robot_.optimize;
    const int G = int(st.goals.size());
    std::vector<int> all(size_t(std::max(G, 1)));
    for (int g = 0; g < int(all.size()); ++g) all[size_t(g)] = g;
    if (st.batch <= 0 || st.batch >= G) return all;
    std::mt19937_64 rng(st.seed * 7919 + uint64_t(i));
    std::shuffle(all.begin(), all.end(), rng);
    all.resize(size_t(st.batch));
    return all;
  }

  // Adam on the gradient tape.
  std::vector<double> train_adam() {
    OptimizerOptions oo;
    oo.method = "adam";
    oo.learning_rate = o_.lr > 0 ? o_.lr : robot_.optimize.learning_rate;
    oo.lr_decay = robot_.optimize.lr_decay;
    oo.grad_clip = robot_.optimize.grad_clip;
    oo.lo = trainer_->lo(), oo.hi = trainer_->hi();
    Optimizer opt(oo);
    int iteration = 0;
    std::vector<EpisodeResult> episodes;
    const Objective f = [&](const std::vector<double>& u, std::vector<double>& g) {
      episodes.clear();
      const double l = trainer_->evaluate(u, goals_at(iteration), &g, &episodes);
      simulated_steps_ += int64_t(episodes.size()) * steps_;
      return l;
    };
    if (!load_state([&](const json& s) { opt.load(s); })) {
      opt.start(trainer_->u_now(), f);
      record(0, opt.value(), norm(opt.gradient()), episodes, opt.u());
      save_state(opt.save(), opt.u());
    }
    while ((iteration = opt.iteration()) < iterations_) {
      if (!opt.iterate(f)) {
        if (!o_.quiet) std::fprintf(stderr, "stopping: %s\n", opt.stop_reason().c_str());
        break;
      }
      record(opt.iteration(), opt.value(), norm(opt.gradient()), episodes, opt.u());
      save_state(opt.save(), opt.u());
      if (interrupt_signal()) break;
    }
    return opt.u();
  }

  // Random search or CMA-ES: `iterations` rollouts, forward only.
  std::vector<double> train_search() {
    std::unique_ptr<Search> s = Search::make(o_.method, trainer_->u_now(), o_.sigma, robot_.optimize.seed);
    int rollouts = 0;
    if (load_state([&](const json& j) { s->load(j); })) rollouts = int(history_.size());
    while (rollouts < iterations_ + 1) {
      const auto candidates = s->ask();
      std::vector<double> losses;
      for (const auto& u : candidates) {
        std::vector<EpisodeResult> episodes;
        losses.push_back(trainer_->evaluate(u, goals_at(rollouts), nullptr, &episodes));
        simulated_steps_ += int64_t(episodes.size()) * steps_;
        record(rollouts++, losses.back(), 0, episodes, u);
      }
      s->tell(losses);
      save_state(s->save(), s->best());
      if (interrupt_signal()) break;
    }
    return s->best();
  }

  static double norm(const std::vector<double>& g) {
    double s = 0;
    for (double x : g) s += x * x;
    return std::sqrt(s);
  }

  // One history row and its progress line.
  void record(int iteration, double loss, double gnorm, const std::vector<EpisodeResult>& eps,
              const std::vector<double>& u) {
    double metric = 0, task = 0, effort = 0;
    for (const auto& e : eps) metric += e.metric, task += e.task, effort += e.effort;
    const double w = eps.empty() ? 0 : 1.0 / double(eps.size());
    json row = {{"iteration", iteration},
                {"loss", loss},
                {"task", task * w},
                {"effort", effort * w},
                {"metric", metric * w},
                {"gradient_norm", gnorm},
                {"simulated_steps", simulated_steps_}};
    const std::vector<double> cd = trainer_->codesign_values(u);
    for (size_t k = 0; k < cd.size(); ++k) row["codesign"][trainer_->codesign_names()[k]] = cd[k];
    history_.push_back(row);
    if (o_.quiet) return;
    std::fprintf(stderr, "iteration %4d  loss %.6e  %s %.6g  |grad| %.3e", iteration, loss,
                 objective_metric_name(robot_.objective.type), metric * w, gnorm);
    for (size_t k = 0; k < cd.size(); ++k)
      std::fprintf(stderr, "  %s=%.6g", trainer_->codesign_names()[k].c_str(), cd[k]);
    std::fprintf(stderr, "\n");
  }

  // Restores the saved state when resuming; false when starting afresh.
  template <class Load>
  bool load_state(const Load& load) {
    const fs::path file = fs::path(o_.out) / "optimize_state.json";
    if (!o_.resume || !fs::exists(file)) return false;
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    json st;
    try {
      st = json::parse(ss.str());
    } catch (const std::exception& e) {
      fail(file.string(), std::string("unreadable state: ") + e.what() + "; start afresh without --resume");
    }
    if (st.value("method", "") != o_.method || st.value("unknowns", -1) != trainer_->size())
      fail(file.string(), "was written by another method or controller; start afresh without --resume");
    load(st.at("state"));
    history_ = st.at("history");
    simulated_steps_ = st.at("simulated_steps").get<int64_t>();
    wall_ = st.at("wall_seconds").get<double>();
    if (!o_.quiet)
      std::fprintf(stderr, "resuming after iteration %d\n", history_.back()["iteration"].get<int>());
    return true;
  }

  // History CSV and plots, the controller and the state, each written atomically.
  void save_state(const json& state, const std::vector<double>& u) {
    const fs::path out(o_.out);
    std::ostringstream csv;
    csv.precision(17);
    csv << "iteration,loss,task,effort,metric,gradient_norm,simulated_steps";
    for (const auto& n : trainer_->codesign_names()) csv << "," << n;
    csv << "\n";
    for (const auto& h : history_) {
      csv << h["iteration"].get<int>() << "," << h["loss"].get<double>() << "," << h["task"].get<double>()
          << "," << h["effort"].get<double>() << "," << h["metric"].get<double>() << ","
          << h["gradient_norm"].get<double>() << "," << h["simulated_steps"].get<int64_t>();
      for (const std::string& n : trainer_->codesign_names()) csv << "," << h["codesign"][n].get<double>();
      csv << "\n";
    }
    io::write_file_atomic((out / "history.csv").string(), csv.str());
    io::write_history_plots(out.string(), csv.str(), "ductile optimize: " + doc_.path);
    trainer_->apply(u);
    save_controller_file((out / "controller.json").string(), *controller_, trainer_->codesign_names(),
                         trainer_->codesign_values(u));
    const json st = {{"scene", doc_.path},
                     {"method", o_.method},
                     {"unknowns", trainer_->size()},
                     {"state", state},
                     {"history", history_},
                     {"simulated_steps", simulated_steps_},
                     {"wall_seconds", wall_ + elapsed()}};
    io::write_file_atomic((out / "optimize_state.json").string(), st.dump() + "\n");
  }

  // Seconds since this process began training.
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

  // The rollout of controller u as PLY frames in DIR/rollout/particles.
  EpisodeResult write_rollout(const std::vector<double>& u) {
    const fs::path dir = fs::path(o_.out) / "rollout" / "particles";
    fs::create_directories(dir);
    // the scene beside the frames, so that `ductile render DIR/rollout` finds the domain and colliders
    io::write_file_atomic((fs::path(o_.out) / "rollout" / "scene.json").string(), doc_.json.dump(2) + "\n");
    const int64_t every = data_.model.steps_per_frame;
    return trainer_->rollout(u, 0, every, [&](int64_t t, const State<T, D>& s) {
      char name[32];
      std::snprintf(name, sizeof name, "frame_%05lld.ply", (long long)(t / every));
      io::write_ply((dir / name).string(), io::particle_table(s),
                    {"ductile optimize rollout step " + std::to_string(t)});
    });
  }

  const OptimizeOptions& o_;
  const SceneDocument& doc_;
  SceneData<T, D> data_;
  RobotScene<T, D> robot_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<RobotTrainer<T, D>> trainer_;
  int64_t steps_ = 0, simulated_steps_ = 0;
  int iterations_ = 0;
  double wall_ = 0;  // of earlier processes (resumed runs)
  std::chrono::steady_clock::time_point start_;
  json history_ = json::array();
};

int optimize(const OptimizeOptions& o) {
  if (!fs::is_regular_file(o.scene)) fail(o.scene, "no such scene file");
  // the memory limit covers the scene's own files too (distance fields of meshes, VDB grids, splats)
  set_memory_limit(memory_limit_option(o.max_memory, "--max-memory"));
  SceneDocument doc = load_scene_file(o.scene, o.sets);
  for (const auto& w : doc.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (!scene_has_robot(doc)) fail(o.scene, "has no 'actuators': nothing to optimize (docs/ROBOTS.md)");
  const bool dbl = o.precision == "double";
  if (doc.dim == 2)
    return dbl ? OptimizeRun<double, 2>(o, doc).execute() : OptimizeRun<float, 2>(o, doc).execute();
  return dbl ? OptimizeRun<double, 3>(o, doc).execute() : OptimizeRun<float, 3>(o, doc).execute();
}

}  // namespace

void add_optimize_command(CLI::App& app) {
  auto o = std::make_shared<OptimizeOptions>();
  auto* cmd =
      app.add_subcommand("optimize", "Train a soft robot's controller through the differentiable simulator");
  cmd->add_option("scene", o->scene, "Scene JSON with actuators, controller, objective and optimize sections")
      ->required();
  cmd->add_option("--out,-o", o->out,
                  "Output directory (history.csv, loss.svg, controller.json, optimize_state.json, rollout/)");
  cmd->add_option("--iterations", o->iterations,
                  "Adam iterations, or rollouts for random/cmaes (default: the scene's optimize.iterations)")
      ->check(CLI::Range(0, 10000000));
  cmd->add_option("--method", o->method,
                  "adam (gradients, default), random or cmaes (gradient-free baselines)")
      ->check(CLI::IsMember({"adam", "random", "cmaes"}));
  cmd->add_option("--lr", o->lr, "Adam's step (default: the scene's optimize.lr)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--sigma", o->sigma, "random/cmaes: initial step size in the unknowns")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--controller", o->controller_file,
                  "Start from a controller.json written by an earlier run");
  cmd->add_option("--precision", o->precision, "double (default) or float")
      ->check(CLI::IsMember({"double", "float"}));
  cmd->add_option("--set", o->sets, "Scene override path=value (repeatable)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option(
      "--max-memory", o->max_memory,
      "Refuse episodes estimated to need more memory than SIZE (e.g. 8GB; default: what is available)");
  cmd->add_flag("--resume", o->resume, "Continue from DIR/optimize_state.json");
  cmd->add_flag(
      "--no-rollout", [o](int64_t) { o->rollout = false; }, "Do not write the final rollout's frames");
  cmd->add_flag("--quiet,-q", o->quiet, "No progress output");
  cmd->callback([o] {
    const int code = optimize(*o);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace ductile::app
