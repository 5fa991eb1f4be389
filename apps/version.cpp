// `ductile version`: versions of the program and of what it was built with.
#include <cstdio>
#include <string>

#include "apps/commands.h"
#include "core/device.h"
#include "core/io/vdb_volume.h"
#include "core/torch_plugin.h"

namespace ductile::app {

void add_version_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print versions of ductile and its backends");
  cmd->callback([] {
    std::printf("ductile %s\n", DUCTILE_VERSION);
    // LibTorch is a plugin, loaded here to read its version (core/torch_plugin.h)
    if (load_torch_plugin())
      std::printf("libtorch %s\n", torch_plugin_version().c_str());
    else if (!torch_plugin_error().empty())
      std::printf("libtorch: %s\n", torch_plugin_error().c_str());
    else
      std::printf("libtorch: not built\n");
    std::printf("cuda: %s\n", cuda_device_description().c_str());
    const std::string vdb = io::openvdb_version();
    std::printf("openvdb: %s\n", vdb.empty() ? "not built (-DDUCTILE_WITH_OPENVDB=OFF)" : vdb.c_str());
  });
}

}  // namespace ductile::app
