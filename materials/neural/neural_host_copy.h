// The fallback of a neural material in a CUDA run when the linked LibTorch has no CUDA: the arrays an
// operation reads and writes are copied to the host, the material runs on the CPU, and what it wrote is
// copied back (whole arrays: other materials' columns travel unchanged). Slow, but the same numbers.
#pragma once

#include <vector>

#include "core/memory.h"
#include "materials/material.h"

namespace ductile::neural {

// A host copy of n values at device pointer p (null stays null), written back by put().
template <class T>
struct HostArray {
  const T* src = nullptr;
  Device dev = Device::kCpu;
  std::vector<T> h;
  HostArray(const T* p, size_t n, Device d) : src(p), dev(d) {
    if (!p) return;
    h.resize(n);
    if (n) device_copy(h.data(), Device::kCpu, p, d, n * sizeof(T));
  }
  T* get() { return src ? h.data() : nullptr; }
  void put() {
    if (src && !h.empty())
      device_copy(const_cast<T*>(src), dev, h.data(), Device::kCpu, h.size() * sizeof(T));
  }
};

// Host copies of a view's F and of a batch.
template <class T, int D>
struct HostBatch {
  HostArray<T> F;
  HostArray<int32_t> index;
  HostArray<Status> status;
  ParticleView<T, D> view;
  MaterialBatch batch;
  HostBatch(const ParticleView<T, D>& p, const MaterialBatch& b, Status* st, Device dev)
      : F(p.F, size_t(D * D) * size_t(p.n), dev), index(b.index, size_t(b.count), dev), status(st, 1, dev) {
    view.n = p.n;
    view.F = F.get();
    batch = {index.get(), b.count};
  }
};

template <class T, int D>
void host_stress(const Material<T, D>& m, Device dev, const ParticleView<T, D>& p, const MaterialBatch& b,
                 T* tau, Status* st) {
  HostBatch<T, D> h(p, b, st, dev);
  HostArray<T> t(tau, size_t(D * D) * size_t(p.n), dev);
  m.stress(Device::kCpu, h.view, h.batch, t.get(), h.status.get());
  t.put(), h.status.put();
}

template <class T, int D>
void host_project(const Material<T, D>& m, Device dev, T dt, const ParticleView<T, D>& p,
                  const MaterialBatch& b, Status* st) {
  HostBatch<T, D> h(p, b, st, dev);
  m.project(Device::kCpu, dt, h.view, h.batch, h.status.get());
  h.F.put(), h.status.put();
}

template <class T, int D>
void host_stress_vjp(const Material<T, D>& m, Device dev, const ParticleView<T, D>& p, const MaterialBatch& b,
                     const T* adj_tau, T* adj_F, T* adj_params, Status* st) {
  const size_t n = size_t(D * D) * size_t(p.n), np = m.specs().size() + size_t(m.learnable_size());
  HostBatch<T, D> h(p, b, st, dev);
  HostArray<T> at(adj_tau, n, dev), aF(adj_F, n, dev), ap(adj_params, np, dev);
  m.stress_vjp(Device::kCpu, h.view, h.batch, at.get(), aF.get(), nullptr, nullptr, ap.get(), h.status.get());
  aF.put(), ap.put(), h.status.put();
}

template <class T, int D>
void host_project_vjp(const Material<T, D>& m, Device dev, T dt, const ParticleView<T, D>& trial,
                      const MaterialBatch& b, const T* adj_F_out, const T* adj_plastic_out, T* adj_F_trial,
                      T* adj_plastic_in, T* adj_params, Status* st) {
  const size_t n = size_t(D * D) * size_t(trial.n), np = m.specs().size() + size_t(m.learnable_size());
  HostBatch<T, D> h(trial, b, st, dev);
  HostArray<T> ao(adj_F_out, n, dev), po(adj_plastic_out, size_t(trial.n), dev), at(adj_F_trial, n, dev),
      pi(adj_plastic_in, size_t(trial.n), dev), ap(adj_params, np, dev);
  m.project_vjp(Device::kCpu, dt, h.view, h.batch, ao.get(), po.get(), at.get(), pi.get(), ap.get(),
                h.status.get());
  at.put(), pi.put(), ap.put(), h.status.put();
}

}  // namespace ductile::neural
