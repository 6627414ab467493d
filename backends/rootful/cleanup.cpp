// cleanup_leftovers: undoing what dead rootful runs left (see cleanup.hpp);
// a shared sysctl another live run here still needs is handed to it (handover.hpp).
#include "backends/rootful/cleanup.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "backends/common/unique_fd.hpp"
#include "backends/rootful/guard_stack.hpp"
#include "backends/rootful/handover.hpp"
#include "backends/rootful/handover_rules.hpp"
#include "backends/rootful/run_state.hpp"
#include "backends/rootful/state_lock.hpp"

namespace netpen::backends::rootful {
namespace {

void clean_dead_run(run_state& state, host_undo& undo, bool dry_run, std::FILE* out, cleanup_report& report) {
  const run_record& r = state.record();
  fmt::print(out, "run {} (pid {} is gone): {}\n", r.id, r.pid, r.command);
  if (dry_run) {
    const auto heir = find_heir(state.dir().parent_path(), r.id);
    for (auto it = r.changes.rbegin(); it != r.changes.rend(); ++it) {
      if (heir && may_hand_over(*it, r.changes)) {
        fmt::print(out, "  would hand over to run {} (still running): {}\n", *heir, describe(*it));
        ++report.changes_handed_over;
      } else {
        fmt::print(out, "  would undo: {}\n", describe(*it));
        ++report.changes_undone;
      }
    }
    fmt::print(out, "  would remove {}\n", state.dir().string());
    report.cleaned.push_back(r.id);
    return;
  }
  const std::string id = r.id;
  const std::string dir = state.dir().string();
  const auto failures = undo_all(state, undo, [&](const host_change& c, const result<void>& done, const std::string& heir) {
    if (done && !heir.empty()) {
      fmt::print(out, "  handed over to run {} (still running): {}\n", heir, describe(c));
      ++report.changes_handed_over;
    } else if (done) {
      fmt::print(out, "  undone: {}\n", describe(c));
      ++report.changes_undone;
    } else {
      fmt::print(out, "  failed: {}: {}\n", describe(c), done.error().message);
      ++report.changes_failed;
    }
  });
  if (failures.empty()) {
    fmt::print(out, "  removed {}\n", dir);
    report.cleaned.push_back(id);
  } else {
    fmt::print(out, "  kept {} ({} change(s) not undone)\n", dir, failures.size());
    report.incomplete.push_back(id);
  }
}

// A cookie for people: "cookie 42", or that the record or kernel has none.
std::string cookie_text(const std::optional<std::uint64_t>& cookie) {
  return cookie ? fmt::format("cookie {}", *cookie) : std::string("cookie unknown");
}

// Only the record is left: its namespace, and its changes, are gone.
void drop_stale_record(run_state& state, bool dry_run, std::FILE* out, cleanup_report& report) {
  const std::string id = state.record().id;
  const std::string dir = state.dir().string();
  if (dry_run) {
    fmt::print(out, "  would remove {} (stale: nothing to undo)\n", dir);
    report.stale.push_back(id);
    return;
  }
  if (auto removed = state.remove(); !removed) {
    fmt::print(out, "  kept {}: {}\n", dir, removed.error().message);
    report.incomplete.push_back(id);
    return;
  }
  fmt::print(out, "  removed {} (stale: nothing undone)\n", dir);
  report.stale.push_back(id);
}

// The cookie of the namespace netns_fd refers to, from a socket made in a
// short-lived thread that joined it (this thread never changes namespace).
std::optional<std::uint64_t> cookie_of(int netns_fd) {
  std::optional<std::uint64_t> cookie;
  try {
    std::thread t([&] {
      if (::setns(netns_fd, CLONE_NEWNET) == 0) cookie = current_netns_cookie();
    });
    t.join();
  } catch (const std::system_error&) {
    return std::nullopt;
  }
  return cookie;
}

// A directory without state.json: run_state::create holds the state lock
// from making it until the first record is in place, so under that lock its
// run was killed in between. That first record lists no change (a change is
// recorded before it is made): nothing to undo, the directory goes. A
// complete draft (state.json.tmp) of a live process is left alone all the
// same (written by a netpen that did not hold the lock yet).
void clean_unrecorded_run(const std::filesystem::path& dir, bool dry_run, std::FILE* out, cleanup_report& report) {
  const std::string id = dir.filename().string();
  auto lock = state_lock::acquire(dir.parent_path());
  if (!lock) {
    fmt::print(out, "run {}: left alone: {}\n", id, lock.error().message);
    report.unreadable.push_back(id);
    return;
  }
  if (has_record(dir)) {  // written meanwhile
    fmt::print(out, "run {}: skipped (its record appeared while cleaning up; run cleanup again)\n", id);
    report.skipped_live.push_back(id);
    return;
  }
  const auto draft = read_draft(dir);
  if (draft && is_alive(*draft)) {
    fmt::print(out, "run {}: skipped (running, pid {}, writing its first record)\n", id, draft->pid);
    report.skipped_live.push_back(id);
    return;
  }
  const std::string who = draft ? fmt::format("; pid {} is gone): {}", draft->pid, draft->command) : ")";
  fmt::print(out, "run {} (killed before its first record was written{}\n", id, who);
  if (dry_run) {
    fmt::print(out, "  would remove {} (nothing to undo)\n", dir.string());
    report.unrecorded.push_back(id);
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) {
    fmt::print(out, "  kept {}: {}\n", dir.string(), ec.message());
    report.incomplete.push_back(id);
    return;
  }
  fmt::print(out, "  removed {} (nothing to undo)\n", dir.string());
  report.unrecorded.push_back(id);
}

}  // namespace

netns_verdict judge_netns(const netns_identity& recorded, const netns_identity& here,
                          const std::optional<netns_identity>& holder) {
  const auto differ = [](const std::optional<std::uint64_t>& a, const std::optional<std::uint64_t>& b) {
    return a && b && *a != *b;
  };
  if (recorded.name.empty()) return netns_verdict::leave;  // unknown namespace: never guess
  if (recorded.name == here.name) {
    if (differ(recorded.cookie, here.cookie)) return netns_verdict::drop_reused;
    // Recorded with a cookie that cannot be read here: this may be a new
    // namespace with the old one's inode.
    if (recorded.cookie && !here.cookie) return netns_verdict::leave;
    return netns_verdict::undo;
  }
  // The name says elsewhere, the cookie says here: a record at odds with itself.
  if (recorded.cookie && here.cookie && *recorded.cookie == *here.cookie) return netns_verdict::leave;
  if (!holder) return netns_verdict::drop_gone;
  if (differ(recorded.cookie, holder->cookie)) return netns_verdict::drop_reused;
  return netns_verdict::leave;
}

cleanup_report cleanup_leftovers(const std::filesystem::path& root, host_undo& undo, bool dry_run, std::FILE* out) {
  cleanup_report report;
  const auto runs = list_runs(root);
  if (runs.empty()) fmt::print(out, "nothing to clean up\n");
  const netns_identity here{current_netns(), current_netns_cookie()};
  for (const auto& dir : runs) {
    if (valid_run_id(dir.filename().string()) && !has_record(dir)) {
      clean_unrecorded_run(dir, dry_run, out, report);
      continue;
    }
    auto state = run_state::load(dir);
    if (!state) {
      fmt::print(out, "run {}: left alone: {}\n", dir.filename().string(), state.error().message);
      report.unreadable.push_back(dir.filename().string());
      continue;
    }
    const run_record& r = state->record();
    if (is_alive(r)) {
      fmt::print(out, "run {}: skipped (running, pid {})\n", r.id, r.pid);
      report.skipped_live.push_back(r.id);
      continue;
    }
    // Its sysctls and tables belong to its namespace: undo them only there.
    // A namespace that is gone took them with it: only the record is left.
    // The inode alone does not tell: a new namespace may have it now.
    const netns_identity recorded{r.netns, r.netns_cookie};
    const bool elsewhere = !r.netns.empty() && r.netns != here.name;
    const auto holder = elsewhere ? find_netns(r.netns) : std::nullopt;
    switch (judge_netns(recorded, here, holder)) {
      case netns_verdict::undo:
        clean_dead_run(*state, undo, dry_run, out, report);
        break;
      case netns_verdict::drop_gone:
        fmt::print(out, "run {} (pid {} is gone): stale record: its network namespace {} is gone, and its changes with it\n",
                   r.id, r.pid, r.netns);
        drop_stale_record(*state, dry_run, out, report);
        break;
      case netns_verdict::drop_reused:
        fmt::print(out,
                   "run {} (pid {} is gone): stale record: its network namespace {} ({}) is gone, and its changes "
                   "with it; {} is now {} namespace ({})\n",
                   r.id, r.pid, r.netns, cookie_text(r.netns_cookie), r.netns, elsewhere ? "another" : "this",
                   cookie_text(elsewhere ? holder->cookie : here.cookie));
        drop_stale_record(*state, dry_run, out, report);
        break;
      case netns_verdict::leave:
        if (elsewhere || r.netns.empty())
          fmt::print(out, "run {}: skipped (made in network namespace {}, this is {})\n", r.id,
                     r.netns.empty() ? "unknown" : r.netns, here.name);
        else
          fmt::print(out, "run {}: skipped (made in network namespace {} ({}), and this namespace's cookie cannot "
                     "be read to tell it is the same one)\n", r.id, r.netns, cookie_text(r.netns_cookie));
        report.other_netns.push_back(r.id);
        break;
    }
  }
  std::fflush(out);
  return report;
}

std::optional<netns_identity> find_netns(const std::string& name) {
  namespace fs = std::filesystem;
  if (name.empty()) return netns_identity{};  // unknown: assume it is there (leave the run alone)
  // Opened, then checked: a process may exit between the listing and the open.
  const auto open_held = [&](const fs::path& p) -> std::optional<netns_identity> {
    unique_fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || fmt::format("net:[{}]", st.st_ino) != name) return std::nullopt;
    return netns_identity{name, cookie_of(fd.get())};
  };
  bool seen = false;  // named by a process whose namespace file could not be opened
  std::error_code ec;
  for (const auto& p : fs::directory_iterator("/proc", ec)) {
    const auto pid = p.path().filename().string();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code e2;
    const fs::path ns = p.path() / "ns" / "net";
    if (fs::read_symlink(ns, e2).string() != name) continue;
    if (auto held = open_held(ns)) return held;
    seen = true;
  }
  for (const auto& p : fs::directory_iterator("/run/netns", ec)) {
    struct stat st {};
    if (::stat(p.path().c_str(), &st) != 0 || fmt::format("net:[{}]", st.st_ino) != name) continue;
    if (auto held = open_held(p.path())) return held;
    seen = true;
  }
  // Held, as far as can be told, but its cookie is unknown: leave the run alone.
  if (seen) return netns_identity{name, std::nullopt};
  return std::nullopt;
}

}  // namespace netpen::backends::rootful
