// `netpen create NAME [OPTIONS]`: validates, claims the name (the sandbox's
// directory), forks the daemon and waits until it says "ok" or fails.
//
// The daemon is detached by a double fork and setsid(), before any thread
// exists (the sandbox is cloned from it). Its stdin and stdout are
// /dev/null and its stderr the sandbox's daemon.log, so nothing it or the
// sandbox holds keeps the caller's terminal or pipes open. A failure before
// "ok" (the same checks and errors as a run) is read back from daemon.log,
// relayed by the daemon through the ready pipe as "E<exit status>\n<lines>",
// and printed by create, which exits with that status; the daemon has torn
// everything down and removed the directory by then.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "app/run.hpp"
#include "app/sandboxes/commands.hpp"
#include "app/sandboxes/control_client.hpp"
#include "app/sandboxes/daemon.hpp"
#include "app/sandboxes/state_dir.hpp"
#include "net/common/log.hpp"

namespace netpen::app::sandboxes {
namespace {

// Options a daemon cannot honour, refused before anything is set up.
std::optional<std::string> unusable_option(const create_command& cmd) {
  const auto& r = cmd.run;
  if (r.flow_log_path == "-") return "create: --log - is not supported for a sandbox (its daemon has no stdout); give a file";
  if (r.capture_path == "-") return "create: --capture - is not supported for a sandbox; give a file";
  if (r.learn_path)
    return "create: --learn is not supported for a sandbox; give --log and run `netpen report LOG --format profile`";
  if (cmd.exec_group) {
    if (::geteuid() != 0)
      return "create: --exec-group needs root: only root's sandboxes can be shared (an ordinary user's sandbox "
             "maps only that user's id)";
    if (::getgrnam(cmd.exec_group->c_str()) == nullptr) return "create: --exec-group: no group '" + *cmd.exec_group + "'";
  }
  return std::nullopt;
}

void absolutize(std::optional<std::string>& path) {
  if (!path || *path == "-" || path->empty() || path->front() == '/') return;
  std::error_code ec;
  const auto abs = std::filesystem::absolute(*path, ec);
  if (!ec) *path = abs.string();
}

std::string error_lines(const fs::path& log) {
  std::ifstream in(log);
  std::string line, out;
  while (std::getline(in, line))
    if (line.starts_with("netpen: error:") || line.starts_with("netpen: warning:")) out += line + "\n";
  return out.empty() ? "netpen: error: the sandbox could not be set up\n" : out;
}

// The daemon process: never returns to create's caller.
[[noreturn]] void daemon_main(const create_command& cmd, const sandbox_dir& dir, int ready_fd) {
  const int null = ::open("/dev/null", O_RDWR);
  const int log = ::open(dir.log().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
  if (null < 0 || log < 0 || ::dup2(null, 0) < 0 || ::dup2(null, 1) < 0 || ::dup2(log, 2) < 0) ::_exit(1);
  ::dup2(ready_fd, 3);
  ::close_range(4, ~0U, 0);  // nothing of the caller's stays open in the sandbox
  ready_fd = 3;
  ::fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
  if (::chdir("/") != 0) ::_exit(1);
  log::info("sandbox '{}': daemon {} starting", dir.name, ::getpid());
  sandbox_daemon daemon(cmd, dir, ready_fd);
  const int status = run_persistent(cmd.run, daemon);
  if (!daemon.was_ready()) {
    const std::string message = fmt::format("E{}\n{}", status == 0 ? 1 : status, error_lines(dir.log()));
    remove_dir(dir);
    (void)!::write(ready_fd, message.data(), message.size());
    ::_exit(status == 0 ? 1 : status);
  }
  daemon.finish();
  ::_exit(status);
}

// In create: the daemon's "ok", or its error; EOF or silence is a failure.
int wait_for_daemon(int ready_fd, const sandbox_dir& dir) {
  std::string got;
  char buf[4096];
  for (;;) {
    pollfd p{ready_fd, POLLIN, 0};
    if (::poll(&p, 1, 120000) <= 0) {
      log::error("sandbox '{}': its daemon did not become ready within 120 s (see {})", dir.name, dir.log().string());
      return 1;
    }
    const ssize_t n = ::read(ready_fd, buf, sizeof buf);
    if (n > 0) {
      got.append(buf, static_cast<std::size_t>(n));
      if (got == "ok\n") return 0;
      continue;
    }
    break;  // EOF: the daemon said all it will
  }
  if (got.starts_with("E")) {
    const auto nl = got.find('\n');
    std::fputs(got.substr(nl + 1).c_str(), stderr);
    const int status = std::atoi(got.substr(1, nl).c_str());
    return status == 2 ? 2 : 1;
  }
  log::error("sandbox '{}': its daemon ended while starting", dir.name);
  remove_dir(dir);
  return 1;
}

}  // namespace

int run_create(const create_command& in) {
  create_command cmd = in;
  if (auto bad = unusable_option(cmd)) {
    log::error("{}", *bad);
    return 2;
  }
  cmd.run.command = {"netpen", "create", cmd.name};  // as the log and --dry-run name it
  if (cmd.run.dry_run) return run_command(cmd.run);
  absolutize(cmd.run.flow_log_path);
  absolutize(cmd.run.capture_path);
  auto root = own_root(true);
  if (!root) {
    log::error("{}", root.error().message);
    return 1;
  }
  std::optional<gid_t> group;
  if (cmd.exec_group) group = ::getgrnam(cmd.exec_group->c_str())->gr_gid;
  auto dir = claim(*root, cmd.name, group);
  if (!dir) {
    const sandbox_dir taken{*root / cmd.name, cmd.name};
    const bool dead = dir.error().code == "exists" && read_record(taken) && !connect_to(taken);
    log::error("{}{}", dir.error().message,
               dead ? fmt::format(" (dead: remove it with 'netpen destroy {}' or 'netpen cleanup')", cmd.name) : "");
    return dir.error().code == "usage" ? 2 : 1;
  }
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) {
    remove_dir(*dir);
    log::error("cannot create a pipe: {}", std::strerror(errno));
    return 1;
  }
  const pid_t child = ::fork();
  if (child < 0) {
    remove_dir(*dir);
    log::error("cannot start the sandbox's daemon: {}", std::strerror(errno));
    return 1;
  }
  if (child == 0) {
    ::close(ready[0]);
    ::setsid();
    if (::fork() == 0) daemon_main(cmd, *dir, ready[1]);
    ::_exit(0);
  }
  ::close(ready[1]);
  int st = 0;
  while (::waitpid(child, &st, 0) < 0 && errno == EINTR) {
  }
  const int status = wait_for_daemon(ready[0], *dir);
  ::close(ready[0]);
  return status;
}

}  // namespace netpen::app::sandboxes
