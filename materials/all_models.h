// Every analytic model, for the registry and the CUDA instantiations: X(ModelStruct).
#pragma once

#include "materials/drucker_prager.h"
#include "materials/fixed_corotated.h"
#include "materials/fluid.h"
#include "materials/herschel_bulkley.h"
#include "materials/neo_hookean.h"
#include "materials/snow.h"
#include "materials/von_mises.h"

#define DUCTILE_FOR_EACH_ANALYTIC_MODEL(X) \
  X(FixedCorotated)                        \
  X(NeoHookean)                            \
  X(VonMises)                              \
  X(DruckerPrager)                         \
  X(Snow)                                  \
  X(Fluid)                                 \
  X(HerschelBulkley)

// Explicit instantiations of the CUDA launches of one model (materials/analytic_cuda.cu, or the throwing
// stubs of analytic_nocuda.cpp).
#define DUCTILE_INSTANTIATE_ANALYTIC_LAUNCHES(M)                                                   \
  template void launch_stress_cuda<M, float, 2>(const StressKernel<M, float, 2>&, int);            \
  template void launch_stress_cuda<M, float, 3>(const StressKernel<M, float, 3>&, int);            \
  template void launch_stress_cuda<M, double, 2>(const StressKernel<M, double, 2>&, int);          \
  template void launch_stress_cuda<M, double, 3>(const StressKernel<M, double, 3>&, int);          \
  template void launch_project_cuda<M, float, 2>(const ProjectKernel<M, float, 2>&, int);          \
  template void launch_project_cuda<M, float, 3>(const ProjectKernel<M, float, 3>&, int);          \
  template void launch_project_cuda<M, double, 2>(const ProjectKernel<M, double, 2>&, int);        \
  template void launch_project_cuda<M, double, 3>(const ProjectKernel<M, double, 3>&, int);        \
  template void launch_stress_vjp_cuda<M, float, 2>(const StressVjpKernel<M, float, 2>&, int);     \
  template void launch_stress_vjp_cuda<M, float, 3>(const StressVjpKernel<M, float, 3>&, int);     \
  template void launch_stress_vjp_cuda<M, double, 2>(const StressVjpKernel<M, double, 2>&, int);   \
  template void launch_stress_vjp_cuda<M, double, 3>(const StressVjpKernel<M, double, 3>&, int);   \
  template void launch_project_vjp_cuda<M, float, 2>(const ProjectVjpKernel<M, float, 2>&, int);   \
  template void launch_project_vjp_cuda<M, float, 3>(const ProjectVjpKernel<M, float, 3>&, int);   \
  template void launch_project_vjp_cuda<M, double, 2>(const ProjectVjpKernel<M, double, 2>&, int); \
  template void launch_project_vjp_cuda<M, double, 3>(const ProjectVjpKernel<M, double, 3>&, int);
