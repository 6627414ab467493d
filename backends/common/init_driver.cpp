// The parent's side of the sandbox init (see init_driver.hpp).
#include "backends/common/init_driver.hpp"

#include <linux/sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fmt/format.h>

#include "backends/common/fd_passing.hpp"
#include "backends/common/signal_relay.hpp"
#include "backends/common/unix_guard_filter.hpp"
#include "net/common/log.hpp"

namespace netpen::backends {
namespace {

error decode_child_error(const std::string& payload) {
  const auto sep = payload.find(msg_error_separator);
  if (payload.empty() || payload.front() != msg_error_tag || sep == std::string::npos)
    return {"sandbox-setup", fmt::format("the sandbox reported an unexpected message '{}'", payload)};
  return {payload.substr(1, sep - 1), payload.substr(sep + 1)};
}

// The threads of this process (/proc/self/task), or 0 when unknown.
int thread_count() {
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) return 0;
  int n = 0;
  while (const dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.') ++n;
  ::closedir(dir);
  return n;
}

}  // namespace

result<started_init> start_init(const sandbox_spec& spec, std::uint64_t namespaces, init_setup setup,
                                error (*clone_error)(int)) {
  // Must precede any thread: clone3 runs no fork handlers, so a lock (malloc,
  // stdio) another thread held at the clone would stay held in the child
  // forever. Checked, not assumed: a second thread here is a bug, and the
  // run stops before anything is set up. The first call records the mask
  // the command will start with.
  if (const int threads = thread_count(); threads > 1)
    return fail("internal", fmt::format("{} threads exist before the sandbox is forked; refusing to fork", threads));
  static forwarded_signal_block block;
  const sigset_t forwarded = forwarded_signals();
  ::pthread_sigmask(SIG_BLOCK, &forwarded, nullptr);
  const terminal_state term = capture_terminal();

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return fail("control-channel", fmt::format("cannot create the control socketpair: {}", std::strerror(errno)));
  unique_fd parent_end(sv[0]), child_end(sv[1]);
  unique_fd helper_parent, helper_child;
  if (spec.socket_helper) {
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
      return fail("control-channel", fmt::format("cannot create the socket helper's socketpair: {}", std::strerror(errno)));
    helper_parent.reset(sv[0]);
    helper_child.reset(sv[1]);
  }

  int pidfd = -1;
  clone_args args{};
  args.flags = namespaces | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  const long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) return unexpected(clone_error(errno));
  if (pid == 0) {
    parent_end.reset();
    helper_parent.reset();
    init_config cfg;
    cfg.socket_helper_fd = helper_child.get();
    cfg.spec = &spec;
    cfg.setup = setup;
    cfg.control_fd = child_end.get();
    cfg.tty_fd = term.fd;
    cfg.command_mask = block.previous_mask();
    run_sandbox_init(cfg);
  }
  started_init out;
  out.pid = static_cast<pid_t>(pid);
  out.pidfd = unique_fd(pidfd);
  out.control = std::move(parent_end);
  out.sockets = std::move(helper_parent);
  out.term = term;
  out.unix_guard = spec.unix_guard;
  log::debug("sandbox init is pid {}", out.pid);
  return out;
}

void abandon(pid_t pid) {
  ::kill(pid, SIGKILL);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
}

init_driver::init_driver(started_init init)
    : pid_(init.pid),
      pidfd_(std::move(init.pidfd)),
      control_(std::move(init.control)),
      sockets_(std::move(init.sockets)),
      term_(init.term),
      unix_guard_(init.unix_guard) {}

init_driver::~init_driver() { terminate(); }

void init_driver::terminate() {
  if (!status_) {
    kill_and_reap();
  } else if (!reaped_) {
    reap_exiting();
  }
}

