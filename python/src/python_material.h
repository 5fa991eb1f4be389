// The "python" material: a Kirchhoff stress tau(F) computed in Python (a torch.nn.Module behind
// ductile.material.ModuleBridge) on each batch of deformation gradients, and its vector-Jacobian product by
// torch.autograd, also in Python (docs/PYTHON.md, "Neural materials in Python").
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "core/model.h"

namespace ductile::python {

// Adds the model "python" (parameters density and wave_speed) to the material registry; idempotent.
void register_python_material();

// Gives each "python" material of `model` its bridge from `bridges` (material name -> bridge object with
// stress, stress_vjp, learnable, set_learnable and size). Throws Error naming a python material without one,
// or a bridge for a material that is not "python".
template <class T, int D>
void bind_python_materials(Model<T, D>& model, const pybind11::dict& bridges);

}  // namespace ductile::python
