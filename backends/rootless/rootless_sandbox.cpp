// Rootless backend: implements backends::sandbox with user, net, mount and
// pid namespaces and a tap device.
//
// Theory of operation (setup sequence):
//  1. preflight(): namespaces present, user namespaces allowed (sysctls,
//     AppArmor), /dev/net/tun openable; any miss is an actionable error.
//  2. The forwarded signals (INT TERM HUP QUIT USR1 USR2 WINCH) are blocked
//     in netpen's main thread now, before any thread exists, so every later
//     thread inherits the mask and only wait() sees them (signalfd).
//  3. A SOCK_SEQPACKET socketpair is the control channel. clone3() with
//     CLONE_NEWUSER|NEWNET|NEWNS|NEWPID|PIDFD creates the sandbox init: pid 1
//     of a new pid namespace, with full capabilities in its user namespace.
//  4. The parent writes the uid/gid maps (directly, else newuidmap /
//     newgidmap; uid_map.*) and sends "maps". The init arms PDEATHSIG, then
//     makes mounts private, mounts /proc, creates tap0 in its own network
//     namespace, configures lo and tap0 over rtnetlink, and applies the
//     resolv.conf / hosts overlays on private tmpfs mounts (child_setup.*).
//  5. make_rootless_sandbox returns here, so netpen can start its engine
//     meanwhile. wait_ready() then receives "ok" with the tap fd
//     (SCM_RIGHTS), or "E<code>\x1f<msg>" after which the init exits; the
//     parent reaps it and returns the error: nothing has run and nothing is
//     left (the namespaces die with it).
//  6. launch() sends "run": the init spawns the command (posix_spawn) in its own
//     process group (the terminal's foreground one when netpen had the
//     terminal), then reaps, forwards signals and reports job-control stops
//     over the control channel (sandbox_init.*).
//  7. wait() forwards netpen's signals to the init until it exits, reaps it,
//     gives the terminal back to netpen's group and returns the status.
// If netpen dies at any point, PDEATHSIG kills the init and the kernel kills
// everything else in its pid namespace. No file is created on the host.
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "backends/common/fd_passing.hpp"
#include "backends/common/signal_relay.hpp"
#include "backends/common/terminal.hpp"
#include "backends/common/unique_fd.hpp"
#include "backends/rootless/preflight.hpp"
#include "backends/rootless/sandbox_init.hpp"
#include "backends/rootless/uid_map.hpp"
#include "backends/sandbox.hpp"
#include "net/common/log.hpp"

namespace netpen::backends {
namespace {

using namespace rootless;

error decode_child_error(const std::string& payload) {
  const auto sep = payload.find(msg_error_separator);
  if (payload.empty() || payload.front() != msg_error_tag || sep == std::string::npos)
    return {"sandbox-setup", fmt::format("the sandbox reported an unexpected message '{}'", payload)};
  return {payload.substr(1, sep - 1), payload.substr(sep + 1)};
}

class rootless_sandbox final : public sandbox {
 public:
  rootless_sandbox(pid_t pid, unique_fd pidfd, unique_fd control, terminal_state term)
      : pid_(pid), pidfd_(std::move(pidfd)), control_(std::move(control)), term_(term) {}

  ~rootless_sandbox() override {
    if (!status_) kill_and_reap();
  }

  result<void> wait_ready() override {
    if (ready_) return {};
    auto reply = receive_message(control_.get());
    if (!reply || reply->payload != msg_setup_ok || !reply->fd) {
      kill_and_reap();
      if (!reply) return fail("sandbox-setup", "the sandbox process died during setup");
      return unexpected(decode_child_error(reply->payload));
    }
    log::debug("sandbox ready: tap fd {}", reply->fd.get());
    tap_ = std::move(reply->fd);
    ready_ = true;
    return {};
  }

  int link_fd() const override { return tap_.get(); }
  int release_link_fd() override { return tap_.release(); }
  pid_t init_pid() const override { return pid_; }

  result<void> launch() override {
    if (launched_) return fail("already-launched", "the sandbox's command was already started");
    if (!ready_) return fail("not-ready", "the sandbox is not set up yet (wait_ready)");
    if (auto r = send_message(control_.get(), msg_run); !r) return r;
    launched_ = true;
    return {};
  }

