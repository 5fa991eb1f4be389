// Running the built `ductile` executable from tests: exit code, standard output and standard error.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "io/temp_dir.h"

namespace ductile::test {

struct Result {
  int code = -1;
  std::string out, err;
};

// Runs the built executable with `args` (already shell-quoted) in `dir`, with the environment variables `env`
// ("NAME=value ...", shell-quoted) added.
inline Result run_ductile(const test::TempDir& dir, const std::string& args, const std::string& env = "") {
  const std::string out = dir.file("stdout.txt"), err = dir.file("stderr.txt");
  const std::string cmd = "cd '" + dir.path().string() + "' && " + (env.empty() ? "" : "env " + env + " ") +
                          "'" DUCTILE_BINARY "' " + args + " >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

inline nlohmann::json read_json(const std::string& path) {
  return nlohmann::json::parse(read_text(path));
}

}  // namespace ductile::test
