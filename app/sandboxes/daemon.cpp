// The persistent sandbox's daemon (see daemon.hpp).
#include "app/sandboxes/daemon.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "app/sandboxes/control_messages.hpp"
#include "app/sandboxes/question_codec.hpp"
#include "backends/common/fd_passing.hpp"
#include "backends/common/identity.hpp"
#include "backends/common/init_spawner.hpp"
#include "backends/common/spawn_request.hpp"
#include "net/common/log.hpp"

namespace netpen::app::sandboxes {
namespace {

using backends::unique_fd;

void reply(int fd, std::string_view text) { (void)backends::send_message(fd, text); }

std::string user_name(uid_t uid) {
  if (const passwd* pw = ::getpwuid(uid)) return pw->pw_name;
  return std::to_string(uid);
}

result<unique_fd> listen_on(const fs::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof addr.sun_path)
    return fail("state-dir", fmt::format("the control socket path {} is too long", path.string()));
  std::memcpy(addr.sun_path, path.c_str(), path.string().size());
  unique_fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd.get(), 64) != 0)
    return fail("state-dir", fmt::format("cannot listen on {}: {}", path.string(), std::strerror(errno)));
  return fd;
}

std::vector<gid_t> peer_groups(int fd) {
  std::vector<gid_t> groups(256);
  socklen_t len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len) != 0) return {};
  groups.resize(len / sizeof(gid_t));
  return groups;
}

std::optional<std::string> env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& e : env)
    if (e.size() > name.size() && e.starts_with(name) && e[name.size()] == '=') return e.substr(name.size() + 1);
  return std::nullopt;
}

// The client's environment as the command should see it when it runs as
// someone else (HOME, USER, LOGNAME theirs; SUDO_* gone), as for a run.
std::vector<std::string> environment_for(std::vector<std::string> env, const backends::command_identity& who) {
  std::erase_if(env, [](const std::string& v) {
    return v.starts_with("SUDO_") || v.starts_with("HOME=") || v.starts_with("USER=") || v.starts_with("LOGNAME=");
  });
  env.push_back("HOME=" + who.home);
  env.push_back("USER=" + who.user);
  env.push_back("LOGNAME=" + who.user);
  return env;
}

}  // namespace

unsigned count_tree(pid_t init_pid) {
  unsigned n = 0;
  std::vector<pid_t> todo{init_pid};
  while (!todo.empty() && n < 100000) {
    const pid_t p = todo.back();
    todo.pop_back();
    std::error_code ec;
    for (const auto& task : fs::directory_iterator(fmt::format("/proc/{}/task", p), ec)) {
      std::ifstream in(task.path() / "children");
      pid_t child = 0;
      while (in >> child) {
        ++n;
        todo.push_back(child);
      }
    }
  }
  return n;
}

sandbox_daemon::sandbox_daemon(const create_command& cmd, sandbox_dir dir, int ready_fd)
    : cmd_(cmd), dir_(std::move(dir)), ready_fd_(ready_fd) {
  if (cmd_.exec_group) {
    if (const group* g = ::getgrnam(cmd_.exec_group->c_str())) group_ = g->gr_gid;
  }
  if (cmd_.run.interactive)
    approver_ = std::make_unique<sandbox_approver>(std::chrono::seconds(cmd_.run.prompt_timeout_s),
                                                   [](int fd, std::string_view message) { reply(fd, message); });
  map_host_ids = cmd_.exec_group.has_value() && ::geteuid() == 0 && cmd_.run.backend != backend_kind::rootful;
}

result<void> sandbox_daemon::ready(backends::sandbox& sandbox, const ready_info& info) {
  auto listener = listen_on(dir_.socket());
  if (!listener) return unexpected<error>(listener.error());
  listener_ = std::move(*listener);
  const mode_t mode = group_ ? 0660 : 0600;
  if ((group_ && ::chown(dir_.socket().c_str(), static_cast<uid_t>(-1), *group_) != 0) ||
      ::chmod(dir_.socket().c_str(), mode) != 0)
    return fail("state-dir", fmt::format("cannot set up {}: {}", dir_.socket().string(), std::strerror(errno)));
  sandbox_record r;
  r.name = dir_.name;
  r.backend = info.backend;
  r.owner_uid = ::getuid();
  r.owner = user_name(r.owner_uid);
  r.created_unix = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  r.daemon_pid = ::getpid();
  r.init_pid = info.init_pid;
  r.policy = info.policy;
  r.exec_group = cmd_.exec_group;
  r.rootful_run = info.rootful_run;
  if (auto ok = write_record(dir_, r, group_); !ok) return ok;
  init_pid_ = info.init_pid;
  backend_ = info.backend;
  init_control_ = sandbox.control_fd();
  if (::write(ready_fd_, "ok\n", 3) != 3) return fail("create-gone", "`netpen create` went away before the sandbox was ready");
  ::close(ready_fd_);
  ready_fd_ = -1;
  ready_sent_ = true;
  log::info("sandbox '{}' is ready (daemon {}, init {})", dir_.name, ::getpid(), init_pid_);
  return {};
}

