// The ductile executable: parse arguments, dispatch to a subcommand, turn errors into one line and exit 1.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "apps/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  // idle OpenMP threads sleep instead of spinning, unless the user chose: on a shared or loaded machine
  // spinning threads steal the cores the working ones need (a 2D gradient run measured 100 times slower).
  // The OpenMP runtime reads its environment when it is loaded, before main, so the program restarts itself
  // once with the setting (and carries on as it is if that fails).
  if (!std::getenv("OMP_WAIT_POLICY")) {
    setenv("OMP_WAIT_POLICY", "passive", 1);
    execv("/proc/self/exe", argv);
  }
  // LibTorch's materials and controller register when a scene first names one (core/torch_plugin.h)
  CLI::App app{"ductile: differentiable MLS-MPM simulation of deformable matter"};
  app.require_subcommand(0, 1);
  ductile::app::add_version_command(app);
  ductile::app::add_bench_command(app);
  ductile::app::add_simulate_command(app);
  ductile::app::add_grad_command(app);
  ductile::app::add_fit_command(app);
  ductile::app::add_render_command(app);
  ductile::app::add_optimize_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    // a subcommand that already reported its failure passes its exit code this way
    return e.get_exit_code();
  } catch (const CLI::Error& e) {
    // usage errors: one line, exit 1, like every other bad input
    std::fprintf(stderr, "error: %s (see --help)\n", e.what());
    return 1;
  } catch (const ductile::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  // no subcommand: say what there is
  if (app.get_subcommands().empty()) std::printf("%s", app.help().c_str());
  return 0;
}
