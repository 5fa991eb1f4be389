// Stubs for a build without CUDA: every GPU request fails with one clear message.
#include <string>

#include "core/device.h"
#include "core/error.h"

namespace ductile {

static const char* kNoCuda =
    "this build has no CUDA backend (configure with nvcc present or -DDUCTILE_WITH_CUDA=ON)";

void* cuda_alloc(size_t) {
  fail("", kNoCuda);
}
void cuda_free(void*) {}
void cuda_copy(void*, bool, const void*, bool, size_t) {
  fail("", kNoCuda);
}
void cuda_zero(void*, size_t) {
  fail("", kNoCuda);
}
void cuda_sync() {
  fail("", kNoCuda);
}
void* cuda_host_alloc(size_t) {
  fail("", kNoCuda);
}
void cuda_host_free(void*) {}
void cuda_copy_queued(void*, const void*, size_t) {
  fail("", kNoCuda);
}
bool cuda_available() {
  return false;
}
std::string cuda_device_description() {
  return "built without CUDA";
}

}  // namespace ductile
