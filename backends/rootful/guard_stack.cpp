// guard_stack and undo_all: unwinding a run's host changes (see guard_stack.hpp).
#include "backends/rootful/guard_stack.hpp"

#include <optional>

#include "backends/rootful/handover.hpp"
#include "backends/rootful/handover_rules.hpp"
#include "backends/rootful/state_lock.hpp"
#include "net/common/log.hpp"

namespace netpen::backends::rootful {
namespace {

// One change undone or handed over, reported and collected.
void step(run_state& state, std::size_t index, host_undo& undo, const undo_observer& observe,
          std::vector<failed_undo>& failures) {
  if (index >= state.record().changes.size()) return;  // the record could not be kept in step: nothing to undo
  const host_change change = state.record().changes[index];
  const undo_outcome out = undo_or_hand_over(state, index, undo);
  if (observe) observe(change, out.done, out.heir);
  if (!out.done) {
    if (!observe) log::warn("could not undo {}: {}", describe(change), out.done.error().message);
    failures.push_back({change, out.done.error()});
  }
}

// What other runs handed to this one (while it ran, or while it unwound) is
// its own to undo now, by the same rule. All under the lock, so nothing more
// can be handed to it between the last look and the removal of its record.
// false: the record could not be re-read (it is kept).
bool undo_inherited(run_state& state, host_undo& undo, const undo_observer& observe,
                    std::vector<failed_undo>& failures) {
  auto lock = state_lock::acquire(state.dir().parent_path());
  if (!lock) log::warn("{}; undoing what other runs handed over without it", lock.error().message);
  if (auto fresh = state.refresh(); !fresh) {
    log::warn("cannot re-read the run's record to undo what other runs handed to it: {}", fresh.error().message);
    return false;
  }
  std::vector<host_change> failed;
  for (const auto& f : failures) failed.push_back(f.change);
  const auto inherited = inherited_indexes(state.record().changes, failed);
  // Newest first; forgetting one leaves the indexes below it in place.
  for (auto it = inherited.rbegin(); it != inherited.rend(); ++it) step(state, *it, undo, observe, failures);
  if (failures.empty())
    if (auto r = state.remove(); !r) log::warn("{}", r.error().message);
  return true;
}

}  // namespace

std::vector<failed_undo> undo_all(run_state& state, host_undo& undo, const undo_observer& observe) {
  std::vector<failed_undo> failures;
  // Only appended to while this runs (by handovers), so the i-th change of
  // this snapshot is still the i-th of the record: the entries above it are
  // gone, failed (and kept), or appended.
  const std::size_t own = state.record().changes.size();
  for (std::size_t i = own; i-- > 0;) step(state, i, undo, observe, failures);
  const bool reread = undo_inherited(state, undo, observe, failures);
  if (!failures.empty() && !observe) {
    log::warn("{} change(s) could not be undone; `netpen cleanup` retries them (record in {})", failures.size(),
              state.dir().string());
  } else if (!reread && !observe) {
    log::warn("the run's record stays in {} for `netpen cleanup`", state.dir().string());
  }
  return failures;
}

result<void> guard_stack::push(host_change change) {
  if (unwound_) return fail("unwound", "the run's changes have already been undone");
  if (auto ok = validate(change); !ok) return ok;
  return state_.record_intent(change);
}

void guard_stack::unwind() {
  if (unwound_) return;
  unwound_ = true;
  failures_ = undo_all(state_, undo_, {});
}

}  // namespace netpen::backends::rootful
