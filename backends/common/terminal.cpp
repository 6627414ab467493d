// Terminal foreground handover (see terminal.hpp).
#include "backends/common/terminal.hpp"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

namespace netpen::backends {
namespace {

// tcsetpgrp from a background group raises SIGTTOU unless it is ignored.
void set_foreground(int fd, pid_t pgrp) {
  struct sigaction ign {};
  struct sigaction old {};
  ign.sa_handler = SIG_IGN;
  sigemptyset(&ign.sa_mask);
  ::sigaction(SIGTTOU, &ign, &old);
  (void)::tcsetpgrp(fd, pgrp);
  ::sigaction(SIGTTOU, &old, nullptr);
}

}  // namespace

terminal_state capture_terminal() {
  terminal_state s;
  if (::isatty(STDIN_FILENO) == 0) return s;
  const pid_t fg = ::tcgetpgrp(STDIN_FILENO);
  const pid_t own = ::getpgrp();
  if (fg < 0 || fg != own) return s;
  s.fd = STDIN_FILENO;
  s.netpen_pgrp = own;
  return s;
}

void give_terminal_to(int tty_fd, pid_t pgrp) {
  if (tty_fd < 0 || pgrp <= 0) return;
  set_foreground(tty_fd, pgrp);
}

void restore_terminal(const terminal_state& state) {
  if (state.fd < 0) return;
  if (::tcgetpgrp(state.fd) == state.netpen_pgrp) return;
  set_foreground(state.fd, state.netpen_pgrp);
}

}  // namespace netpen::backends
