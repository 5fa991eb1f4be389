// Boundary policies clamp and delete (docs/SCENE_FORMAT.md, domain.boundary.policy): after a step whose only
// fault is particles outside the domain, those particles are put back on the domain's faces (their velocity
// kept; the walls' grid conditions act on them from the next step) or removed from the simulation. Runs on
// the host over the particle arrays, only on the steps where a particle left.
#include <algorithm>
#include <type_traits>

#include "core/error.h"
#include "core/simulator.h"

namespace ductile {

template <class T, int D>
void Simulator<T, D>::apply_boundary_policy() {
  auto& b = buf_[cur_];
  const int n = b.n;
  std::vector<T> x;
  b.x.download(x);
  const auto& lo = model_.domain_min;
  const auto& hi = model_.domain_max;
  std::vector<char> out(size_t(n), 0);
  int64_t count = 0;
  for (int q = 0; q < n; ++q) {
    for (int d = 0; d < D; ++d) out[q] |= !(x[size_t(d) * n + q] >= lo[d] && x[size_t(d) * n + q] <= hi[d]);
    count += out[q];
  }
  boundary_events_ += count;
  const std::vector<Status> clear(1);
  status_.upload(clear);
  backend_->particles_changed();
  if (model_.boundary_policy == BoundaryPolicy::kClamp) {
    for (int q = 0; q < n; ++q)
      if (out[q])
        for (int d = 0; d < D; ++d) {
          T& c = x[size_t(d) * n + q];
          c = std::min(std::max(c, lo[d]), hi[d]);  // NaN never reaches here (its own fault bit)
        }
    b.x.upload(x);
    return;
  }
  // delete: keep the other slots in their order; particle ids are renumbered densely in their old order
  const int kept = n - int(count);
  if (kept == 0)
    fail("step " + std::to_string(step_), "every particle has left the domain (boundary policy 'delete')");
  std::vector<int32_t> id, material;
  b.id.download(id);
  b.material.download(material);
  std::vector<char> keep_id(size_t(n), 0);
  for (int q = 0; q < n; ++q) keep_id[id[q]] = !out[q];
  std::vector<int32_t> new_id(static_cast<size_t>(n), -1), origin(static_cast<size_t>(kept)),
      host_material(static_cast<size_t>(kept));
  for (int p = 0, r = 0; p < n; ++p)
    if (keep_id[p]) {
      new_id[p] = r;
      origin[r] = origin_.empty() ? p : origin_[p];
      host_material[r] = host_material_[p];
      ++r;
    }
  // component c of slot q lives at [c * n + q]: compact every field of `width` components
  auto compact = [&](auto& buffer, int width) {
    std::vector<std::remove_cv_t<std::remove_pointer_t<decltype(buffer.data())>>> h, r;
    buffer.download(h);
    r.reserve(size_t(width) * kept);
    for (int c = 0; c < width; ++c)
      for (int q = 0; q < n; ++q)
        if (!out[q]) r.push_back(h[size_t(c) * n + q]);
    return r;
  };
  const auto xs = compact(b.x, D), vs = compact(b.v, D), Cs = compact(b.C, D * D), Fs = compact(b.F, D * D);
  const auto ps = compact(b.plastic, 1), ms = compact(b.mass, 1), v0 = compact(b.vol0, 1);
  const auto mats = compact(b.material, 1);
  auto ids = compact(b.id, 1);
  for (auto& i : ids) i = new_id[i];
  auto put = [&](auto& buffer, const auto& host) {
    buffer.resize(device_, host.size());
    buffer.upload(host);
  };
  for (auto& o : buf_) {
    o.n = kept;
    put(o.x, xs), put(o.v, vs), put(o.C, Cs), put(o.F, Fs), put(o.plastic, ps);
    put(o.mass, ms), put(o.vol0, v0), put(o.material, mats), put(o.id, ids);
  }
  tau_.resize(device_, size_t(D * D) * kept);
  host_material_ = host_material;
  origin_ = origin;
  rebuild_batches_from(mats);
}

template void Simulator<float, 2>::apply_boundary_policy();
template void Simulator<float, 3>::apply_boundary_policy();
template void Simulator<double, 2>::apply_boundary_policy();
template void Simulator<double, 3>::apply_boundary_policy();

}  // namespace ductile
