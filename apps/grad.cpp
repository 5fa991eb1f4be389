// `ductile grad SCENE`: run the scene forward on the tape, evaluate its "loss" section, run the backward pass
// and print the loss and its gradient with respect to named parameters as JSON; `--fd-check K` compares K
// entries against central finite differences (Richardson-extrapolated) of fresh forward runs and judges each
// pass, below FD resolution or fail (core/fd_check.h).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "core/error.h"
#include "core/fd_check.h"
#include "core/fit.h"
#include "core/io/atomic_file.h"
#include "core/parameters.h"
#include "core/resources.h"
#include "core/scene.h"
#include "core/scene_gradient.h"
#include "core/tape.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace ductile::app {

namespace {

struct GradOptions {
  std::string scene;
  std::string out;  // empty: stdout
  std::string backend = "cpu";
  std::string precision = "double";
  std::string checkpoint;  // empty: the scene's
  std::vector<std::string> wrt, sets;
  int fd_check = 0;
  double fd_step = 1e-6;
  double fd_tol = 1e-4;
  double test_scale_analytic = 1;  // hidden option: tests make the analytic gradient wrong on purpose
  int frames = -1;
  int threads = 0;
  bool full = false;
  bool quiet = false;
  std::string max_memory;  // empty: the memory available (core/resources.h)
};

// Peak resident memory of this process [bytes] (Linux; 0 elsewhere).
double peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) * 1024.0;
  return 0;
}

