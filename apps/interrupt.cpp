#include "apps/interrupt.h"

#include <csignal>

namespace ductile::app {

namespace {

volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_stop_signal(int sig) {
  g_signal = sig;
  std::signal(sig, SIG_DFL);  // a second signal ends the process at once
}

}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

int interrupt_signal() {
  return g_signal;
}

const char* interrupt_signal_name() {
  return g_signal == SIGINT ? "SIGINT" : g_signal == SIGTERM ? "SIGTERM" : "a signal";
}

}  // namespace ductile::app
