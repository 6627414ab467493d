// The init's persistent mode (see init_spawner.hpp).
#include "backends/common/init_spawner.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "backends/common/fd_passing.hpp"
#include "backends/common/identity.hpp"
#include "backends/common/sandbox_init.hpp"
#include "backends/common/signal_relay.hpp"
#include "backends/common/spawn_request.hpp"

extern char** environ;

namespace netpen::backends {
namespace {

void say(int fd, const std::string& text) {
  if (::write(fd, text.data(), text.size()) < 0) {
  }
}

// In the forked child: becomes the requested command or exits.
[[noreturn]] void become_command(spawn_request& r, std::vector<unique_fd>& fds, const sigset_t& mask) {
  for (int s = 1; s < NSIG; ++s) ::signal(s, SIG_DFL);
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
  ::setsid();
  const int in = fds[0].get();
  const int out = fds.size() >= 3 ? fds[1].get() : in;
  const int err = fds.size() >= 3 ? fds[2].get() : in;
  if (r.exec.tty) ::ioctl(in, TIOCSCTTY, 0);
  if (::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(125);
  if (r.identity) {
    if (auto ok = become(*r.identity); !ok) {
      say(2, fmt::format("netpen: error: {}\n", ok.error().message));
      ::_exit(125);
    }
  }
  if (::chdir(r.exec.cwd.c_str()) != 0 && (!r.identity || ::chdir(r.identity->home.c_str()) != 0) &&
      ::chdir("/") != 0)
    ::_exit(125);
  std::vector<char*> argv, envp;
  for (auto& a : r.exec.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : r.exec.env) envp.push_back(e.data());
  envp.push_back(nullptr);
  environ = envp.data();  // execvp looks argv[0] up in the command's own PATH
  ::execvp(argv[0], argv.data());
  const int e = errno;
  say(2, fmt::format("netpen: error: cannot run '{}': {}\n", r.exec.argv[0], std::strerror(e)));
  ::_exit(exec_failure_status(e));
}

class spawner {
 public:
  spawner(int control, const sigset_t& mask) : control_(control), mask_(mask) {}

  // false: the init should end.
  bool on_control() {
    auto m = receive_message(control_);
    if (!m || m->payload == msg_stop) return false;
    if (m->payload.starts_with("signal ")) {
      std::uint64_t id = 0;
      int sig = 0;
      std::istringstream in(m->payload.substr(7));
      if (in >> id >> sig) {
        if (auto it = running_.find(id); it != running_.end() && sig > 0 && sig < NSIG) ::kill(-it->second, sig);
      }
      return true;
    }
    auto r = decode_spawn_request(m->payload);
    if (!r || m->fds.empty()) return true;  // the daemon never sends that; nothing to run
    const pid_t pid = ::fork();
    if (pid == 0) become_command(*r, m->fds, mask_);
    if (pid < 0) {
      (void)send_message(control_, fmt::format("exited {} 125", r->id));
      return true;
    }
    running_[r->id] = pid;
    by_pid_[pid] = r->id;
    (void)send_message(control_, fmt::format("spawned {} {}", r->id, pid));
    return true;
  }

  void reap() {
    int status = 0;
    pid_t p = 0;
    while ((p = ::waitpid(-1, &status, WNOHANG | WUNTRACED)) > 0) {
      auto it = by_pid_.find(p);
      if (it == by_pid_.end()) continue;
      if (WIFSTOPPED(status)) {  // Ctrl-Z: the exec stops itself too, and continues it on `fg`
        (void)send_message(control_, fmt::format("stopped {} {}", it->second, WSTOPSIG(status)));
        continue;
      }
      (void)send_message(control_, fmt::format("exited {} {}", it->second, shell_status(status)));
      running_.erase(it->second);
      by_pid_.erase(it);
    }
  }

 private:
  int control_;
  sigset_t mask_;
  std::map<std::uint64_t, pid_t> running_;
  std::map<pid_t, std::uint64_t> by_pid_;
};

}  // namespace

void serve_spawns(int control_fd, const sigset_t& command_mask) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  const int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) ::_exit(125);
  spawner s(control_fd, command_mask);
  for (;;) {
    pollfd fds[2] = {{control_fd, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      ::_exit(125);
    }
    if ((fds[1].revents & POLLIN) != 0) {
      signalfd_siginfo si{};
      while (::read(sfd, &si, sizeof si) == sizeof si) {
      }
      s.reap();
    }
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !s.on_control()) ::_exit(0);
  }
}

}  // namespace netpen::backends
