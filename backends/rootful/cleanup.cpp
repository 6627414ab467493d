// cleanup_leftovers: undoing what dead rootful runs left (see cleanup.hpp).
#include "backends/rootful/cleanup.hpp"

#include <sys/stat.h>

#include <filesystem>

#include <fmt/format.h>

#include "backends/rootful/guard_stack.hpp"
#include "backends/rootful/run_state.hpp"

namespace netpen::backends::rootful {
namespace {

void clean_dead_run(run_state& state, host_undo& undo, bool dry_run, std::FILE* out, cleanup_report& report) {
  const run_record& r = state.record();
  fmt::print(out, "run {} (pid {} is gone): {}\n", r.id, r.pid, r.command);
  if (dry_run) {
    for (auto it = r.changes.rbegin(); it != r.changes.rend(); ++it) fmt::print(out, "  would undo: {}\n", describe(*it));
    fmt::print(out, "  would remove {}\n", state.dir().string());
    report.changes_undone += r.changes.size();
    report.cleaned.push_back(r.id);
    return;
  }
  const std::string id = r.id;
  const std::string dir = state.dir().string();
  const auto failures = undo_all(state, undo, [&](const host_change& c, const result<void>& done) {
    if (done) {
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

}  // namespace

cleanup_report cleanup_leftovers(const std::filesystem::path& root, host_undo& undo, bool dry_run, std::FILE* out) {
  cleanup_report report;
  const auto runs = list_runs(root);
  if (runs.empty()) fmt::print(out, "nothing to clean up\n");
  for (const auto& dir : runs) {
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
    // Its sysctls and tables belong to that namespace: never undo them here.
    // A namespace nobody holds any more took them with it: only the record is left.
    if (r.netns != current_netns() && !netns_exists(r.netns)) {
      fmt::print(out, "run {}: its network namespace {} is gone, and its changes with it\n", r.id, r.netns);
      if (!dry_run) (void)state->remove();
      report.cleaned.push_back(r.id);
      continue;
    }
    if (r.netns != current_netns()) {
      fmt::print(out, "run {}: skipped (made in network namespace {}, this is {})\n", r.id,
                 r.netns.empty() ? "unknown" : r.netns, current_netns());
      report.other_netns.push_back(r.id);
      continue;
    }
    clean_dead_run(*state, undo, dry_run, out, report);
  }
  std::fflush(out);
  return report;
}

// Whether any process, or a name under /run/netns, still holds the
// network namespace `name` ("net:[inode]").
bool netns_exists(const std::string& name) {
  namespace fs = std::filesystem;
  if (name.empty()) return true;  // unknown: assume it is there (leave the run alone)
  std::error_code ec;
  for (const auto& p : fs::directory_iterator("/proc", ec)) {
    const auto pid = p.path().filename().string();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code e2;
    if (fs::read_symlink(p.path() / "ns" / "net", e2).string() == name) return true;
  }
  for (const auto& p : fs::directory_iterator("/run/netns", ec)) {
    struct stat st {};
    if (::stat(p.path().c_str(), &st) == 0 && fmt::format("net:[{}]", st.st_ino) == name) return true;
  }
  return false;
}

}  // namespace netpen::backends::rootful
