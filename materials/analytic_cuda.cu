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

#define DUCTILE_INSTANTIATE(M)                                                    \
  template void launch_stress_cuda<M, float, 2>(const StressKernel<M, float, 2>&, int);   \
  template void launch_stress_cuda<M, float, 3>(const StressKernel<M, float, 3>&, int);   \
  template void launch_stress_cuda<M, double, 2>(const StressKernel<M, double, 2>&, int); \
  template void launch_stress_cuda<M, double, 3>(const StressKernel<M, double, 3>&, int); \
  template void launch_project_cuda<M, float, 2>(const ProjectKernel<M, float, 2>&, int); \
  template void launch_project_cuda<M, float, 3>(const ProjectKernel<M, float, 3>&, int); \
  template void launch_project_cuda<M, double, 2>(const ProjectKernel<M, double, 2>&, int); \
  template void launch_project_cuda<M, double, 3>(const ProjectKernel<M, double, 3>&, int);
DUCTILE_FOR_EACH_ANALYTIC_MODEL(DUCTILE_INSTANTIATE)
#undef DUCTILE_INSTANTIATE

}  // namespace ductile
