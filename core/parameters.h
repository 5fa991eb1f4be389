// Differentiable scene quantities by name ("materials/jelly/E", "colliders/paddle/velocity", ...): their
// entries can be read, nudged (for finite differences and fitting) and read off a Gradients
// (docs/GRADIENTS.md lists the names).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/scene.h"
#include "core/tape.h"

namespace ductile {

template <class T, int D>
struct Parameter {
  std::string name;
  int size = 1;  // scalar entries
  // Entry i's current value (null where the scene holds no single value, e.g. per-object angular velocity).
  std::function<double(const SceneData<T, D>&, int)> value;
  // Adds delta to entry i in the model or the initial state.
  std::function<void(SceneData<T, D>&, int, double)> add;
  // d loss / d entry i.
  std::function<double(const Gradients<T, D>&, const SceneData<T, D>&, int)> gradient;
};

// Everything a Parameter can change (initial state, material values, gravity, walls, colliders), saved so
// that finite differences and line searches return to exactly the same scene (x + h - 2h + h need not equal
// x).
template <class T, int D>
struct SceneSnapshot {
  State<T, D> state;
  std::vector<std::vector<T>> values, learnable;
  Vec<T, D> gravity;
  WallData<T, D> walls;
  std::vector<Collider<T, D>> colliders;

  explicit SceneSnapshot(const SceneData<T, D>& d)
      : state(d.state), gravity(d.model.gravity), walls(d.model.walls), colliders(d.model.colliders) {
    for (const auto& m : d.model.materials)
      values.push_back(m->values()), learnable.push_back(m->learnable());
  }
  void restore(SceneData<T, D>& d) const {
    d.state = state;
    for (size_t m = 0; m < values.size(); ++m) {
      d.model.materials[m]->values() = values[m];
      if (!learnable[m].empty()) d.model.materials[m]->set_learnable(learnable[m]);
    }
    d.model.gravity = gravity;
    d.model.walls = walls;
    d.model.colliders = colliders;
  }
};

// The parameter called `name`; throws Error "<where>: ..." listing what exists when there is no such thing.
template <class T, int D>
Parameter<T, D> find_parameter(const SceneData<T, D>& data, const std::string& name,
                               const std::string& where);

// Every scalar-or-vector parameter name of the scene except the per-particle arrays (particles/x, v, C, F).
template <class T, int D>
std::vector<std::string> parameter_names(const SceneData<T, D>& data);

}  // namespace ductile
