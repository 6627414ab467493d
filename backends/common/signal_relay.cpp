// Parent-side signal relay (see signal_relay.hpp).
#include "backends/common/signal_relay.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "backends/common/unique_fd.hpp"
#include "net/common/log.hpp"

namespace netpen::backends {

sigset_t forwarded_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&set, s);
  return set;
}

forwarded_signal_block::forwarded_signal_block() {
  const sigset_t set = forwarded_signals();
  active_ = ::pthread_sigmask(SIG_BLOCK, &set, &previous_) == 0;
}

void forwarded_signal_block::restore() {
  if (!active_) return;
  ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  active_ = false;
}

int shell_status(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

namespace {

bool reap(pid_t pid, int& status, int options) {
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, options);
    if (r == pid) return true;
    if (r < 0 && errno == EINTR) continue;
    return false;
  }
}

}  // namespace

std::optional<int> relay_signals_until_exit(pid_t pid, int pidfd, int extra_fd,
                                            const std::function<extra_outcome()>& on_extra) {
  const sigset_t set = forwarded_signals();
  unique_fd sfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  int status = 0;
  if (!sfd || pidfd < 0) {
    log::debug("signal relay unavailable ({}); waiting without forwarding", std::strerror(errno));
    return reap(pid, status, 0) ? shell_status(status) : 255;
  }
  for (;;) {
    pollfd fds[3] = {{pidfd, POLLIN, 0}, {sfd.get(), POLLIN, 0}, {extra_fd, POLLIN, 0}};
    const int n = ::poll(fds, extra_fd >= 0 ? nfds_t{3} : nfds_t{2}, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      signalfd_siginfo si{};
      while (::read(sfd.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
        const int sig = static_cast<int>(si.ssi_signo);
        log::debug("forwarding signal {} to the sandbox", sig);
        if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0U) != 0) ::kill(pid, sig);
      }
    }
    if (extra_fd >= 0 && fds[2].revents != 0) {
      const auto outcome = on_extra ? on_extra() : extra_outcome::stop_watching;
      if (outcome == extra_outcome::announced_exit) return std::nullopt;
      if (outcome == extra_outcome::stop_watching) extra_fd = -1;
    }
    if ((fds[0].revents & (POLLIN | POLLHUP)) != 0) break;
  }
  return reap(pid, status, 0) ? shell_status(status) : 255;
}

}  // namespace netpen::backends
