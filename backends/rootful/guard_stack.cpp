// guard_stack and undo_all: unwinding a run's host changes (see guard_stack.hpp).
#include "backends/rootful/guard_stack.hpp"

#include "net/common/log.hpp"

namespace netpen::backends::rootful {

std::vector<failed_undo> undo_all(run_state& state, host_undo& undo, const undo_observer& observe) {
  std::vector<failed_undo> failures;
  // A copy: the record shrinks as changes are forgotten.
  const std::vector<host_change> changes = state.record().changes;
  for (std::size_t i = changes.size(); i-- > 0;) {
    const host_change& change = changes[i];
    result<void> done = undo.undo(change);
    if (observe) observe(change, done);
    if (!done) {
      if (!observe) log::warn("could not undo {}: {}", describe(change), done.error().message);
      failures.push_back({change, done.error()});
      continue;
    }
    // Entries above i are gone or failed; failed ones stay, so index i is
    // still this change's place in the record.
    if (auto f = state.forget(i); !f)
      log::debug("undid {} but could not update the run's record: {}", describe(change), f.error().message);
  }
  if (failures.empty()) {
    if (auto r = state.remove(); !r) {
      log::warn("{}", r.error().message);
    }
  } else if (!observe) {
    log::warn("{} change(s) could not be undone; `netpen cleanup` retries them (record in {})", failures.size(),
              state.dir().string());
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
