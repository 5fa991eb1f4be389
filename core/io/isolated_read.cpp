// Reading an untrusted file in a child process first (isolated_read.h).
#include "core/io/isolated_read.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <thread>

#include "core/error.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define DUCTILE_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define DUCTILE_SANITIZED 1
#endif
#ifdef DUCTILE_SANITIZED
#include <sanitizer/common_interface_defs.h>
#endif

namespace ductile::io {

void vet_in_child(const std::string& path, const std::string& what, const std::function<void()>& read,
                  double seconds) {
  int pipe_fd[2];
  if (::pipe(pipe_fd) != 0)
    fail(path, "cannot start a process to read the " + what + ": " + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fd[0]), ::close(pipe_fd[1]);
    fail(path, "cannot start a process to read the " + what + ": " + std::strerror(errno));
  }
  if (pid == 0) {
    // the child: default signal dispositions and no death hooks of a fuzzer in this process, so that a crash
    // only ends the child
#ifdef DUCTILE_SANITIZED
    __sanitizer_set_death_callback(nullptr);
#endif
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGINT, SIGTERM}) std::signal(s, SIG_DFL);
    ::close(pipe_fd[0]);
    int code = 0;
    std::string message;
    try {
      read();
    } catch (const Error& e) {
      code = 3, message = e.what();
    } catch (const std::exception& e) {
      code = 3, message = e.what();
    } catch (...) {
      code = 3, message = "unknown error";
    }
    // a clean error: its message goes to the parent, which reports it
    if (message.size() > 4000) message.resize(4000);  // within the pipe's buffer: the write cannot block
    if (code != 0 && ::write(pipe_fd[1], message.data(), message.size()) < 0) code = 4;
    ::_exit(code);
  }
  ::close(pipe_fd[1]);
  // the parent: wait, with a time limit
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) {
      ::close(pipe_fd[0]);
      fail(path, "lost the process reading the " + what);
    }
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (waited > seconds) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ::close(pipe_fd[0]);
      char limit[32];
      std::snprintf(limit, sizeof limit, "%g", seconds);
      fail(path, "reading the " + what + " took over " + limit + " s; the file is damaged or hostile");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // the child's error message, if any (the child has exited: the pipe holds everything it wrote)
  std::string message;
  char buf[4096];
  for (ssize_t got; (got = ::read(pipe_fd[0], buf, sizeof buf)) > 0;) message.append(buf, size_t(got));
  ::close(pipe_fd[0]);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3) throw Error(message);
  if (WIFSIGNALED(status))
    fail(path, "the " + what + " reader crashed on this file (signal " + std::to_string(WTERMSIG(status)) +
                   " in a separate process); the file is damaged or not a valid " + what);
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3)
    fail(path, "the " + what + " reader failed on this file (exit " + std::to_string(WEXITSTATUS(status)) +
                   " in a separate process); the file is damaged or not a valid " + what);
}

}  // namespace ductile::io
