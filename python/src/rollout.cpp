#include "python/src/rollout.h"

#include <map>
#include <optional>

#include "core/control/robot_scene.h"
#include "core/error.h"
#include "core/parameters.h"
#include "core/tape.h"
#include "python/src/activation_table.h"
#include "python/src/arrays.h"
#include "python/src/device.h"
#include "python/src/python_material.h"

namespace ductile::python {

namespace {

// A loss of value 0 that keeps the states it reads: how the tape hands out the states at chosen steps.
template <class T, int D>
class Recorder final : public Loss<T, D> {
 public:
  explicit Recorder(std::vector<int64_t> steps) : steps_(std::move(steps)) {}
  std::string name() const override { return "recorded states"; }
  std::vector<int64_t> steps() const override { return steps_; }
  double evaluate(int64_t step, const State<T, D>& s, std::vector<double>&,
                  std::vector<double>&) const override {
    states_[step] = {s.x, s.v};
    return 0;
  }
  const std::pair<std::vector<T>, std::vector<T>>& at(int64_t step) const { return states_.at(step); }

 private:
  std::vector<int64_t> steps_;
  mutable std::map<int64_t, std::pair<std::vector<T>, std::vector<T>>> states_;
};

template <class T, int D>
class RolloutImpl final : public Rollout {
 public:
  RolloutImpl(const SceneDocument& doc, Device dev, const CheckpointPolicy& policy, const py::dict& bridges)
      : doc_(doc), data_(build_scene<T, D>(doc)), dev_(dev), policy_(policy) {
    bind_python_materials(data_.model, bridges);
    if (scene_has_robot(doc)) robot_ = build_robot<T, D>(doc, data_);
  }

  py::dict initial() const override {
    const State<T, D>& s = data_.state;
    py::dict r;
    r["x"] = soa_to_rows<T>(s.x, s.n, {D});
    r["v"] = soa_to_rows<T>(s.v, s.n, {D});
    r["mass"] = soa_to_rows<T>(s.mass, s.n, {});
    r["material"] = soa_to_rows<int32_t>(s.material, s.n, {});
    r["object"] = soa_to_rows<int32_t>(s.object, s.n, {});
    if (robot_) r["actuator"] = soa_to_rows<int32_t>(robot_->setup.actuator, s.n, {});
    return r;
  }

  std::vector<std::string> actuators() const override {
    return robot_ ? robot_->setup.actuator_names : std::vector<std::string>{};
  }

  py::list forward(int64_t steps, const py::object& x0, const py::object& v0, const py::dict& params,
                   const py::object& force, const py::object& actuation, const py::list& record) override {
    if (tape_) fail("rollout", "forward() runs once per rollout");
    if (steps < 0) fail("steps", "expected a number >= 0, got " + std::to_string(steps));
    State<T, D>& s = data_.state;
    const int n = s.n;
    if (!x0.is_none()) assign(s.x, rows_to_soa(x0, n, {D}, "x0"));
    if (!v0.is_none()) assign(s.v, rows_to_soa(v0, n, {D}, "v0"));
    bool strength_set = false;
    for (const auto& [key, value] : params) {
      const std::string name = py::str(key);
      if (name.rfind("actuators/", 0) == 0)
        set_strength(name, value), strength_set = true;
      else
        set_parameter(name, value, !v0.is_none());
    }
    std::vector<T> f;
    if (!force.is_none()) {
      const std::vector<double> rows = rows_to_soa(force, int(steps), {n, D}, "force", "step");
      // [step][particle][component] -> [step][component][particle]
      f.resize(rows.size());
      for (int64_t t = 0; t < steps; ++t)
        for (int p = 0; p < n; ++p)
          for (int d = 0; d < D; ++d)
            f[(size_t(t) * D + d) * n + p] = T(rows[(size_t(p) * D + d) * steps + t]);
    }
    has_force_ = !f.empty();
    std::vector<int64_t> at;
    for (const auto& h : record) at.push_back(h.cast<int64_t>());
    for (int64_t t : at)
      if (t < 0 || t > steps)
        fail("record", "step " + std::to_string(t) + " lies outside the run's 0.." + std::to_string(steps));
    recorder_ = std::make_unique<Recorder<T, D>>(at);
    tape_ = std::make_unique<Tape<T, D>>(data_.model, dev_, policy_);
    tape_->set_force(std::move(f));
    // the robot's activations: an open-loop table driving the actuators (idle without one)
    if (!actuation.is_none() && !robot_)
      fail("actuation", "the scene has no 'actuators' section (docs/ROBOTS.md)");
    has_actuation_ = !actuation.is_none();
    const int K = robot_ ? int(robot_->setup.strength.size()) : 0;
    std::vector<double> table(size_t(steps) * K, 0.0);  // [t][k]
    if (has_actuation_) {
      const std::vector<double> cols = rows_to_soa(actuation, int(steps), {K}, "actuation", "step");
      for (int64_t t = 0; t < steps; ++t)
        for (int k = 0; k < K; ++k) table[size_t(t) * K + k] = cols[size_t(k) * steps + t];
    }
    if ((has_actuation_ || strength_set) && steps > 0) {
      table_ = std::make_unique<ActivationTable>(K, steps, std::move(table));
      ObjectiveSpec none;
      none.type = "none";  // the loss is PyTorch's, seeded through the output adjoints
      driver_ = std::make_unique<ActuationDriver<T, D>>(robot_->setup, *table_, none);
      tape_->set_actuation(driver_.get());
    }
    steps_ = steps;
    {
      py::gil_scoped_release nogil;  // a python material takes it back for its calls
      tape_->forward(s, steps, {recorder_.get()});
    }
    py::list out;
    for (int64_t t : at) {
      const auto& [x, v] = recorder_->at(t);
      out.append(py::make_tuple(soa_to_rows<T>(x, n, {D}), soa_to_rows<T>(v, n, {D})));
    }
    return out;
  }