result<void> init_driver::wait_ready() {
  if (ready_) return {};
  auto reply = receive_message(control_.get());
  while (reply && reply->payload == msg_listeners) {  // --host-port's sockets come first
    for (auto& fd : reply->fds) listeners_.push_back(std::move(fd));
    reply = receive_message(control_.get());
  }
  if (!reply || reply->payload != msg_setup_ok) {
    listeners_.clear();
    kill_and_reap();
    if (!reply) return fail("sandbox-setup", "the sandbox process died during setup");
    return unexpected(decode_child_error(reply->payload));
  }
  handed_ = reply->take_first();
  log::debug("sandbox ready (fd {})", handed_.get());
  ready_ = true;
  return {};
}

result<void> init_driver::launch() {
  if (launched_) return fail("already-launched", "the sandbox's command was already started");
  if (!ready_) return fail("not-ready", "the sandbox is not set up yet (wait_ready)");
  if (auto r = send_message(control_.get(), msg_run); !r) return r;
  launched_ = true;
  if (unix_guard_) return take_guard_fds();
  return {};
}

// The init installed the Unix-socket guard's filter and wrote the numbers
// of its fds (unix_guard_filter.hpp): copied out of it with pidfd_getfd,
// then the init is told to close its own copies and go on.
result<void> init_driver::take_guard_fds() {
  auto m = receive_message(control_.get());
  if (!m) return fail("unix-guard", "the sandbox process died while installing the Unix-socket guard");
  if (!m->payload.empty() && m->payload[0] == msg_error_tag) return unexpected(decode_child_error(m->payload));
  const auto numbers = parse_unix_guard_message(m->payload);
  if (!numbers) return fail("unix-guard", "unexpected message from the sandbox process: " + m->payload);
  for (auto [from, to] : {std::pair{numbers->listener, &guard_.listener}, std::pair{numbers->diag, &guard_.diag}}) {
    const long fd = ::syscall(SYS_pidfd_getfd, pidfd_.get(), from, 0U);
    if (fd < 0) return fail("unix-guard", fmt::format("cannot take the Unix-socket guard's fd: {}", std::strerror(errno)));
    to->reset(static_cast<int>(fd));
  }
  return send_message(control_.get(), msg_unix_guard_taken);
}

int init_driver::wait() {
  if (status_) return *status_;
  if (!launched_) {
    kill_and_reap();
    return *status_;
  }
  if (auto exited = relay_signals_until_exit(pid_, pidfd_.get(), control_.get(), [this] { return on_control(); })) {
    status_ = *exited;
    reaped_ = true;
    log::debug("sandbox init {} exited with status {}", pid_, *status_);
  } else {
    log::debug("sandbox init {} is exiting with status {}", pid_, *status_);
  }
  restore_terminal(term_);
  return *status_;
}

// A message from the running init: the command was stopped (Ctrl-Z).
// With the terminal handed over, netpen takes it back and stops itself
// like any job, so the user's shell regains control; once continued, it
// continues the init, which resumes the command in the foreground. A
// SIGTTIN/SIGTTOU stop while an --interactive prompt borrows the terminal
// (or just did) is ignored: the command read the terminal meanwhile, and
// the prompt continues it when it gives the terminal back. Ctrl-Z always
// stops the job.
extra_outcome init_driver::on_control() {
  auto m = receive_message(control_.get());
  if (!m) return extra_outcome::stop_watching;
  if (auto status = parse_exiting_message(m->payload)) {
    status_ = *status;
    return extra_outcome::announced_exit;
  }
  const bool tty_stop = m->payload == msg_stopped_tty;
  if (tty_stop && terminal_recently_borrowed()) return extra_outcome::keep_watching;
  if ((m->payload == msg_stopped || tty_stop) && term_.fd >= 0) {
    restore_terminal(term_);
    ::kill(::getpid(), SIGTSTP);
    ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGCONT, nullptr, 0U);
  }
  return extra_outcome::keep_watching;
}

// The init announced its exit (wait() returned its status): it is reaped
// once it is gone, its status already known.
void init_driver::reap_exiting() {
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

void init_driver::kill_and_reap() {
  if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0U) != 0) ::kill(pid_, SIGKILL);
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  status_ = shell_status(st);
  reaped_ = true;
  restore_terminal(term_);
}

}  // namespace netpen::backends
