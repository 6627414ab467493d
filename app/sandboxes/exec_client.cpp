// `netpen exec NAME [--] COMMAND...`: the client's side of an exec.
//
// Theory of operation. The client connects to the sandbox's daemon and
// sends its argv, environment and working directory with the fds the
// command should use. Without a terminal those are its own stdin, stdout
// and stderr: the command reads and writes them directly, the client only
// waits. When stdin and stdout are both terminals the client opens a pseudo
// terminal, sends its slave (the command makes it its controlling terminal,
// so a shell's job control works inside), puts its own terminal in raw mode
// and copies bytes both ways; window size changes (SIGWINCH) are copied to
// the pty, whose kernel side tells the command. INT, TERM, HUP, QUIT, USR1
// and USR2 sent to the client are forwarded to the command's process group
// (a Ctrl-C typed on the terminal reaches the command through the pty).
// The client exits with the command's status (128+N when signal N ended
// it). If the client is killed, the daemon sends the command SIGHUP. Job
// control: when the command stops (Ctrl-Z in its pty, SIGSTOP), the client
// gives its terminal back (cooked mode) and stops itself like any job, so
// the user's shell regains control; continued (`fg`, `bg`), it takes the
// terminal again and continues the command (SIGCONT to its group).
// --interactive (a sandbox made with `create --interactive`): the daemon's
// questions ("ask ...") about this exec's flows are asked on the client's
// terminal (exec_prompt.hpp); while one is shown, typed keys answer it and
// the pty's output waits.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "app/sandboxes/commands.hpp"
#include "app/sandboxes/control_client.hpp"
#include "app/sandboxes/control_messages.hpp"
#include "app/sandboxes/exec_prompt.hpp"
#include "backends/common/fd_passing.hpp"
#include "backends/common/spawn_request.hpp"
#include "backends/common/write_all.hpp"
#include "net/common/log.hpp"

extern char** environ;

namespace netpen::app::sandboxes {
namespace {

using backends::unique_fd;
using backends::write_all;

struct pty_pair {
  unique_fd master, slave;
};

std::optional<pty_pair> open_pty() {
  unique_fd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) return std::nullopt;
  char name[PATH_MAX];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) return std::nullopt;
  unique_fd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave) return std::nullopt;
  return pty_pair{std::move(master), std::move(slave)};
}

void copy_window_size(int from, int to) {
  winsize ws{};
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0) ::ioctl(to, TIOCSWINSZ, &ws);
}

// Copies what the pty has left for the terminal (a command's last output),
// until the pty closes or stays quiet for a moment.
void drain(int master) {
  char buf[8192];
  for (;;) {
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) return;
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0 || !write_all(STDOUT_FILENO, std::string_view(buf, static_cast<std::size_t>(n)))) return;
  }
}

class exec_session {
 public:
  exec_session(int sock, std::optional<pty_pair> pty)
      : sock_(sock), pty_(std::move(pty)), prompt_(STDOUT_FILENO, [sock](std::string_view answer) {
          (void)backends::send_message(sock, answer);
        }) {}

