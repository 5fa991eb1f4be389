// Each subcommand registers itself on the CLI11 app from its own file.
#pragma once

#include <CLI/CLI.hpp>

namespace ductile::app {

void add_version_command(CLI::App& app);
void add_bench_command(CLI::App& app);  // `ductile bench`: throughput of the standard scenes
// `ductile simulate [SCENE] --out DIR --backend cpu|cuda|auto --threads N --frames N --set path=value
// --quiet`
void add_simulate_command(CLI::App& app);

}  // namespace ductile::app
