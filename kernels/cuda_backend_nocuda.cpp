// Without CUDA, asking for the CUDA backend throws.
#include "core/error.h"
#include "kernels/backend.h"

namespace ductile {

template <class T, int D>
std::unique_ptr<Backend<T, D>> make_cuda_backend() {
  fail("", "this build has no CUDA backend (configure with nvcc present or -DDUCTILE_WITH_CUDA=ON)");
}

template std::unique_ptr<Backend<float, 2>> make_cuda_backend<float, 2>();
template std::unique_ptr<Backend<float, 3>> make_cuda_backend<float, 3>();
template std::unique_ptr<Backend<double, 2>> make_cuda_backend<double, 2>();
template std::unique_ptr<Backend<double, 3>> make_cuda_backend<double, 3>();

}  // namespace ductile
