// CUDA launches of the analytic materials' stress and projection kernels.
#include "core/cuda_check.h"
#include "materials/all_models.h"
#include "materials/analytic.h"

namespace ductile {

template <class Model, class T, int D>
void launch_stress_cuda(const StressKernel<Model, T, D>& k, int count) {
  cuda_parallel_for(count, k);
}
template <class Model, class T, int D>
void launch_project_cuda(const ProjectKernel<Model, T, D>& k, int count) {
  cuda_parallel_for(count, k);
}
template <class Model, class T, int D>
void launch_stress_vjp_cuda(const StressVjpKernel<Model, T, D>& k, int count) {
  cuda_parallel_for(count, k);
}
template <class Model, class T, int D>
void launch_project_vjp_cuda(const ProjectVjpKernel<Model, T, D>& k, int count) {
  cuda_parallel_for(count, k);
}
// Chunk sums, then their ordered combination (same stream, so in order).
template <class T>
void launch_param_sum_cuda(const ParamChunkSum<T>& sum, const ParamChunkCombine<T>& combine, int nparams) {
  cuda_parallel_for((long long)nparams * sum.nchunks, sum);
  cuda_parallel_for(nparams, combine);
}
template void launch_param_sum_cuda<float>(const ParamChunkSum<float>&, const ParamChunkCombine<float>&, int);
template void launch_param_sum_cuda<double>(const ParamChunkSum<double>&, const ParamChunkCombine<double>&,
                                            int);

DUCTILE_FOR_EACH_ANALYTIC_MODEL(DUCTILE_INSTANTIATE_ANALYTIC_LAUNCHES)

}  // namespace ductile
