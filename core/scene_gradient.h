// Losses declared in a scene's "loss" section (docs/SCENE_FORMAT.md, "Gradients").
#pragma once

#include <memory>
#include <vector>

#include "core/loss.h"
#include "core/scene.h"

namespace ductile {

// The scene's losses, built against its particles (object selections, targets read from PLY files). Throws
// Error naming the JSON pointer when a target does not fit (e.g. a position target of the wrong length).
template <class T, int D>
std::vector<std::unique_ptr<Loss<T, D>>> build_losses(const SceneDocument& doc, const SceneData<T, D>& data);

}  // namespace ductile
