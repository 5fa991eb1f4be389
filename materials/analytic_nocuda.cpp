// Without CUDA the analytic materials' GPU launches throw.
#include "core/error.h"
#include "materials/all_models.h"
#include "materials/analytic.h"

namespace ductile {

template <class Model, class T, int D>
void launch_stress_cuda(const StressKernel<Model, T, D>&, int) {
  fail("", "this build has no CUDA backend (configure with nvcc present or -DDUCTILE_WITH_CUDA=ON)");
}
template <class Model, class T, int D>
void launch_project_cuda(const ProjectKernel<Model, T, D>&, int) {
  fail("", "this build has no CUDA backend (configure with nvcc present or -DDUCTILE_WITH_CUDA=ON)");
}
template <class Model, class T, int D>
void launch_stress_vjp_cuda(const StressVjpKernel<Model, T, D>&, int) {
  fail("", "this build has no CUDA backend (configure with nvcc present or -DDUCTILE_WITH_CUDA=ON)");
}
template <class Model, class T, int D>
void launch_project_vjp_cuda(const ProjectVjpKernel<Model, T, D>&, int) {
  fail("", "this build has no CUDA backend (configure with nvcc present or -DDUCTILE_WITH_CUDA=ON)");
}
template <class T>
void launch_param_sum_cuda(const ParamChunkSum<T>&, const ParamChunkCombine<T>&, int) {
  fail("", "this build has no CUDA backend (configure with nvcc present or -DDUCTILE_WITH_CUDA=ON)");
}
template void launch_param_sum_cuda<float>(const ParamChunkSum<float>&, const ParamChunkCombine<float>&, int);
template void launch_param_sum_cuda<double>(const ParamChunkSum<double>&, const ParamChunkCombine<double>&,
                                            int);

DUCTILE_FOR_EACH_ANALYTIC_MODEL(DUCTILE_INSTANTIATE_ANALYTIC_LAUNCHES)

}  // namespace ductile
