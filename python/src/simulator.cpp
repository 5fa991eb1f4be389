#include "python/src/simulator.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <regex>

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/ply.h"
#include "core/io/summary.h"
#include "core/simulator.h"
#include "python/src/arrays.h"
#include "python/src/device.h"
#include "python/src/python_material.h"

namespace fs = std::filesystem;

namespace ductile::python {

namespace {

// A NumPy view of `data` with the given shape and strides (in elements) that keeps `owner` alive.
template <class V>
py::array view_of(const V* data, std::vector<py::ssize_t> shape, std::vector<py::ssize_t> strides,
                  const py::handle& owner) {
  for (auto& s : strides) s *= py::ssize_t(sizeof(V));
  return py::array_t<V>(shape, strides, data, owner);
}

template <class T, int D>
class SimulatorImpl final : public PySimulator {
 public:
  SimulatorImpl(const SceneDocument& doc, Device dev, const py::dict& bridges)
      : doc_(doc), data_(build_scene<T, D>(doc)) {
    bind_python_materials(data_.model, bridges);
    sim_ = std::make_unique<Simulator<T, D>>(data_.model, dev);
    sim_->set_state(data_.state);
  }

  void step(int64_t n) override {
    if (n < 0) fail("step", "expected n >= 0, got " + std::to_string(n));
    py::gil_scoped_release nogil;  // a python material takes it back for its calls
    for (int64_t k = 0; k < n; ++k) sim_->step();
  }
  double time() const override { return sim_->time(); }
  int64_t steps() const override { return sim_->steps(); }
  int particles() const override { return data_.state.n; }

  py::dict state() const override {
    auto* s = new State<T, D>();
    sim_->get_state(*s);
    s->object = data_.state.object;
    py::capsule owner(s, [](void* p) { delete static_cast<State<T, D>*>(p); });
    const py::ssize_t n = s->n;
    py::dict r;
    // SoA: component c of particle p at [c * n + p], so a particle's row has stride 1 between particles
    r["x"] = view_of(s->x.data(), {n, D}, {1, n}, owner);
    r["v"] = view_of(s->v.data(), {n, D}, {1, n}, owner);
    r["C"] = view_of(s->C.data(), {n, D, D}, {1, D * n, n}, owner);
    r["F"] = view_of(s->F.data(), {n, D, D}, {1, D * n, n}, owner);
    r["plastic"] = view_of(s->plastic.data(), {n}, {1}, owner);
    r["mass"] = view_of(s->mass.data(), {n}, {1}, owner);
    r["vol0"] = view_of(s->vol0.data(), {n}, {1}, owner);
    r["material"] = view_of(s->material.data(), {n}, {1}, owner);
    r["object"] = view_of(s->object.data(), {n}, {1}, owner);
    return r;
  }

  void set_state(const py::object& x, const py::object& v) override {
    State<T, D> s;
    sim_->get_state(s);
    s.object = data_.state.object;
    if (!x.is_none()) assign(s.x, rows_to_soa(x, s.n, {D}, "x"));
    if (!v.is_none()) assign(s.v, rows_to_soa(v, s.n, {D}, "v"));
    sim_->set_state(s);
  }

  py::dict storage(const py::object& owner) const override {
    const DeviceParticles<T, D>& b = sim_->particles();
    const int64_t n = b.n;
    const Device dev = sim_->device();
    auto field = [&](const void* p, uint8_t code, uint8_t bits, std::vector<int64_t> shape) {
      DeviceArray a;
      a.data = const_cast<void*>(p), a.device = dev, a.code = code, a.bits = bits, a.shape = shape;
      a.strides.assign(shape.size(), 1);
      for (int i = int(shape.size()) - 2; i >= 0; --i) a.strides[i] = a.strides[i + 1] * shape[i + 1];
      a.owner = owner;
      return a;
    };
    const uint8_t fb = uint8_t(8 * sizeof(T));
    py::dict r;
    r["x"] = field(b.x.data(), 2, fb, {D, n});
    r["v"] = field(b.v.data(), 2, fb, {D, n});
    r["C"] = field(b.C.data(), 2, fb, {D, D, n});
    r["F"] = field(b.F.data(), 2, fb, {D, D, n});
    r["plastic"] = field(b.plastic.data(), 2, fb, {n});
    r["mass"] = field(b.mass.data(), 2, fb, {n});
    r["material"] = field(b.material.data(), 0, 32, {n});
    r["id"] = field(b.id.data(), 0, 32, {n});
    return r;
  }

