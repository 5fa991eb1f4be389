// Untyped allocation and copies on a device, and a typed owning buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/device.h"

namespace ductile {

void* device_alloc(Device dev, size_t bytes);
void device_free(Device dev, void* p);
// Bytes held in device_alloc's allocations on one device (GPU memory for Device::kCuda): now, and the most at
// any time since the last reset_peak_bytes for that device (which sets the peak to what is held now).
struct HeldBytes {
  int64_t now = 0, peak = 0;
};
HeldBytes held_bytes(Device dev);
void reset_peak_bytes(Device dev);
void device_copy(void* dst, Device dst_dev, const void* src, Device src_dev, size_t bytes);
void device_zero(Device dev, void* p, size_t bytes);
// Waits until the device has finished the work queued on it (nothing to wait for on the CPU).
void device_sync(Device dev);
// Host memory the device copies from without making the host wait (page-locked for CUDA, plain for the CPU),
// and a copy from it to `dst` queued after the work queued before (a plain copy on the CPU). The source must
// stay unchanged until the device has run the copy (the next wait for the device, e.g. the status word).
void* staging_alloc(Device dev, size_t bytes);
void staging_free(Device dev, void* p);
void device_copy_queued(void* dst, Device dev, const void* staged, size_t bytes);

// An array of T on one device; moves, never copies implicitly.
template <class T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(Device dev, size_t n) { resize(dev, n); }
  ~Buffer() { release(); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept : dev_(o.dev_), p_(o.p_), n_(o.n_) { o.p_ = nullptr, o.n_ = 0; }
  Buffer& operator=(Buffer&& o) noexcept {
    if (this != &o) {
      release();
      dev_ = o.dev_, p_ = o.p_, n_ = o.n_;
      o.p_ = nullptr, o.n_ = 0;
    }
    return *this;
  }

  void resize(Device dev, size_t n) {
    if (dev == dev_ && n == n_) return;
    release();
    dev_ = dev;
    n_ = n;
    p_ = n ? static_cast<T*>(device_alloc(dev, n * sizeof(T))) : nullptr;
  }
  void zero() {
    if (n_) device_zero(dev_, p_, n_ * sizeof(T));
  }
  void upload(const std::vector<T>& h) {
    resize(dev_, h.size());
    if (n_) device_copy(p_, dev_, h.data(), Device::kCpu, n_ * sizeof(T));
  }
  void download(std::vector<T>& h) const {
    h.resize(n_);
    if (n_) device_copy(h.data(), Device::kCpu, p_, dev_, n_ * sizeof(T));
  }
  T* data() { return p_; }
  const T* data() const { return p_; }
  size_t size() const { return n_; }
  Device device() const { return dev_; }

 private:
  void release() {
    if (p_) device_free(dev_, p_);
    p_ = nullptr;
    n_ = 0;
  }
  Device dev_ = Device::kCpu;
  T* p_ = nullptr;
  size_t n_ = 0;
};

// Host staging memory for n values of T (staging_alloc), grown on demand; the contents do not survive a
// growth.
template <class T>
class Staging {
 public:
  Staging() = default;
  ~Staging() {
    if (p_) staging_free(dev_, p_);
  }
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  T* reserve(Device dev, size_t n) {
    if (dev != dev_ || n > n_) {
      if (p_) staging_free(dev_, p_);
      p_ = nullptr, n_ = 0, dev_ = dev;
      p_ = static_cast<T*>(staging_alloc(dev, n * sizeof(T)));
      n_ = n;
    }
    return p_;
  }

 private:
  Device dev_ = Device::kCpu;
  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace ductile