template <class T, int D>
class GradRun {
 public:
  GradRun(const GradOptions& o, const SceneDocument& doc, Device dev)
      : o_(o), doc_(doc), dev_(dev), data_(build_scene<T, D>(doc)) {
    for (const auto& w : data_.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (o.frames >= 0) data_.model.frames = o.frames;
    steps_ = int64_t(data_.model.frames) * data_.model.steps_per_frame;
    losses_ = build_losses<T, D>(doc, data_);
    if (losses_.empty())
      fail(doc.path,
           "the scene declares no loss: add a \"loss\" section (docs/SCENE_FORMAT.md, \"Gradients\")");
    for (const auto& l : losses_) {
      loss_ptrs_.push_back(l.get());
      for (int64_t s : l->steps())
        if (s > steps_)
          fail("--frames", l->name() + " lies beyond the run's " + std::to_string(steps_) + " steps");
    }
    // parameters: --wrt, else the scene's gradient.wrt, else every named parameter
    const json& sw = doc.json["gradient"]["wrt"];
    if (!o.wrt.empty()) {
      for (const auto& w : o.wrt) params_.push_back(find_parameter(data_, w, "--wrt"));
    } else if (!sw.empty()) {
      for (size_t i = 0; i < sw.size(); ++i)
        params_.push_back(find_parameter(
            data_,
            FitParameterSpec::parse(sw[i].get<std::string>(), "/gradient/wrt/" + std::to_string(i)).name,
            "/gradient/wrt/" + std::to_string(i)));
    } else {
      for (const auto& w : parameter_names(data_)) params_.push_back(find_parameter(data_, w, "parameters"));
    }
    const std::string policy =
        o.checkpoint.empty() ? doc.json["gradient"]["checkpoint"].get<std::string>() : o.checkpoint;
    policy_ = CheckpointPolicy::parse(policy, o.checkpoint.empty() ? "/gradient/checkpoint" : "--checkpoint");
  }

  int execute() {
    Tape<T, D> tape(data_.model, dev_, policy_);
    if (!o_.quiet)
      tape.set_progress([](const char* phase, int64_t done, int64_t total) {
        std::fprintf(stderr, "\r%s %lld/%lld steps", phase, (long long)done, (long long)total);
        if (done == total) std::fprintf(stderr, "\n");
      });
    const double loss = tape.forward(data_.state, steps_, loss_ptrs_);
    const Gradients<T, D> g = tape.backward();
    const TapeStats& st = tape.stats();
    json r;
    r["scene"] = doc_.path;
    r["loss"] = loss;
    for (size_t k = 0; k < loss_ptrs_.size(); ++k)
      r["losses"].push_back({{"name", loss_ptrs_[k]->name()}, {"value", tape.loss_terms()[k]}});
    r["backend"] = device_name(dev_);
    r["precision"] = sizeof(T) == 8 ? "double" : "float";
    r["particles"] = data_.state.n;
    r["steps"] = steps_;
    r["checkpoint"] = {{"policy", policy_.describe()},
                       {"interval", st.interval},
                       {"recomputed_steps", st.recomputed},
                       {"grids_kept", st.grids_kept},
                       {"tape_megabytes", st.peak_bytes / 1e6}};
    r["seconds"] = {{"forward", st.forward_seconds},
                    {"backward", st.backward_seconds},
                    {"backward_over_forward", st.backward_seconds / std::max(st.forward_seconds, 1e-12)}};
    r["gradient"] = json::object();
    for (const auto& p : params_) r["gradient"][p.name] = gradient_json(p, g);
    int code = 0;
    if (o_.fd_check > 0) code = fd_check(g, loss, r);
    r["peak_memory_megabytes"] = peak_rss_bytes() / 1e6;
    const std::string text = r.dump(2) + "\n";
    if (o_.out.empty())
      std::fputs(text.c_str(), stdout);
    else
      io::write_file_atomic(o_.out, text);
    return code;
  }

 private:
  // A scalar as a number, a vector as an array, per-particle arrays as a summary (values with --full).
  json gradient_json(const Parameter<T, D>& p, const Gradients<T, D>& g) const {
    if (p.size == 1) return p.gradient(g, data_, 0);
    std::vector<double> v(size_t(p.size));
    for (int i = 0; i < p.size; ++i) v[size_t(i)] = p.gradient(g, data_, i);
    if (p.name.rfind("particles/", 0) != 0 || o_.full) return v;
    double norm = 0, max_abs = 0;
    for (double x : v) norm += x * x, max_abs = std::max(max_abs, std::fabs(x));
    return {{"size", p.size}, {"norm", std::sqrt(norm)}, {"max_abs", max_abs}, {"values", "use --full"}};
  }

  // The loss of a fresh forward run.
  double loss_now() {
    Tape<T, D> tape(data_.model, dev_, policy_);
    return tape.forward(data_.state, steps_, loss_ptrs_);
  }

  // Central difference (L(p + h) - L(p - h)) / (realized 2h) of entry i: the step actually taken where the
  // entry's value can be read (in float, value + h rounds), else the nominal one.
  double central(Parameter<T, D>& p, int i, double h, const SceneSnapshot<T, D>& saved) {
    const double v0 = p.value ? p.value(data_, i) : 0.0;
    p.add(data_, i, h);
    const double vp = p.value ? p.value(data_, i) : v0 + h;
    const double lp = loss_now();
    saved.restore(data_);
    p.add(data_, i, -h);
    const double vm = p.value ? p.value(data_, i) : v0 - h;
    const double lm = loss_now();
    saved.restore(data_);
    if (!(vp > vm)) {
      char step[32];
      std::snprintf(step, sizeof step, "%g", h);
      fail("--fd-step", p.name + "[" + std::to_string(i) + "]: a step of " + step +
                            " does not change the value in this precision; take a larger step");
    }
    return (lp - lm) / (vp - vm);
  }

  // K entries (fd_check_picks: per parameter the largest first, then largest and spread ones alternately;
  // round-robin over the parameters) against Richardson-extrapolated central differences, each judged pass,
  // below FD resolution or fail (core/fd_check.h). Exit code 3 on a failure, 4 when no entry could be
  // resolved.
  int fd_check(const Gradients<T, D>& g, double loss, json& r) {
    std::vector<std::vector<double>> grads(params_.size());
    for (size_t k = 0; k < params_.size(); ++k)
      for (int i = 0; i < params_[k].size; ++i) grads[k].push_back(params_[k].gradient(g, data_, i));
    const auto picks = fd_check_picks(grads, o_.fd_check);
    const double eps = std::numeric_limits<T>::epsilon();
    double worst = 0;
    int counts[3] = {0, 0, 0};  // by FdStatus
    json list = json::array();
    for (size_t j = 0; j < picks.size(); ++j) {
      auto& p = params_[picks[j].first];
      const int i = picks[j].second;
      const double value = p.value ? p.value(data_, i) : 0.0;
      const double h = o_.fd_step * std::max(std::fabs(value), 1.0);
      const SceneSnapshot<T, D> saved(data_);
      const double c_2h = central(p, i, 2 * h, saved), c_h = central(p, i, h, saved);
      const FdEstimate fd = richardson_estimate(c_2h, c_h, central(p, i, h / 2, saved), h, loss, eps);
      const double a = grads[picks[j].first][size_t(i)] * o_.test_scale_analytic;
      const FdVerdict v = classify_fd(a, fd, o_.fd_tol, loss);
      worst = std::max(worst, v.relative_error);
      ++counts[int(v.status)];
      list.push_back({{"parameter", p.name},
                      {"entry", i},
                      {"analytic", a},
                      {"finite_difference", fd.value},
                      {"step", h},
                      {"relative_error", v.relative_error},
                      {"absolute_error", v.absolute_error},
                      {"uncertainty", fd.uncertainty},
                      {"roundoff", fd.roundoff},
                      {"truncation", fd.truncation},
                      {"status", fd_status_name(v.status)}});
      const char* says[] = {"pass", "below FD resolution (not verified)", "FAIL"};
      if (!o_.quiet || v.status == FdStatus::kFail)
        std::fprintf(stderr,
                     "fd-check %zu/%zu: %s[%d] analytic %.10e fd %.10e +- %.1e: relative error %.2e, "
                     "|difference| %.1e: %s\n",
                     j + 1, picks.size(), p.name.c_str(), i, a, fd.value, fd.uncertainty, v.relative_error,
                     v.absolute_error, says[int(v.status)]);
    }
    const int passed = counts[int(FdStatus::kPass)], below = counts[int(FdStatus::kBelowResolution)],
              failed = counts[int(FdStatus::kFail)];
    const bool inconclusive = failed == 0 && passed == 0 && below > 0;
    const bool ok = failed == 0 && !inconclusive;
    r["fd_check"] = {{"entries", list},        {"max_relative_error", worst},
                     {"tolerance", o_.fd_tol}, {"ok", ok},
                     {"passed", passed},       {"below_resolution", below},
                     {"failed", failed},       {"machine_epsilon", eps}};
    if (failed > 0)
      std::fprintf(stderr,
                   "fd-check: %d of %zu entries fail: relative error above --fd-tol %.3g and a difference "
                   "larger than the finite difference's estimated uncertainty\n",
                   failed, picks.size(), o_.fd_tol);
    else if (inconclusive)
      std::fprintf(stderr,
                   "fd-check: no entry verified: all %d are below the finite differences' resolution (try "
                   "another --fd-step, or double precision)\n",
                   below);
    else if (below > 0 && !o_.quiet)
      std::fprintf(stderr, "fd-check: %d passed, %d below FD resolution (not verified)\n", passed, below);
    return failed > 0 ? 3 : inconclusive ? 4 : 0;
  }

  const GradOptions& o_;
  const SceneDocument& doc_;
  Device dev_;
  SceneData<T, D> data_;
  int64_t steps_ = 0;
  std::vector<std::unique_ptr<Loss<T, D>>> losses_;
  std::vector<const Loss<T, D>*> loss_ptrs_;
  std::vector<Parameter<T, D>> params_;
  CheckpointPolicy policy_;
};

int grad(const GradOptions& o) {
  if (!fs::is_regular_file(o.scene)) fail(o.scene, "no such scene file");
  // the memory limit covers the scene's own files too (distance fields of meshes, VDB grids, splats)
  set_memory_limit(memory_limit_option(o.max_memory, "--max-memory"));
  SceneDocument doc = load_scene_file(o.scene, o.sets);
  for (const auto& w : doc.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const Device dev = choose_device(o.backend);
  const bool dbl = o.precision == "double";
  if (doc.dim == 2)
    return dbl ? GradRun<double, 2>(o, doc, dev).execute() : GradRun<float, 2>(o, doc, dev).execute();
  return dbl ? GradRun<double, 3>(o, doc, dev).execute() : GradRun<float, 3>(o, doc, dev).execute();
}

// "a,b" -> {"a", "b"} for each value.
std::vector<std::string> split_commas(const std::vector<std::string>& in) {
  std::vector<std::string> r;
  for (const auto& s : in) {
    std::stringstream ss(s);
    std::string part;
    while (std::getline(ss, part, ','))
      if (!part.empty()) r.push_back(part);
  }
  return r;
}

}  // namespace

void add_grad_command(CLI::App& app) {
  auto o = std::make_shared<GradOptions>();
  auto* cmd =
      app.add_subcommand("grad", "The scene's loss and its gradient as JSON (with finite-difference checks)");
  cmd->add_option("scene", o->scene, "Scene JSON file with a \"loss\" section")->required();
  cmd->add_option("--wrt", o->wrt,
                  "Parameters, comma-separated or repeated (default: the scene's gradient.wrt, else all): "
                  "materials/<m>/<p>, gravity, domain/boundary/friction, "
                  "colliders/<c>/velocity|angular_velocity|position|rotation|friction, "
                  "colliders/<c>/keyframes/<i>/position|rotation, objects/<o>/velocity|angular_velocity, "
                  "particles/x|v|C|F")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option(
         "--fd-check", o->fd_check,
         "Compare K gradient entries with Richardson-extrapolated central finite differences at steps 2h, h, "
         "h/2 (per parameter the largest |gradient| first, then largest and index-spread entries "
         "alternately; "
         "round-robin over the parameters). Each entry passes (relative error <= --fd-tol), is below FD "
         "resolution (|analytic - fd| within the difference's estimated uncertainty 3 eps |loss| / h + 7/3 "
         "max(|c(h/2) - c(h)|, 2 |c(h) - c(2h)|): not verified, not failed) or fails. Exit code 3 when one "
         "fails, 4 when none could be resolved (docs/GRADIENTS.md)")
      ->check(CLI::Range(0, 100000));
  cmd->add_option("--fd-step", o->fd_step,
                  "Finite-difference step h, relative to max(|value|, 1) (default 1e-6)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--fd-tol", o->fd_tol,
                  "Largest relative error a --fd-check entry passes with (default 1e-4)")
      ->check(CLI::PositiveNumber);
  // test only: multiplies the analytic gradient before the comparison, so tests can see a wrong one fail
  cmd->add_option("--test-scale-analytic", o->test_scale_analytic)->group("");
  cmd->add_option("--checkpoint", o->checkpoint,
                  "all, sqrt, every:K or budget:SIZE (default: the scene's, sqrt)");
  cmd->add_option("--backend", o->backend, "cpu, cuda or auto")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  cmd->add_option("--precision", o->precision, "double (default) or float")
      ->check(CLI::IsMember({"double", "float"}));
  cmd->add_option("--frames", o->frames, "Frames to run (overrides the scene)")
      ->check(CLI::Range(0, 100000000));
  cmd->add_option("--threads", o->threads, "OpenMP threads for the cpu backend")->check(CLI::Range(1, 4096));
  cmd->add_option("--set", o->sets, "Override a scene value: path=value; repeatable")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--out,-o", o->out, "Write the JSON here (atomically) instead of standard output");
  cmd->add_flag("--full", o->full, "Print every entry of per-particle gradients");
  cmd->add_flag("--quiet,-q", o->quiet, "No progress output");
  cmd->add_option(
      "--max-memory", o->max_memory,
      "Refuse runs estimated to need more memory than SIZE (e.g. 8GB; default: what is available)");
  cmd->callback([o] {
    o->wrt = split_commas(o->wrt);
    const int code = grad(*o);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace ductile::app
