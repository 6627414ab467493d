// The handover between concurrent rootful runs, on disk (rules in
// handover_rules.hpp): when a run (or `netpen cleanup`, for a dead one)
// would undo a shared sysctl while another live run in this network
// namespace exists, the change is appended to that run's record instead,
// and the live run undoes it when it ends. Every decision is made under the
// state lock (state_lock.hpp), so runs that start or end at the same time
// see one another's records.
#pragma once
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "backends/rootful/host_undo.hpp"
#include "backends/rootful/run_state.hpp"

namespace netpen::backends::rootful {

// The id of the live run under root, other than self_id, made in the
// calling thread's network namespace, that would inherit a change; nullopt
// when there is none. Read-only; take the state lock to act on the answer.
std::optional<std::string> find_heir(const std::filesystem::path& root, const std::string& self_id);

// Whether a live run in this network namespace (the caller's own included)
// holds a change of the sysctl at `path` (relative to /proc/sys) in its
// record: netpen, not the host, turned it on, so a run that finds it on
// still guards it as if it had turned it on itself.
bool sysctl_held_by_a_run(const std::filesystem::path& root, const std::string& path);

struct undo_outcome {
  result<void> done;  // the change was undone here, or handed over
  std::string heir;   // the run it was handed to; empty: undone here (or failed)
};

// Undoes state's change at `index`, or, when may_hand_over (handover_rules)
// allows it and find_heir finds a run, appends it to that run's record
// instead (before forgetting it here: a crash in between leaves it in both,
// and undoing twice is harmless). A change undone or handed over is
// forgotten from state; a failed one stays. Handover-able changes are
// decided and undone under the state lock.
undo_outcome undo_or_hand_over(run_state& state, std::size_t index, host_undo& undo);

}  // namespace netpen::backends::rootful