  int wait() override {
    if (status_) return *status_;
    if (!launched_) {
      kill_and_reap();
      return *status_;
    }
    status_ = relay_signals_until_exit(pid_, pidfd_.get(), control_.get(), [this] { return on_control(); });
    restore_terminal(term_);
    log::debug("sandbox init {} exited with status {}", pid_, *status_);
    return *status_;
  }

 private:
  // A message from the running init: the command was stopped (Ctrl-Z).
  // With the terminal handed over, netpen takes it back and stops itself
  // like any job, so the user's shell regains control; once continued, it
  // continues the init, which resumes the command in the foreground. A
  // SIGTTIN/SIGTTOU stop while an --interactive prompt borrows the terminal
  // (or just did) is ignored: the command read the terminal meanwhile, and
  // the prompt continues it when it gives the terminal back. Ctrl-Z always
  // stops the job.
  bool on_control() {
    auto m = receive_message(control_.get());
    if (!m) return false;
    const bool tty_stop = m->payload == msg_stopped_tty;
    if (tty_stop && terminal_recently_borrowed()) return true;
    if ((m->payload == msg_stopped || tty_stop) && term_.fd >= 0) {
      restore_terminal(term_);
      ::kill(::getpid(), SIGTSTP);
      ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGCONT, nullptr, 0U);
    }
    return true;
  }

  void kill_and_reap() {
    if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0U) != 0) ::kill(pid_, SIGKILL);
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    status_ = shell_status(st);
    restore_terminal(term_);
  }

  pid_t pid_;
  unique_fd pidfd_, control_, tap_;
  terminal_state term_;
  bool ready_ = false;  // wait_ready() succeeded (the tap may since have been released)
  bool launched_ = false;
  std::optional<int> status_;
};

// Kills and reaps a half-built sandbox init (setup failed).
void abandon(pid_t pid) {
  ::kill(pid, SIGKILL);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
}

error clone_error(int e) {
  switch (e) {
    case EPERM:
      return {"userns-denied",
              "creating the sandbox's namespaces was denied (EPERM); user namespaces are blocked here (a "
              "container's seccomp profile, an LSM, or kernel.unprivileged_userns_clone=0): allow them or "
              "run netpen where they are permitted"};
    case ENOSPC:
      return {"userns-limit",
              "the user or pid namespace limit is reached (ENOSPC); raise it with 'sudo sysctl -w "
              "user.max_user_namespaces=15000'"};
    case EUSERS:
      return {"userns-limit", "too many nested user namespaces (EUSERS)"};
    default:
      return {"clone-failed", fmt::format("creating the sandbox's namespaces failed: {}", std::strerror(e))};
  }
}

}  // namespace

result<std::unique_ptr<sandbox>> make_rootless_sandbox(const sandbox_spec& spec) {
  if (spec.argv.empty()) return fail("no-command", "no command to run in the sandbox");
  if (auto r = preflight(); !r) return unexpected(r.error());

  // Must precede any thread (the caller guarantees there is none yet). The
  // first call records the mask the command will start with.
  static forwarded_signal_block block;
  const sigset_t forwarded = forwarded_signals();
  ::pthread_sigmask(SIG_BLOCK, &forwarded, nullptr);
  const terminal_state term = capture_terminal();

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return fail("control-channel", fmt::format("cannot create the control socketpair: {}", std::strerror(errno)));
  unique_fd parent_end(sv[0]), child_end(sv[1]);

  int pidfd = -1;
  clone_args args{};
  args.flags = CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  const long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) return unexpected(clone_error(errno));
  if (pid == 0) {
    parent_end.reset();
    init_config cfg;
    cfg.spec = &spec;
    cfg.control_fd = child_end.get();
    cfg.tty_fd = term.fd;
    cfg.command_mask = block.previous_mask();
    run_sandbox_init(cfg);
  }
  const auto child = static_cast<pid_t>(pid);
  unique_fd pidfd_owner(pidfd);
  child_end.reset();
  log::debug("sandbox init is pid {}", child);

  if (auto r = write_id_maps(child, spec.keep_uid); !r) {
    abandon(child);
    return unexpected(r.error());
  }
  if (auto r = send_message(parent_end.get(), msg_maps_ready); !r) {
    abandon(child);
    return unexpected(r.error());
  }
  return std::make_unique<rootless_sandbox>(child, std::move(pidfd_owner), std::move(parent_end), term);
}

}  // namespace netpen::backends
