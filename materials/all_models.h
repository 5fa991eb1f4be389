// Every analytic model, for the registry and the CUDA instantiations: X(ModelStruct).
#pragma once

#include "materials/fixed_corotated.h"

#define DUCTILE_FOR_EACH_ANALYTIC_MODEL(X) X(FixedCorotated)
