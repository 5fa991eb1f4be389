#include "python/src/python_material.h"

#include <pybind11/numpy.h>

#include <cmath>

#include "core/error.h"
#include "materials/elastic_params.h"
#include "materials/registry.h"

namespace py = pybind11;

namespace ductile::python {

namespace {

template <class T, int D>
class PythonMaterial final : public Material<T, D> {
 public:
  PythonMaterial() { this->values_ = {T(1000), T(10)}; }
  ~PythonMaterial() override {
    if (bridge_ && Py_IsInitialized()) {
      py::gil_scoped_acquire gil;
      bridge_ = py::object();
    }
  }
  const char* model() const override { return "python"; }
  static const std::vector<ParamSpec>& param_specs() {
    static const std::vector<ParamSpec> s = {density_spec(),
                                             {"wave_speed", "m/s", 10, 0, 1e30, true, false,
                                              "elastic wave speed assumed for the automatic time step (the "
                                              "module has no modulus to read it from)"}};
    return s;
  }
  const std::vector<ParamSpec>& specs() const override { return param_specs(); }
  T wave_speed() const override { return this->values_[1]; }

  void bind(const std::string& name, py::object bridge) {
    name_ = name;
    bridge_ = std::move(bridge);
    size_ = bridge_.attr("size").cast<int>();
  }

  bool bound() const { return bool(bridge_); }
  int learnable_size() const override { return size_; }
  std::vector<T> learnable() const override {
    py::gil_scoped_acquire gil;
    return to_vector(call("learnable"), size_, "learnable()");
  }
  void set_learnable(const std::vector<T>& v) override {
    py::gil_scoped_acquire gil;
    call("set_learnable", py::array_t<T>(py::ssize_t(v.size()), v.data()));
  }

  void stress(Device dev, const ParticleView<T, D>& p, const MaterialBatch& b, T* tau,
              Status* st) const override {
    cpu_only(dev);
    if (!b.count) return;
    std::vector<T> out;
    {
      py::gil_scoped_acquire gil;
      out = to_vector(call("stress", gather(p.F, p.n, b)), size_t(b.count) * D * D, "stress(F)");
    }
    scatter(out, tau, p.n, b, st, kStageStress, false);
  }

  void project(Device, T, const ParticleView<T, D>&, const MaterialBatch&, Status*) const override {}

  void stress_vjp(Device dev, const ParticleView<T, D>& p, const MaterialBatch& b, const T* adj_tau, T* adj_F,
                  T*, T*, T* adj_params, Status* st) const override {
    cpu_only(dev);
    if (!b.count) return;
    std::vector<T> aF, aw;
    {
      py::gil_scoped_acquire gil;
      py::tuple r = call("stress_vjp", gather(p.F, p.n, b), gather(adj_tau, p.n, b), adj_params != nullptr);
      if (r.size() != 2) fail(where(), "stress_vjp must return (adj_F, adj_weights)");
      aF = to_vector(r[0], size_t(b.count) * D * D, "stress_vjp(F, adj_tau)[0]");
      if (adj_params && size_) aw = to_vector(r[1], size_t(size_), "stress_vjp(F, adj_tau)[1]");
    }
    scatter(aF, adj_F, p.n, b, st, kStageStress, true);
    for (size_t k = 0; k < aw.size(); ++k) adj_params[this->specs().size() + k] += aw[k];
  }

  // Elastic: the projection is the identity, and so is its adjoint.
  void project_vjp(Device dev, T, const ParticleView<T, D>& trial, const MaterialBatch& b, const T* adj_F_out,
                   const T* adj_plastic_out, T* adj_F_trial, T* adj_plastic_in, T*, Status*) const override {
    cpu_only(dev);
    for (int k = 0; k < b.count; ++k) {
      const int i = b.index[k];
      for (int c = 0; c < D * D; ++c)
        adj_F_trial[size_t(c) * trial.n + i] += adj_F_out[size_t(c) * trial.n + i];
      if (adj_plastic_out && adj_plastic_in) adj_plastic_in[i] += adj_plastic_out[i];
    }
  }

