// The sandbox init (lifecycle in sandbox_init.hpp).
#include "backends/common/sandbox_init.hpp"

#include <spawn.h>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "backends/common/fd_passing.hpp"
#include "backends/common/host_port_listeners.hpp"
#include "backends/common/signal_relay.hpp"
#include "backends/common/socket_helper.hpp"
#include "backends/common/terminal.hpp"
#include "backends/common/identity.hpp"
#include "backends/common/init_spawner.hpp"
#include "backends/common/privilege_drop.hpp"
#include "backends/common/unix_guard_filter.hpp"
#include "net/common/log.hpp"

namespace netpen::backends {
namespace {

constexpr int init_failure = 125;

bool wait_for(int fd, std::string_view expected) {
  auto m = receive_message(fd);
  return m && m->payload == expected;
}

[[noreturn]] void report_and_exit(int fd, const error& e) {
  std::string payload;
  payload += msg_error_tag;
  payload += e.code;
  payload += msg_error_separator;
  payload += e.message;
  (void)send_message(fd, payload);
  ::_exit(init_failure);
}

// Starts the command: its own process group (the terminal's foreground one
// when netpen had the terminal), default signal dispositions, the signal mask
// netpen was started with. posix_spawn (vfork-style) rather than fork: the
// init is a copy of netpen and copying its page tables cost ~1.5 ms of start-up.
pid_t spawn_command(const init_config& cfg) {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_init(&actions);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD, SIGCONT, SIGPIPE, SIGTTOU,
                SIGTTIN, SIGTSTP})
    sigaddset(&defaults, s);
  ::posix_spawnattr_setsigdefault(&attr, &defaults);
  ::posix_spawnattr_setsigmask(&attr, &cfg.command_mask);
  ::posix_spawnattr_setpgroup(&attr, 0);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  // Runs in the child after setpgid, with every signal blocked (so no SIGTTOU).
  if (cfg.tty_fd >= 0) ::posix_spawn_file_actions_addtcsetpgrp_np(&actions, cfg.tty_fd);

  std::vector<char*> argv;
  for (const auto& a : cfg.spec->argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const auto env = command_environment(cfg.spec->identity);
  std::vector<char*> envp;
  for (const auto& v : env) envp.push_back(const_cast<char*>(v.c_str()));
  envp.push_back(nullptr);
  const int e = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (e != 0) {
    log::write_line(fmt::format("netpen: error: cannot run '{}': {}", cfg.spec->argv[0], std::strerror(e)));
    ::_exit(exec_failure_status(e));
  }
  return pid;
}

sigset_t init_signals() {
  sigset_t set = forwarded_signals();
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGCONT);
  return set;
}

// How many children the init has now (the socket helper included). Read
// from /proc/thread-self/children (CONFIG_PROC_CHILDREN), which lists the
// direct children whatever pid namespace the mounted /proc belongs to; -1
// when it cannot be read.
int children_left() {
  std::FILE* f = std::fopen("/proc/thread-self/children", "re");
  if (f == nullptr) return -1;
  int count = 0;
  long pid = 0;
  while (std::fscanf(f, "%ld", &pid) == 1) ++count;
  std::fclose(f);
  return count;
}

// --wait-all, once the command has ended: whether the tree is done. Every
// process of the pid namespace descends from the init (orphans reparent to
// it), so the tree is done when the only child left is the socket helper.
bool tree_done(pid_t helper) {
  const int left = children_left();
  if (left < 0) {  // cannot tell (no CONFIG_PROC_CHILDREN): end as without --wait-all, and say so
    log::write_line("netpen: warning: --wait-all: cannot list the tree's processes (/proc/thread-self/children); "
                    "the run ends with the command");
    return true;
  }
  return left <= (helper > 0 ? 1 : 0);
}

// Tells the parent the status, then ends the init (and with it the pid
// namespace: the kernel kills whatever of the tree is left).
[[noreturn]] void exit_announced(const init_config& cfg, int status) {
  (void)send_message(cfg.control_fd, exiting_message(status));
  ::_exit(status);
}

// pid 1's loop: reap everything, forward signals to the command, relay
// job-control stops to the parent. When the command ends, exit with its
// status; with --wait-all, only once every other process has ended too
// (a forwarded INT, TERM, HUP or QUIT then ends the wait at once: pid 1
// exiting kills the rest).
[[noreturn]] void supervise(const init_config& cfg, pid_t command, pid_t helper) {
  const sigset_t set = init_signals();
  bool stopped = false;
  std::optional<int> command_status;
  for (;;) {
    siginfo_t si{};
    const int sig = ::sigwaitinfo(&set, &si);
    if (sig < 0) continue;
    if (sig == SIGCONT) {
      if (stopped) {
        give_terminal_to(cfg.tty_fd, command);
        ::kill(-command, SIGCONT);
        stopped = false;
      }
      continue;
    }
    if (sig != SIGCHLD) {
      if (!command_status) ::kill(command, sig);
      else if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT) exit_announced(cfg, *command_status);
      continue;
    }
    int status = 0;
    pid_t p = 0;
    while ((p = ::waitpid(-1, &status, WNOHANG | WUNTRACED | WCONTINUED)) > 0) {
      if (p != command) continue;
      if (WIFSTOPPED(status)) {
        stopped = true;
        const int why = WSTOPSIG(status);
        (void)send_message(cfg.control_fd, why == SIGTTIN || why == SIGTTOU ? msg_stopped_tty : msg_stopped);
      } else if (WIFCONTINUED(status)) {
        stopped = false;
      } else if (!cfg.spec->wait_all) {
        exit_announced(cfg, shell_status(status));
      } else {
        command_status = shell_status(status);
      }
    }
    if (command_status && tree_done(helper)) exit_announced(cfg, *command_status);
  }
}

