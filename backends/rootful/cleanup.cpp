// cleanup_leftovers: undoing what dead rootful runs left (see cleanup.hpp).
#include "backends/rootful/cleanup.hpp"

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
    clean_dead_run(*state, undo, dry_run, out, report);
  }
  std::fflush(out);
  return report;
}

}  // namespace netpen::backends::rootful