  py::dict backward(const py::list& seeds, const py::list& wrt) override {
    if (!tape_) fail("rollout", "backward() before forward()");
    const int n = data_.state.n;
    OutputAdjoints adj;
    for (const auto& h : seeds) {
      const py::tuple seed = h.cast<py::tuple>();
      const int64_t t = seed[0].cast<int64_t>();
      auto& [ax, av] = adj[t];
      const std::string at = " at step " + std::to_string(t);
      ax =
          seed[1].is_none() ? std::vector<double>(size_t(D) * n) : rows_to_soa(seed[1], n, {D}, "dL/dx" + at);
      av =
          seed[2].is_none() ? std::vector<double>(size_t(D) * n) : rows_to_soa(seed[2], n, {D}, "dL/dv" + at);
    }
    std::vector<Parameter<T, D>> ps;
    std::vector<std::pair<std::string, int>> strengths;  // actuators/<a>/strength: name, actuator
    for (const auto& h : wrt) {
      const std::string name = py::str(h);
      if (name.rfind("actuators/", 0) == 0)
        strengths.emplace_back(name, actuator_of(name, "wrt"));
      else
        ps.push_back(find_parameter(data_, name, "wrt"));
    }
    Gradients<T, D> g;
    {
      py::gil_scoped_release nogil;
      if (driver_) driver_->begin_backward();  // a second backward() must not add to the first's sums
      tape_->set_output_adjoints(adj);
      g = tape_->backward();
    }
    py::dict r, pg;
    r["x"] = soa_to_rows<double>(g.x, n, {D});
    r["v"] = soa_to_rows<double>(g.v, n, {D});
    if (has_force_) {
      // [step][component][particle] -> [step][particle][component]
      py::array_t<double> f({py::ssize_t(steps_), py::ssize_t(n), py::ssize_t(D)});
      double* o = f.mutable_data();
      for (int64_t t = 0; t < steps_; ++t)
        for (int p = 0; p < n; ++p)
          for (int d = 0; d < D; ++d) o[(size_t(t) * n + p) * D + d] = g.force[(size_t(t) * D + d) * n + p];
      r["force"] = f;
    }
    if (has_actuation_) {
      const int K = int(robot_->setup.strength.size());
      py::array_t<double> a({py::ssize_t(steps_), py::ssize_t(K)});
      for (size_t i = 0; i < size_t(steps_) * K; ++i)
        a.mutable_data()[i] = driver_ ? driver_->controller_gradient()[i] : 0.0;
      r["actuation"] = a;
    }
    for (const auto& p : ps) {
      py::array_t<double> a(py::ssize_t(p.size));
      for (int i = 0; i < p.size; ++i) a.mutable_data()[i] = p.gradient(g, data_, i);
      pg[py::str(p.name)] = a;
    }
    for (const auto& [name, k] : strengths) {
      py::array_t<double> a(py::ssize_t(1));
      a.mutable_data()[0] = driver_ ? driver_->strength_gradient()[size_t(k)] : 0.0;
      pg[py::str(name)] = a;
    }
    r["params"] = pg;
    return r;
  }

  py::dict stats() const override {
    py::dict r;
    if (!tape_) return r;
    const TapeStats& s = tape_->stats();
    r["steps"] = s.steps, r["interval"] = s.interval, r["recomputed"] = s.recomputed;
    r["grids_kept"] = s.grids_kept;
    r["state_bytes"] = s.state_bytes, r["peak_bytes"] = s.peak_bytes;
    r["forward_seconds"] = s.forward_seconds, r["backward_seconds"] = s.backward_seconds;
    return r;
  }

 private:
  static void assign(std::vector<T>& dst, const std::vector<double>& src) {
    dst.assign(src.begin(), src.end());
  }

