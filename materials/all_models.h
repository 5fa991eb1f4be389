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