  int run() {
    sigset_t set;
    sigemptyset(&set);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH}) sigaddset(&set, s);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    unique_fd signals(::signalfd(-1, &set, SFD_CLOEXEC));
    raw_ = pty_ && ::tcgetattr(STDIN_FILENO, &saved_) == 0;
    enter_raw_mode();
    const int status = loop(signals.get());
    prompt_.abandon();
    if (pty_) drain(pty_->master.get());
    leave_raw_mode();
    if (error_) log::error("{}", *error_);
    return status;
  }

 private:
  int loop(int signals) {
    bool stdin_open = pty_.has_value(), master_open = pty_.has_value();
    for (;;) {
      std::vector<pollfd> fds{{sock_, POLLIN, 0}, {signals, POLLIN, 0}};
      if (stdin_open) fds.push_back({STDIN_FILENO, POLLIN, 0});
      if (master_open && !prompt_.asking()) fds.push_back({pty_->master.get(), POLLIN, 0});
      const int ready = ::poll(fds.data(), fds.size(), prompt_.tick_ms());
      if (ready < 0) {
        if (errno == EINTR) continue;
        return fail_with("poll failed");
      }
      if (ready == 0) prompt_.on_tick();  // the countdown's next second, or its end
      if ((fds[1].revents & POLLIN) != 0) on_signal(signals);
      if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        if (auto done = on_reply()) return *done;
      }
      for (std::size_t i = 2; i < fds.size(); ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const bool from_stdin = fds[i].fd == STDIN_FILENO;
        char buf[8192];
        const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
        if (from_stdin && n > 0 && prompt_.asking()) {
          prompt_.on_keys(std::string_view(buf, static_cast<std::size_t>(n)));
          continue;
        }
        const bool ok = n > 0 && write_all(from_stdin ? pty_->master.get() : STDOUT_FILENO,
                                           std::string_view(buf, static_cast<std::size_t>(n)));
        if (!ok && from_stdin) stdin_open = false;
        if (!ok && !from_stdin) master_open = false;
      }
    }
  }

  void on_signal(int signals) {
    signalfd_siginfo si{};
    while (::read(signals, &si, sizeof si) == sizeof si) {
      const int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGWINCH) {
        if (pty_) copy_window_size(STDIN_FILENO, pty_->master.get());
        continue;
      }
      (void)backends::send_message(sock_, with_argument(request_signal, std::to_string(sig)));
      break;  // signalfd is blocking: one at a time
    }
  }

  void enter_raw_mode() {
    if (!raw_) return;
    termios t = saved_;
    ::cfmakeraw(&t);
    ::tcsetattr(STDIN_FILENO, TCSADRAIN, &t);
  }
  void leave_raw_mode() {
    if (raw_) ::tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_);
  }

  // The command stopped: stop as a job of the user's shell (when there is
  // a terminal to give back), then continue the command.
  void on_stopped() {
    if (::isatty(STDIN_FILENO) != 1) return;
    leave_raw_mode();
    ::kill(::getpid(), SIGTSTP);  // returns once continued
    enter_raw_mode();
    if (pty_) copy_window_size(STDIN_FILENO, pty_->master.get());
    (void)backends::send_message(sock_, with_argument(request_signal, std::to_string(SIGCONT)));
  }

  // The exit status once the command is over.
  std::optional<int> on_reply() {
    auto m = backends::receive_message(sock_);
    if (!m) return fail_with("the sandbox's daemon went away while the command ran");
    const auto [word, argument] = split_word(m->payload);
    if (word == reply_exit) return number_of(argument).value_or(1);
    if (word == reply_error) return fail_with(std::string(argument));
    if (word == reply_stopped) on_stopped();
    if (word == reply_ask) on_question(m->payload);
    return std::nullopt;  // "started", "stopped"
  }

  void on_question(std::string_view wire) {
    auto q = decode_question(wire);
    if (!q) return;
    if (!raw_) {  // no terminal after all: nobody to ask
      (void)backends::send_message(sock_, encode_answer({q->id, policy::approval::unasked}));
      return;
    }
    prompt_.add(std::move(*q));
  }

  int fail_with(std::string message) {
    error_ = std::move(message);
    return 1;
  }

  int sock_;
  std::optional<pty_pair> pty_;
  exec_prompt prompt_;
  std::optional<std::string> error_;
  termios saved_{};
  bool raw_ = false;
};

backends::exec_request request_for(const exec_command& cmd, bool tty) {
  backends::exec_request r;
  r.argv = cmd.command;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) r.env.emplace_back(*e);
  char cwd[PATH_MAX];
  r.cwd = ::getcwd(cwd, sizeof cwd) != nullptr ? cwd : "/";
  r.tty = tty;
  return r;
}

}  // namespace

int run_exec(const exec_command& cmd) {
  auto conn = connect_by_name(cmd.name);
  if (!conn) {
    log::error("exec: {}", conn.error().message);
    return 1;
  }
  const bool tty = ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1;
  std::optional<pty_pair> pty;
  if (tty) {
    pty = open_pty();
    if (!pty) {
      log::error("exec: cannot open a pseudo terminal: {}", std::strerror(errno));
      return 1;
    }
    copy_window_size(STDIN_FILENO, pty->master.get());
  }
  std::vector<int> fds;
  if (pty)
    fds = {pty->slave.get()};
  else
    fds = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
  if (auto sent = backends::send_message(conn->fd.get(), backends::encode_exec_request(request_for(cmd, tty)), fds); !sent) {
    log::error("exec: {}", sent.error().message);
    return 1;
  }
  if (pty) pty->slave.reset();  // the command holds it now: the master sees EIO once it is done
  return exec_session(conn->fd.get(), std::move(pty)).run();
}

}  // namespace netpen::app::sandboxes