  // Sets parameter `name` to `value` (1-D, the parameter's size).
  void set_parameter(const std::string& name, const py::handle& value, bool has_v0) {
    const std::string where = "params['" + name + "']";
    if (name.rfind("particles/", 0) == 0) fail(where, "pass initial positions and velocities as x0= and v0=");
    const Parameter<T, D> p = find_parameter(data_, name, "params");
    const std::vector<double> v = flat_values(value, size_t(p.size), where);
    // a network's weights at once
    if (name.size() > 8 && name.compare(name.size() - 8, 8, "/weights") == 0 &&
        name.rfind("materials/", 0) == 0) {
      const std::string m = name.substr(10, name.size() - 18);
      for (size_t k = 0; k < data_.model.material_names.size(); ++k)
        if (data_.model.material_names[k] == m)
          data_.model.materials[k]->set_learnable(std::vector<T>(v.begin(), v.end()));
      return;
    }
    // an object's initial motion: the scene's value is in its document
    if (name.rfind("objects/", 0) == 0) {
      if (has_v0) fail(where, "give either v0 or an object's initial motion, not both");
      const std::vector<double> now = object_motion(name);
      for (int i = 0; i < p.size; ++i) p.add(data_, i, v[size_t(i)] - now[size_t(i)]);
      return;
    }
    for (int i = 0; i < p.size; ++i) p.add(data_, i, v[size_t(i)] - p.value(data_, i));
  }

  // The actuator of parameter name "actuators/<a>/strength".
  int actuator_of(const std::string& name, const std::string& where) const {
    if (!robot_) fail(where, "'" + name + "': the scene has no 'actuators' section");
    const auto& names = robot_->setup.actuator_names;
    const size_t slash = name.rfind('/');
    if (slash > 10 && name.substr(slash + 1) == "strength")
      for (size_t k = 0; k < names.size(); ++k)
        if (names[k] == name.substr(10, slash - 10)) return int(k);
    std::string known;
    for (const auto& a : names) known += (known.empty() ? "" : ", ") + a;
    fail(where, "'" + name + "': expected actuators/<actuator>/strength (actuators: " + known + ")");
  }

  // Sets an actuator's strength [Pa] (params["actuators/<a>/strength"]).
  void set_strength(const std::string& name, const py::handle& value) {
    const std::string where = "params['" + name + "']";
    const int k = actuator_of(name, where);
    const double s = flat_values(value, 1, where)[0];
    if (s < 0) fail(where, "expected a strength >= 0 [Pa], got " + std::to_string(s));
    robot_->setup.strength[size_t(k)] = s;
  }

  // The scene's velocity or angular velocity of object objects/<o>/<what>.
  std::vector<double> object_motion(const std::string& name) const {
    const size_t a = name.find('/'), b = name.rfind('/');
    const std::string o = name.substr(a + 1, b - a - 1), what = name.substr(b + 1);
    for (const auto& obj : doc_.json.at("objects"))
      if (obj.value("name", std::string()) == o) {
        const auto& j = obj.contains(what) ? obj.at(what) : nlohmann::json(0.0);
        if (j.is_number()) return {j.get<double>()};
        return j.get<std::vector<double>>();
      }
    fail("params", "no object '" + o + "' in the scene document");
  }

  SceneDocument doc_;
  SceneData<T, D> data_;
  Device dev_;
  CheckpointPolicy policy_;
  std::optional<RobotScene<T, D>> robot_;  // a scene with actuators
  std::unique_ptr<ActivationTable> table_;
  std::unique_ptr<ActuationDriver<T, D>> driver_;
  std::unique_ptr<Recorder<T, D>> recorder_;
  std::unique_ptr<Tape<T, D>> tape_;
  int64_t steps_ = 0;
  bool has_force_ = false, has_actuation_ = false;
};

}  // namespace

std::unique_ptr<Rollout> make_rollout(const SceneDocument& doc, const std::string& dtype,
                                      const std::string& backend, const std::string& checkpoint,
                                      const py::dict& bridges) {
  const Device dev = parse_device(backend);
  const CheckpointPolicy policy = CheckpointPolicy::parse(checkpoint, "checkpoint");
  const bool dbl = parse_dtype(dtype);
  if (doc.dim == 2)
    return dbl ? std::unique_ptr<Rollout>(new RolloutImpl<double, 2>(doc, dev, policy, bridges))
               : std::unique_ptr<Rollout>(new RolloutImpl<float, 2>(doc, dev, policy, bridges));
  return dbl ? std::unique_ptr<Rollout>(new RolloutImpl<double, 3>(doc, dev, policy, bridges))
             : std::unique_ptr<Rollout>(new RolloutImpl<float, 3>(doc, dev, policy, bridges));
}

}  // namespace ductile::python