// --host-port: the listeners at 127.0.0.1 and [::1] in this namespace, to
// the parent in batches (closed here once sent).
[[nodiscard]] result<void> hand_over_listeners(const init_config& cfg) {
  if (cfg.spec->host_ports.empty()) return {};
  auto listeners = open_host_port_listeners(cfg.spec->host_ports, loopback_addresses(), "inside the sandbox", true);
  if (!listeners) return unexpected(listeners.error());
  std::vector<int> batch;
  for (std::size_t i = 0; i < listeners->size(); i += batch.size()) {
    batch.clear();
    for (std::size_t j = i; j < listeners->size() && batch.size() < max_message_fds; ++j)
      batch.push_back((*listeners)[j].get());
    if (auto r = send_message(cfg.control_fd, msg_listeners, batch); !r) return r;
  }
  return {};
}

// Forks the socket helper (inside every namespace, set up); the init keeps
// no end of its channel. A helper that cannot start only costs the
// loopback fallback.
pid_t start_socket_helper(const init_config& cfg) {
  const pid_t helper = ::fork();
  if (helper == 0) {
    ::close(cfg.control_fd);
    serve_sandbox_sockets(cfg.socket_helper_fd);
  }
  ::close(cfg.socket_helper_fd);
  return helper;
}

}  // namespace

std::string exiting_message(int status) { return fmt::format("{} {}", msg_exiting, status); }

std::optional<int> parse_exiting_message(std::string_view payload) {
  if (!payload.starts_with(msg_exiting) || payload.size() < msg_exiting.size() + 2 ||
      payload[msg_exiting.size()] != ' ')
    return std::nullopt;
  payload.remove_prefix(msg_exiting.size() + 1);
  int status = -1;
  auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), status);
  if (ec != std::errc{} || end != payload.data() + payload.size() || status < 0 || status > 255) return std::nullopt;
  return status;
}

int exec_failure_status(int err) { return err == ENOENT || err == ENOTDIR ? 127 : 126; }

void run_sandbox_init(const init_config& cfg) {
  // If netpen dies from here on, so does the init (and with it the whole
  // pid namespace). The race with a parent that died before this line is
  // closed by the control socket: its peer end is gone, so reads see EOF.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const sigset_t set = init_signals();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  ::prctl(PR_SET_NAME, "netpen-init", 0, 0, 0);

  if (!wait_for(cfg.control_fd, msg_maps_ready)) ::_exit(init_failure);
  auto handed = cfg.setup(*cfg.spec);
  if (!handed) report_and_exit(cfg.control_fd, handed.error());
  if (auto r = hand_over_listeners(cfg); !r) report_and_exit(cfg.control_fd, r.error());
  if (cfg.spec->least_privilege) {  // before "ok": a failure is the run's error, and nothing has run
    if (auto r = drop_tree_privileges(); !r) report_and_exit(cfg.control_fd, r.error());
  }
  if (auto r = send_message(cfg.control_fd, msg_setup_ok, handed->get()); !r) ::_exit(init_failure);
  handed->reset();

  if (!wait_for(cfg.control_fd, msg_run)) ::_exit(init_failure);
  if (cfg.spec->unix_guard) start_unix_guard(cfg.control_fd);  // before anything of the tree runs
  if (cfg.spec->persistent) {  // `netpen create`: no command of its own
    if (cfg.socket_helper_fd >= 0) start_socket_helper(cfg);
    serve_spawns(cfg.control_fd, cfg.command_mask);
  }
  if (cfg.spec->identity) {
    // Fail closed: the command never runs with more than it was meant to.
    if (auto r = become(*cfg.spec->identity); !r) {
      log::write_line(fmt::format("netpen: error: {}", r.error().message));
      ::_exit(init_failure);
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a credential change cleared it
  }
  const pid_t command = spawn_command(cfg);  // control_fd is close-on-exec
  pid_t helper = -1;
  if (cfg.socket_helper_fd >= 0) helper = start_socket_helper(cfg);  // after: the command stays pid 2
  supervise(cfg, command, helper);
}

}  // namespace netpen::backends