 private:
  std::string where() const { return "material '" + name_ + "' (python)"; }
  void cpu_only(Device dev) const {
    if (!bridge_)
      fail(where(), "no module bound: pass modules={'" + name_ +
                        "': module} to ductile.Simulator or ductile.rollout (a scene file alone cannot run a "
                        "python material)");
    if (dev != Device::kCpu) fail(where(), "python materials run on the cpu backend only");
  }
  template <class... A>
  py::object call(const char* fn, A&&... args) const {
    return bridge_.attr(fn)(std::forward<A>(args)...);
  }
  // The batch's matrices (SoA field a) as a [B, D, D] array.
  static py::array_t<T> gather(const T* a, int n, const MaterialBatch& b) {
    py::array_t<T> r({py::ssize_t(b.count), py::ssize_t(D), py::ssize_t(D)});
    T* o = r.mutable_data();
    for (int k = 0; k < b.count; ++k)
      for (int c = 0; c < D * D; ++c) o[size_t(k) * D * D + c] = a[size_t(c) * n + b.index[k]];
    return r;
  }
  // Writes (or adds) [B, D, D] values into the SoA field a; a non-finite value raises the status bit.
  static void scatter(const std::vector<T>& v, T* a, int n, const MaterialBatch& b, Status* st,
                      uint32_t stage, bool add) {
    for (int k = 0; k < b.count; ++k) {
      const int i = b.index[k];
      for (int c = 0; c < D * D; ++c) {
        const T x = v[size_t(k) * D * D + c];
        T& y = a[size_t(c) * n + i];
        y = add ? y + x : x;
        if (!std::isfinite(x)) raise_status(st, kStatusNonFinite, i, stage);
      }
    }
  }
  // A Python result as `count` values of T (any array-like of that many elements, converted).
  std::vector<T> to_vector(const py::handle& h, size_t count, const char* what) const {
    auto a = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(h);
    if (!a) fail(where(), std::string(what) + " returned something that is not an array");
    if (size_t(a.size()) != count)
      fail(where(), std::string(what) + " returned " + std::to_string(a.size()) + " values; expected " +
                        std::to_string(count));
    return std::vector<T>(a.data(), a.data() + count);
  }

  std::string name_ = "?";
  py::object bridge_;
  int size_ = 0;
};

}  // namespace

void register_python_material() {
  auto& r = MaterialRegistry::instance();
  if (r.has("python")) return;
  MaterialEntry e;
  e.name = "python";
  e.specs = [] { return std::cref(PythonMaterial<double, 3>::param_specs()); };
  e.make_f2 = [] { return std::make_unique<PythonMaterial<float, 2>>(); };
  e.make_f3 = [] { return std::make_unique<PythonMaterial<float, 3>>(); };
  e.make_d2 = [] { return std::make_unique<PythonMaterial<double, 2>>(); };
  e.make_d3 = [] { return std::make_unique<PythonMaterial<double, 3>>(); };
  r.add(std::move(e));
}

template <class T, int D>
void bind_python_materials(Model<T, D>& model, const py::dict& bridges) {
  for (const auto& [key, bridge] : bridges) {
    const std::string name = py::str(key);
    size_t m = 0;
    while (m < model.material_names.size() && model.material_names[m] != name) ++m;
    if (m == model.material_names.size()) fail("modules", "the scene has no material '" + name + "'");
    auto* pm = dynamic_cast<PythonMaterial<T, D>*>(model.materials[m].get());
    if (!pm)
      fail("modules", "material '" + name + "' has model '" + model.materials[m]->model() +
                          "'; a module drives a material of model \"python\"");
    pm->bind(name, py::reinterpret_borrow<py::object>(bridge));
  }
  for (size_t m = 0; m < model.materials.size(); ++m)
    if (auto* pm = dynamic_cast<PythonMaterial<T, D>*>(model.materials[m].get()); pm && !pm->bound())
      fail("modules", "material '" + model.material_names[m] +
                          "' has model \"python\" but no module: pass modules={'" + model.material_names[m] +
                          "': module}");
}

template void bind_python_materials(Model<float, 2>&, const py::dict&);
template void bind_python_materials(Model<float, 3>&, const py::dict&);
template void bind_python_materials(Model<double, 2>&, const py::dict&);
template void bind_python_materials(Model<double, 3>&, const py::dict&);

}  // namespace ductile::python