bool sandbox_daemon::is_owner(const client& c) const { return c.uid == ::getuid() || c.uid == 0; }

bool sandbox_daemon::may_enter(const client& c) const {
  if (is_owner(c)) return true;
  if (!group_) return false;
  return c.gid == *group_ || std::ranges::find(c.groups, *group_) != c.groups.end();
}

// Who the command runs as: a group member as itself; the owner as a run's
// command would (rootless: the sandbox's own uid; --root: the user sudo was
// invoked by, unless --run-as-root).
std::optional<backends::command_identity> sandbox_daemon::identity_for(const client& c,
                                                                         const std::vector<std::string>& env) const {
  if (!is_owner(c) || (c.uid != 0 && backend_ == "rootful")) return backends::identity_of(c.uid, c.gid);
  if (backend_ != "rootful" || cmd_.run.run_as_root) return std::nullopt;
  const auto uid = env_value(env, "SUDO_UID");
  const auto gid = env_value(env, "SUDO_GID");
  const auto u = uid ? number_of(*uid) : std::nullopt;
  const auto g = gid ? number_of(*gid) : std::nullopt;
  if (!u || !g || *u <= 0 || *g < 0) return std::nullopt;
  return backends::identity_of(static_cast<uid_t>(*u), static_cast<gid_t>(*g));
}

void sandbox_daemon::accept_client() {
  for (;;) {
    unique_fd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd) return;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) continue;
    client c;
    c.uid = cred.uid;
    c.gid = cred.gid;
    c.groups = peer_groups(fd.get());
    if (!may_enter(c)) {
      reply(fd.get(), with_argument(reply_error, fmt::format("{} may not enter sandbox '{}'", user_name(c.uid), dir_.name)));
      continue;
    }
    const int key = fd.get();
    c.fd = std::move(fd);
    clients_.emplace(key, std::move(c));
  }
}

bool sandbox_daemon::on_exec(client& c, std::string_view wire, std::vector<unique_fd>& fds) {
  auto req = backends::decode_exec_request(wire);
  if (!req || (fds.size() != 3 && !(req->tty && fds.size() == 1))) {
    reply(c.fd.get(), with_argument(reply_error, "a malformed exec request"));
    return false;
  }
  backends::spawn_request s;
  s.id = next_id_++;
  s.identity = identity_for(c, req->env);
  if (s.identity) req->env = environment_for(std::move(req->env), *s.identity);
  c.tty = req->tty;
  s.exec = std::move(*req);
  std::vector<int> raw;
  for (const auto& f : fds) raw.push_back(f.get());
  if (auto sent = backends::send_message(init_control_, backends::encode_spawn_request(s), raw); !sent) {
    reply(c.fd.get(), with_argument(reply_error, sent.error().message));
    return false;
  }
  c.exec_id = s.id;
  execs_[s.id] = c.fd.get();
  log::debug("exec {}: {} (uid {})", s.id, s.exec.argv.front(), c.uid);
  return true;
}

bool sandbox_daemon::on_client(client& c) {
  auto m = backends::receive_message(c.fd.get());
  if (!m) {  // gone: its command gets a hangup (and a stopped one a SIGCONT to see it), as a terminal's would
    if (c.exec_id) {
      (void)backends::send_message(init_control_, fmt::format("signal {} {}", *c.exec_id, SIGHUP));
      (void)backends::send_message(init_control_, fmt::format("signal {} {}", *c.exec_id, SIGCONT));
      execs_[*c.exec_id] = -1;
      if (approver_) approver_->exec_ended(*c.exec_id, false);
    }
    return false;
  }
  const auto [word, argument] = split_word(m->payload);
  if (word == request_signal) {
    if (const auto sig = number_of(argument); sig && c.exec_id)
      (void)backends::send_message(init_control_, fmt::format("signal {} {}", *c.exec_id, *sig));
    return true;
  }
  if (word == request_info) {
    reply(c.fd.get(), with_argument(reply_info, std::to_string(count_tree(init_pid_))));
    return true;
  }
  if (word == request_destroy) {
    if (!is_owner(c)) {
      reply(c.fd.get(), with_argument(reply_error, fmt::format("only {} may destroy sandbox '{}'",
                                                              user_name(::getuid()), dir_.name)));
      return false;
    }
    destroy_caller d;
    if (!m->fds.empty()) d.err = std::move(m->fds.front());
    d.socket = std::move(c.fd);
    destroy_callers_.push_back(std::move(d));
    stopping_ = true;
    return false;
  }
  if (word == request_answer) {
    if (approver_) approver_->on_answer(c.fd.get(), m->payload);
    return true;
  }
  if (c.exec_id) return true;  // one command per connection
  return on_exec(c, m->payload, m->fds);
}

