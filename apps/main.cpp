// The ductile executable: parse arguments, dispatch to a subcommand, turn errors into one line and exit 1.
#include <cstdio>
#include <exception>

#include "apps/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"ductile: differentiable MLS-MPM simulation of deformable matter"};
  app.require_subcommand(0, 1);
  ductile::app::add_version_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
