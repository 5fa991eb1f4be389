// A trained controller on disk: controller.json holds its type, its settings, its parameters and the
// co-designed values it was trained with (docs/ROBOTS.md, "Files").
#pragma once

#include <string>
#include <vector>

#include "core/control/controller.h"

namespace ductile {

// Writes the file atomically.
void save_controller_file(const std::string& path, const Controller& c,
                          const std::vector<std::string>& codesign,
                          const std::vector<double>& codesign_values);
// Sets c's parameters from the file; throws Error naming the file when it is unreadable or was written for
// another type or size of controller.
void load_controller_file(const std::string& path, Controller& c);

}  // namespace ductile
