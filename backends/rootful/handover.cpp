// undo_or_hand_over and find_heir: the handover on disk (see handover.hpp).
#include "backends/rootful/handover.hpp"

#include <algorithm>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "backends/rootful/cleanup.hpp"
#include "backends/rootful/handover_rules.hpp"
#include "backends/rootful/state_lock.hpp"
#include "net/common/log.hpp"

namespace netpen::backends::rootful {
namespace {

// Undoes the change and forgets it from the record when that worked.
result<void> undo_here(run_state& state, std::size_t index, const host_change& change, host_undo& undo) {
  auto done = undo.undo(change);
  if (!done) return done;
  if (auto f = state.forget(index); !f)
    log::debug("undid {} but could not update the run's record: {}", describe(change), f.error().message);
  return done;
}

// Appends the change to the heir's record; an error leaves it undone here.
result<void> append_to(const std::filesystem::path& root, const std::string& heir, const host_change& change) {
  auto target = run_state::load(root / heir);
  if (!target) return unexpected(target.error());
  return target->record_intent(change);
}

}  // namespace

std::optional<std::string> find_heir(const std::filesystem::path& root, const std::string& self_id) {
  std::vector<run_candidate> runs;
  for (const auto& dir : list_runs(root)) {
    if (dir.filename() == self_id) continue;
    auto state = run_state::load(dir);
    if (!state) continue;  // unreadable or half-made: not a run to hand anything to
    const run_record& r = state->record();
    runs.push_back({r.id, is_alive(r), {r.netns, r.netns_cookie}, r.created_unix});
  }
  return pick_heir(runs, self_id, {current_netns(), current_netns_cookie()});
}

bool sysctl_held_by_a_run(const std::filesystem::path& root, const std::string& path) {
  std::vector<run_candidate> holders;
  for (const auto& dir : list_runs(root)) {
    auto state = run_state::load(dir);
    if (!state) continue;
    const run_record& r = state->record();
    const bool holds = std::ranges::any_of(r.changes, [&](const host_change& c) {
      const auto* s = std::get_if<sysctl>(&c);
      return s != nullptr && s->path == path;
    });
    if (holds) holders.push_back({r.id, is_alive(r), {r.netns, r.netns_cookie}, r.created_unix});
  }
  return pick_heir(holders, "", {current_netns(), current_netns_cookie()}).has_value();
}

undo_outcome undo_or_hand_over(run_state& state, std::size_t index, host_undo& undo) {
  const auto& changes = state.record().changes;
  if (index >= changes.size()) return {fail("state-index", "no such change in the run's record"), {}};
  const host_change change = changes[index];
  if (!may_hand_over(change, changes)) return {undo_here(state, index, change, undo), {}};
  const auto root = state.dir().parent_path();
  auto lock = state_lock::acquire(root);
  if (!lock) {
    // Without the lock another run's record cannot be trusted: undo as a lone run would.
    log::warn("{}; undoing {} without looking for another run that needs it", lock.error().message, describe(change));
    return {undo_here(state, index, change, undo), {}};
  }
  const std::string self = state.record().id;
  if (const auto heir = find_heir(root, self)) {
    if (auto appended = append_to(root, *heir, change); appended) {
      if (auto f = state.forget(index); !f)
        log::debug("handed {} to run {} but could not update this run's record: {}", describe(change), *heir,
                   f.error().message);
      log::debug("handed {} to run {}, which still runs", describe(change), *heir);
      return {result<void>{}, *heir};
    } else {
      log::debug("could not hand {} to run {}: {}; undoing it here", describe(change), *heir,
                 appended.error().message);
    }
  }
  return {undo_here(state, index, change, undo), {}};
}

}  // namespace netpen::backends::rootful
