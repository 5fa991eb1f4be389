// Clean stops of long commands (simulate, fit, optimize): SIGINT (Ctrl-C) and SIGTERM only set a flag that
// the command polls between units of work (a frame, an iteration); it then writes a checkpoint, reports
// status "interrupted" and exits with kInterruptedExitCode. A second signal ends the process at once.
#pragma once

namespace ductile::app {

constexpr int kInterruptedExitCode = 130;  // 128 + SIGINT, as shells report Ctrl-C

// Installs the handlers for SIGINT and SIGTERM (idempotent).
void install_interrupt_handlers();
// The signal that asked the command to stop (SIGINT or SIGTERM), 0 when none did.
int interrupt_signal();
// "SIGINT", "SIGTERM" or "a signal".
const char* interrupt_signal_name();

}  // namespace ductile::app
