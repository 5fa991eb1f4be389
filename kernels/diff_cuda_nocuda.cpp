// Without CUDA, asking for the CUDA gradient engine throws.
#include "core/error.h"
#include "kernels/diff_backend.h"

namespace ductile {

template <class T, int D>
std::unique_ptr<DiffBackend<T, D>> make_cuda_diff_backend() {
  fail("", "this build has no CUDA backend (configure with nvcc present or -DDUCTILE_WITH_CUDA=ON)");
}

template std::unique_ptr<DiffBackend<float, 2>> make_cuda_diff_backend<float, 2>();
template std::unique_ptr<DiffBackend<float, 3>> make_cuda_diff_backend<float, 3>();
template std::unique_ptr<DiffBackend<double, 2>> make_cuda_diff_backend<double, 2>();
template std::unique_ptr<DiffBackend<double, 3>> make_cuda_diff_backend<double, 3>();

}  // namespace ductile
