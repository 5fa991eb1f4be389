// Running `ductile` in the background from tests, to stop it with a signal at an arbitrary moment.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "io/temp_dir.h"

namespace ductile::test {

// Starts the built executable with `args` in `dir`, output discarded; returns its process id.
inline pid_t spawn_ductile(const TempDir& dir, const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir.path().c_str()) != 0) _exit(127);
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1), dup2(null, 2);
    std::vector<char*> argv{const_cast<char*>(DUCTILE_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(DUCTILE_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

// Polls `ready` every 2 ms until it holds (true) or the process ended or 5 minutes passed (false).
inline bool wait_until(const std::function<bool()>& ready, pid_t pid) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return ready();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

// Sends `sig` and waits for the process; returns its wait status.
inline int stop(pid_t pid, int sig) {
  kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

}  // namespace ductile::test