  void write_ply(const std::string& path) const override {
    State<T, D> s;
    sim_->get_state(s);
    s.object = data_.state.object;
    write_frame_file(path, s, -1);
  }

  std::string run(int frames, const std::string& out_dir, int every) override {
    if (frames < 0) fail("frames", "expected >= 0, got " + std::to_string(frames));
    if (every < 1) fail("every", "expected >= 1, got " + std::to_string(every));
    const fs::path out = fs::absolute(out_dir).lexically_normal();
    if (fs::exists(out) && !fs::is_directory(out))
      fail("out_dir", out.string() + " exists and is not a directory");
    fs::create_directories(out / "particles");
    // frames of an earlier run in the same folder would mix with these
    const std::regex old("frame_[0-9]{5}\\.ply");
    for (const auto& e : fs::directory_iterator(out / "particles"))
      if (e.is_regular_file() && std::regex_match(e.path().filename().string(), old)) fs::remove(e.path());
    io::write_file_atomic((out / "scene.json").string(), doc_.json.dump(2) + "\n");
    io::RunSummary sum;
    sum.scene = doc_.path, sum.out_dir = out.string(), sum.backend = device_name(sim_->device());
    sum.dim = D, sum.dt = double(data_.model.dt), sum.steps_per_frame = data_.model.steps_per_frame;
    sum.frames_planned = frames, sum.particles = data_.state.n;
    const std::string summary = (out / "summary.json").string();
    const auto t0 = std::chrono::steady_clock::now();
    State<T, D> s;
    const int first = int(sim_->steps() / data_.model.steps_per_frame);
    try {
      for (int f = 0; f <= frames; ++f) {
        if (f > 0) step(data_.model.steps_per_frame);
        if (f % every) continue;
        sim_->get_state(s);
        s.object = data_.state.object;
        char name[32];
        std::snprintf(name, sizeof name, "frame_%05d.ply", first + f);
        write_frame_file((out / "particles" / name).string(), s, first + f);
        sum.frames.push_back(io::frame_stats(first + f, s));
        sum.steps = sim_->steps();
        sum.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        io::write_summary(summary, sum);
      }
    } catch (const std::exception& e) {
      sum.status = std::string("failed: ") + e.what();
      io::write_summary(summary, sum);
      throw;
    }
    sum.status = "completed";
    io::write_summary(summary, sum);
    return summary;
  }

 private:
  static void assign(std::vector<T>& dst, const std::vector<double>& src) {
    dst.assign(src.begin(), src.end());
  }

  void write_frame_file(const std::string& path, const State<T, D>& s, int frame) const {
    std::vector<std::string> comments = {"ductile frame " + std::to_string(frame) + " time " +
                                         std::to_string(s.time)};
    for (size_t m = 0; m < data_.model.material_names.size(); ++m)
      comments.push_back("material " + std::to_string(m) + " " + data_.model.material_names[m]);
    for (size_t k = 0; k < data_.object_names.size(); ++k)
      comments.push_back("object " + std::to_string(k) + " " + data_.object_names[k]);
    io::write_ply(path, io::particle_table(s), comments);
  }

  SceneDocument doc_;
  SceneData<T, D> data_;
  std::unique_ptr<Simulator<T, D>> sim_;
};

}  // namespace

std::unique_ptr<PySimulator> make_simulator(const SceneDocument& doc, const std::string& dtype,
                                            const std::string& backend, const py::dict& bridges) {
  const Device dev = parse_device(backend);
  const bool dbl = parse_dtype(dtype);
  if (doc.dim == 2)
    return dbl ? std::unique_ptr<PySimulator>(new SimulatorImpl<double, 2>(doc, dev, bridges))
               : std::unique_ptr<PySimulator>(new SimulatorImpl<float, 2>(doc, dev, bridges));
  return dbl ? std::unique_ptr<PySimulator>(new SimulatorImpl<double, 3>(doc, dev, bridges))
             : std::unique_ptr<PySimulator>(new SimulatorImpl<float, 3>(doc, dev, bridges));
}

}  // namespace ductile::python
