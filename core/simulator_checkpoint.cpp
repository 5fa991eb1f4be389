// Simulator::save and restore: the particle buffers exactly as stored (the CPU backend keeps particles in
// cell order and breaks ties by slot, so the order itself is part of the state), the time and the step.
#include <cmath>
#include <type_traits>

#include "core/io/checkpoint_file.h"
#include "core/simulator.h"

namespace ductile {

template <class T, int D>
void Simulator<T, D>::save(io::CheckpointFile& c) const {
  const auto& b = buf_[cur_];
  auto put = [&](const char* name, const auto& buffer) {
    std::vector<std::remove_cv_t<std::remove_pointer_t<decltype(buffer.data())>>> h;
    buffer.download(h);
    c.put(std::string("sim.") + name, h);
  };
  put("x", b.x), put("v", b.v), put("C", b.C), put("F", b.F), put("plastic", b.plastic);
  put("mass", b.mass), put("vol0", b.vol0), put("material", b.material), put("id", b.id);
  c.put("sim.origin", origin_);
  c.meta["sim"] = {{"boundary_events", boundary_events_},
                   {"dim", D},
                   {"scalar_bytes", sizeof(T)},
                   {"particles", b.n},
                   {"time", time_},
                   {"step", step_},
                   {"materials", model_.materials.size()},
                   {"grid", model_.grid.num_nodes()}};
}

template <class T, int D>
void Simulator<T, D>::restore(const io::CheckpointFile& c, const std::string& file) {
  if (!c.meta.contains("sim") || !c.meta["sim"].is_object())
    fail(file, "no simulator state in the checkpoint");
  const auto& m = c.meta["sim"];
  auto num = [&](const char* key) {
    if (!m.contains(key) || !m[key].is_number()) fail(file, std::string("checkpoint lacks sim.") + key);
    return m[key].get<double>();
  };
  if (num("dim") != D || num("scalar_bytes") != sizeof(T))
    fail(file, "the checkpoint holds a " + std::to_string(int(num("dim"))) + "D state of " +
                   std::to_string(int(num("scalar_bytes"))) + "-byte scalars, this run is " +
                   std::to_string(D) + "D of " + std::to_string(sizeof(T)));
  const int nm = int(model_.materials.size());
  if (num("materials") != nm || num("grid") != double(model_.grid.num_nodes()))
    fail(file, "the checkpoint's materials or grid differ from the scene's");
  const double n = num("particles");
  if (!(n >= 0 && n <= 2147483647.0)) fail(file, "bad particle count in the checkpoint");
  const int np = int(n);
  // every array with its exact length, materials and ids in range, ids a permutation
  auto get = [&](const char* name, auto zero, size_t width) {
    auto v = c.get<decltype(zero)>(std::string("sim.") + name, file);
    if (v.size() != width * size_t(np))
      fail(file, std::string("checkpoint array sim.") + name + " has " + std::to_string(v.size()) +
                     " values, expected " + std::to_string(width * size_t(np)));
    return v;
  };
  const auto x = get("x", T(), D), v = get("v", T(), D), C = get("C", T(), D * D), F = get("F", T(), D * D);
  const auto plastic = get("plastic", T(), 1), mass = get("mass", T(), 1), vol0 = get("vol0", T(), 1);
  const auto material = get("material", int32_t(), 1), id = get("id", int32_t(), 1);
  // a state the simulator wrote is finite and inside the domain (anything else failed or was clamped)
  for (const auto* a : {&x, &v, &C, &F, &plastic, &mass, &vol0})
    for (T value : *a)
      if (!std::isfinite(value)) fail(file, "checkpoint holds a value that is not finite");
  for (int d = 0; d < D; ++d)
    for (int q = 0; q < np; ++q)
      if (!(x[size_t(d) * np + q] >= model_.domain_min[d] && x[size_t(d) * np + q] <= model_.domain_max[d]))
        fail(file, "checkpoint particle slot " + std::to_string(q) + " lies outside the domain");
  std::vector<char> seen(size_t(np), 0);
  host_material_.assign(size_t(np), 0);
  for (int q = 0; q < np; ++q) {
    if (material[q] < 0 || material[q] >= nm || id[q] < 0 || id[q] >= np || seen[id[q]]++)
      fail(file, "checkpoint particle slot " + std::to_string(q) + " has a bad material or id");
    host_material_[id[q]] = material[q];
  }
  auto put = [&](auto& buffer, const auto& host) {
    buffer.resize(device_, host.size());
    buffer.upload(host);
  };
  for (auto& b : buf_) {
    b.n = np;
    put(b.x, x), put(b.v, v), put(b.C, C), put(b.F, F), put(b.plastic, plastic);
    put(b.mass, mass), put(b.vol0, vol0), put(b.material, material), put(b.id, id);
  }
  cur_ = 0;
  tau_.resize(device_, size_t(D * D) * np);
  batch_index_.clear();
  batch_count_.clear();
  for (int k = 0; k < nm; ++k) batch_index_.emplace_back(device_, 0);
  batch_count_.assign(nm, 0);
  rebuild_batches_from(material);
  backend_->particles_changed();
  // particles removed at the boundary: the initial index of each, increasing
  const auto origin = c.get<int32_t>("sim.origin", file);
  if (!origin.empty() && origin.size() != size_t(np))
    fail(file, "checkpoint array sim.origin has a bad size");
  for (size_t p = 0; p < origin.size(); ++p)
    if (origin[p] < 0 || (p > 0 && origin[p] <= origin[p - 1]))
      fail(file, "checkpoint array sim.origin is not increasing");
  origin_ = origin;
  boundary_events_ = int64_t(num("boundary_events"));
  time_ = num("time");
  step_ = int64_t(num("step"));
}

#define DUCTILE_INSTANTIATE_SIM_CKPT(T, D)                        \
  template void Simulator<T, D>::save(io::CheckpointFile&) const; \
  template void Simulator<T, D>::restore(const io::CheckpointFile&, const std::string&);
DUCTILE_INSTANTIATE_SIM_CKPT(float, 2)
DUCTILE_INSTANTIATE_SIM_CKPT(float, 3)
DUCTILE_INSTANTIATE_SIM_CKPT(double, 2)
DUCTILE_INSTANTIATE_SIM_CKPT(double, 3)

}  // namespace ductile
