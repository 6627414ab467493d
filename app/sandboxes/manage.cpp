// `netpen list`, `netpen destroy NAME` and the sandboxes' part of `netpen
// cleanup` (see commands.hpp). A sandbox is live when its daemon answers on
// the control socket, dead otherwise (killed: its init and every process in
// it died with it, PR_SET_PDEATHSIG; --root's host changes stay until
// `netpen cleanup` undoes them from the run's record under /run/netpen).
#include <sys/stat.h>
#include <sys/syscall.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "app/sandboxes/commands.hpp"
#include "app/sandboxes/control_client.hpp"
#include "app/sandboxes/control_messages.hpp"
#include "app/sandboxes/sandbox_record.hpp"
#include "app/sandboxes/state_dir.hpp"
#include "backends/common/fd_passing.hpp"
#include "backends/rootful/cleanup.hpp"
#include "backends/rootful/host_undo.hpp"
#include "backends/rootful/run_state.hpp"
#include "net/common/log.hpp"

namespace netpen::app::sandboxes {
namespace {

constexpr int answer_ms = 5000;

std::optional<unsigned> processes_of(const sandbox_dir& dir) {
  auto fd = connect_to(dir);
  if (!fd) return std::nullopt;
  auto answer = ask(fd->get(), request_info, answer_ms);
  if (!answer) return std::nullopt;
  const auto [word, argument] = split_word(*answer);
  const auto n = number_of(argument);
  if (word != reply_info || !n || *n < 0) return std::nullopt;
  return static_cast<unsigned>(*n);
}

// A directory without a record is a sandbox being created, unless it is
// older than any create takes.
bool abandoned_without_record(const sandbox_dir& dir) {
  struct stat st {};
  if (::stat(dir.path.c_str(), &st) != 0) return false;
  return std::time(nullptr) - st.st_mtime > 180;
}

// Waits (bounded) until the daemon's process is gone.
void wait_gone(pid_t pid) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return;
  pollfd p{fd, POLLIN, 0};
  ::poll(&p, 1, 10000);
  ::close(fd);
}

// Removes a dead sandbox's directory; with --root, the host changes its run
// left are undone by the rootful cleanup (root only).
bool remove_dead(const sandbox_dir& dir, bool dry_run, std::FILE* out) {
  auto rec = read_record(dir);
  if (!rec && !abandoned_without_record(dir)) return true;  // still being created
  const std::string what = rec ? fmt::format("sandbox {} (daemon pid {}, gone)", dir.name, rec->daemon_pid)
                               : fmt::format("sandbox {} (never ready)", dir.name);
  if (dry_run) {
    fmt::print(out, "{}: would be removed\n", what);
    return true;
  }
  remove_dir(dir);
  std::error_code ec;
  const bool gone = !fs::exists(dir.path, ec);
  fmt::print(out, "{}: {}\n", what, gone ? "removed" : "could not be removed");
  return gone;
}

}  // namespace

int run_list(const list_command& cmd) {
  std::vector<listed_sandbox> list;
  for (const auto& root : search_roots())
    for (const auto& dir : list_in(root)) {
      auto rec = read_record(dir);
      if (!rec) continue;  // being created, or not ours to read
      listed_sandbox s{std::move(*rec), false, std::nullopt};
      s.processes = processes_of(dir);
      s.live = s.processes.has_value();
      list.push_back(std::move(s));
    }
  fmt::print("{}", cmd.format == output_format::json ? render_list_json(list) : render_list_text(list));
  return 0;
}

int run_destroy(const destroy_command& cmd) {
  auto dir = find(cmd.name);
  if (!dir) {
    log::error("destroy: no sandbox named '{}'", cmd.name);
    return 1;
  }
  auto fd = connect_to(*dir);
  if (!fd && fd.error().code == "dead") {  // what a killed daemon left
    if (::geteuid() == 0) {
      auto undo = backends::rootful::make_host_undo();
      backends::rootful::cleanup_leftovers(fs::path(backends::rootful::default_state_root), *undo, false, stdout);
    }
    return remove_dead(*dir, false, stdout) ? 0 : 1;
  }
  if (!fd) {
    log::error("destroy: {}", fd.error().message);
    return 1;
  }
  const auto rec = read_record(*dir);
  if (auto sent = backends::send_message(fd->get(), request_destroy, std::vector<int>{STDERR_FILENO}); !sent) {
    log::error("destroy: {}", sent.error().message);
    return 1;
  }
  pollfd p{fd->get(), POLLIN, 0};
  if (::poll(&p, 1, 60000) <= 0) {
    log::error("destroy: sandbox '{}' did not end within 60 s", cmd.name);
    return 1;
  }
  auto m = backends::receive_message(fd->get());
  if (m && split_word(m->payload).word == reply_error) {
    log::error("destroy: {}", split_word(m->payload).argument);
    return 1;
  }
  if (rec) wait_gone(rec->daemon_pid);
  std::error_code ec;
  if (fs::exists(dir->path, ec)) {
    log::error("destroy: sandbox '{}' did not end cleanly (its directory {} is left)", cmd.name, dir->path.string());
    return 1;
  }
  return 0;
}

cleanup_outcome cleanup_dead(bool dry_run, std::FILE* out) {
  cleanup_outcome outcome;
  auto root = own_root(false);
  if (!root) return outcome;
  for (const auto& dir : list_in(*root)) {
    if (connect_to(dir)) continue;  // live
    ++outcome.found;
    outcome.ok = remove_dead(dir, dry_run, out) && outcome.ok;
  }
  return outcome;
}

}  // namespace netpen::app::sandboxes
