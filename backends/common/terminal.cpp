// Terminal foreground handover (see terminal.hpp).
#include "backends/common/terminal.hpp"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

namespace netpen::backends {
namespace {

using steady = std::chrono::steady_clock;
constexpr auto borrow_grace = std::chrono::seconds(1);

std::atomic<bool> borrowed_now{false};
std::atomic<steady::rep> borrow_ended{0};  // steady_clock ticks; 0 = never borrowed

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

void note_terminal_borrowed(bool borrowed) {
  // The end time is stored first, so a reader that sees "not borrowed" also
  // sees when it stopped.
  if (!borrowed) borrow_ended.store(steady::now().time_since_epoch().count());
  borrowed_now.store(borrowed);
}

bool terminal_recently_borrowed() {
  if (borrowed_now.load()) return true;
  const auto ended = borrow_ended.load();
  return ended != 0 && steady::now() - steady::time_point(steady::duration(ended)) < borrow_grace;
}

}  // namespace netpen::backends
