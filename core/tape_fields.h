// The time-varying particle arrays the tape stores, recomputes and differentiates: x, v, C, F and plastic.
#pragma once

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/memory.h"
#include "core/parallel_for.h"
#include "core/state.h"

namespace ductile {

// Zeroes b, or copies src into dst (same size); arrays on the CPU in parallel chunks, so that the fill (and
// the first touch of fresh memory) is spread over the threads like the loops around it.
template <class T>
inline void parallel_zero(Buffer<T>& b) {
  if (b.device() != Device::kCpu) return b.zero();
  constexpr int64_t kChunk = 1 << 15;
  const int64_t n = int64_t(b.size());
  T* p = b.data();
  cpu_parallel_for((n + kChunk - 1) / kChunk,
                   [&](int64_t c) { std::fill(p + c * kChunk, p + std::min(n, (c + 1) * kChunk), T(0)); }, 2);
}
template <class T>
inline void parallel_copy(Buffer<T>& dst, const Buffer<T>& src) {
  if (dst.device() != Device::kCpu || src.device() != Device::kCpu)
    return device_copy(dst.data(), dst.device(), src.data(), src.device(), src.size() * sizeof(T));
  constexpr int64_t kChunk = 1 << 15;
  const int64_t n = int64_t(src.size());
  cpu_parallel_for((n + kChunk - 1) / kChunk,
                   [&](int64_t c) {
                     const int64_t i = c * kChunk;
                     std::memcpy(dst.data() + i, src.data() + i, size_t(std::min(kChunk, n - i)) * sizeof(T));
                   },
                   2);
}

template <class T, int D>
struct TapeFields {
  Buffer<T> x, v, C, F, plastic;

  // Values per particle.
  static constexpr int width() { return 2 * D + 2 * D * D + 1; }

  void resize(Device dev, int n) {
    x.resize(dev, size_t(D) * n);
    v.resize(dev, size_t(D) * n);
    C.resize(dev, size_t(D * D) * n);
    F.resize(dev, size_t(D * D) * n);
    plastic.resize(dev, size_t(n));
  }
  void zero() {
    for (Buffer<T>* b : {&x, &v, &C, &F, &plastic}) parallel_zero(*b);
  }
  void copy_from(const TapeFields& o) {
    Buffer<T>* dst[5] = {&x, &v, &C, &F, &plastic};
    const Buffer<T>* src[5] = {&o.x, &o.v, &o.C, &o.F, &o.plastic};
    for (int k = 0; k < 5; ++k) parallel_copy(*dst[k], *src[k]);
  }
  void upload(const State<T, D>& s) {
    x.upload(s.x), v.upload(s.v), C.upload(s.C), F.upload(s.F), plastic.upload(s.plastic);
  }
  void download(State<T, D>& s) const {
    x.download(s.x), v.download(s.v), C.download(s.C), F.download(s.F), plastic.download(s.plastic);
  }
  // x += ax, v += av (host arrays laid out like x and v).
  void add_xv(const std::vector<double>& ax, const std::vector<double>& av) {
    std::vector<T> h;
    x.download(h);
    for (size_t i = 0; i < h.size(); ++i) h[i] += T(ax[i]);
    x.upload(h);
    v.download(h);
    for (size_t i = 0; i < h.size(); ++i) h[i] += T(av[i]);
    v.upload(h);
  }
};

}  // namespace ductile