bool sandbox_daemon::on_init() {
  auto m = backends::receive_message(init_control_);
  if (!m) return false;
  std::istringstream in(m->payload);
  std::string word;
  std::uint64_t id = 0;
  int value = 0;
  if (!(in >> word >> id >> value)) return true;
  auto it = execs_.find(id);
  if (it == execs_.end()) return true;
  auto c = clients_.find(it->second);
  if (word == "spawned" || word == "stopped") {
    const auto answer = word == "spawned" ? reply_started : reply_stopped;
    if (c != clients_.end()) reply(c->second.fd.get(), with_argument(answer, std::to_string(value)));
    if (word == "spawned" && approver_)
      approver_->exec_spawned(id, it->second, c != clients_.end() && c->second.tty, static_cast<pid_t>(value));
    return true;
  }
  if (word == "exited") {
    log::debug("exec {} ended with status {}", id, value);
    if (approver_) approver_->exec_ended(id, true);
    if (c != clients_.end()) {
      reply(c->second.fd.get(), with_argument(reply_exit, std::to_string(value)));
      clients_.erase(c);
    }
    execs_.erase(it);
  }
  return true;
}

void sandbox_daemon::stop() {
  if (approver_) approver_->close();  // questions still out are denied: nothing is left waiting
  for (auto& [fd, c] : clients_)
    if (c.exec_id) reply(fd, with_argument(reply_error, fmt::format("sandbox '{}' was destroyed", dir_.name)));
  clients_.clear();
  listener_.reset();
  ::unlink(dir_.socket().c_str());
  (void)backends::send_message(init_control_, backends::msg_stop);
  // The summary and the tear-down's warnings go to whoever asked for it.
  if (!destroy_callers_.empty() && destroy_callers_.front().err)
    ::dup2(destroy_callers_.front().err.get(), STDERR_FILENO);
}

void sandbox_daemon::serve(backends::sandbox& sandbox) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&stop_signals, s);
  ::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  unique_fd signals(::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
  while (!stopping_) {
    std::vector<pollfd> fds{{listener_.get(), POLLIN, 0},
                            {init_control_, POLLIN, 0},
                            {sandbox.init_pidfd(), POLLIN, 0},
                            {signals.get(), POLLIN, 0},
                            {approver_ ? approver_->wake_fd() : -1, POLLIN, 0}};
    constexpr std::size_t first_client = 5;
    for (const auto& [fd, c] : clients_) fds.push_back({fd, POLLIN, 0});
    const int timeout_ms = approver_ ? approver_->ms_to_next_deadline() : -1;
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if ((fds[3].revents & POLLIN) != 0) {
      signalfd_siginfo si{};
      while (::read(signals.get(), &si, sizeof si) == sizeof si)
        if (si.ssi_signo != SIGHUP) stopping_ = true;
    }
    if ((fds[2].revents & POLLIN) != 0) {
      log::warn("the sandbox's init ended; tearing sandbox '{}' down", dir_.name);
      stopping_ = true;
    }
    if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !on_init()) stopping_ = true;
    // Clients before accepting: an fd number closed above is not reused yet.
    for (std::size_t i = first_client; i < fds.size(); ++i) {
      if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      auto c = clients_.find(fds[i].fd);
      if (c != clients_.end() && !on_client(c->second)) clients_.erase(c);
    }
    if ((fds[0].revents & POLLIN) != 0) accept_client();
    if (approver_) {
      if ((fds[4].revents & POLLIN) != 0) approver_->on_wake(init_pid_);
      approver_->expire();
    }
  }
  stop();
}

void sandbox_daemon::finish() {
  remove_dir(dir_);
  const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) {
    ::dup2(null, STDERR_FILENO);
    ::close(null);
  }
  for (const auto& d : destroy_callers_) reply(d.socket.get(), reply_destroyed);
  destroy_callers_.clear();
}

}  // namespace netpen::app::sandboxes
