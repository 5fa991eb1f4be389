// Each subcommand registers itself on the CLI11 app from its own file.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "core/device.h"

namespace ductile::app {

void add_version_command(CLI::App& app);
void add_bench_command(CLI::App& app);  // `ductile bench`: throughput of the standard scenes
// `ductile simulate [SCENE] --out DIR --backend cpu|cuda|auto --threads N --frames N --set path=value
// --quiet`
void add_simulate_command(CLI::App& app);
// `ductile grad [SCENE] --wrt NAMES --fd-check K --checkpoint POLICY`: the loss and its gradient as JSON
void add_grad_command(CLI::App& app);
// `ductile fit SCENE --observed PATH --out DIR --param NAME[:scale[:min:max]] --optimizer lbfgs|adam
// --resume`
void add_fit_command(CLI::App& app);
// `ductile render RUN_DIR --out DIR --color material|object|speed|stress|J --camera ... --no-video`: PNG
// frames and an MP4
void add_render_command(CLI::App& app);
// `ductile optimize SCENE --out DIR --iterations N --method adam|random|cmaes --resume`: trains a soft robot's
// controller through the simulator
void add_optimize_command(CLI::App& app);

// The device of --backend cpu, cuda or auto (cuda when a GPU is visible); throws for cuda without one.
Device choose_device(const std::string& backend);

}  // namespace ductile::app
