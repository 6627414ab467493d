// The guard stack of a rootful run: every host change is pushed (its intent
// written to the run's record first) and unwound in reverse on every way
// out (normal exit, error, SIGINT/SIGTERM handled by the caller, or the
// destructor). Failures are logged and collected, never stop the unwinding;
// the run's directory is removed once everything is undone, and kept (with
// the changes that failed) for `netpen cleanup` otherwise. A shared sysctl
// is handed to another live run instead of restored while that run needs it
// (handover.hpp), and changes handed to this run are undone at its end.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "backends/rootful/host_change.hpp"
#include "backends/rootful/host_undo.hpp"
#include "backends/rootful/run_state.hpp"
#include "net/common/error.hpp"

namespace netpen::backends::rootful {

struct failed_undo {
  host_change change;
  error why;
};

// Called once per change as it is undone (or fails to be); heir: the run it
// was handed to instead (empty: undone here).
using undo_observer = std::function<void(const host_change&, const result<void>&, const std::string& heir)>;

// Undoes every change of the record in reverse, forgetting each one undone
// or handed over (so a SIGKILL part-way leaves only the rest on disk). Then,
// under the state lock, re-reads the record and undoes (or hands on) what
// other runs handed to this one, and removes the directory if nothing
// failed. Shared by guard_stack and netpen cleanup. Failures are logged as
// warnings unless an observer reports them.
std::vector<failed_undo> undo_all(run_state& state, host_undo& undo, const undo_observer& observe = {});

class guard_stack {
 public:
  guard_stack(run_state& state, host_undo& undo) : state_(state), undo_(undo) {}
  guard_stack(const guard_stack&) = delete;
  guard_stack& operator=(const guard_stack&) = delete;
  ~guard_stack() { unwind(); }

  // Records the change on disk; make the change only after this succeeds
  // (an error means it could not be recorded, so it must not be made). If
  // making it then fails, leave it pushed: its undo finds nothing to do.
  result<void> push(host_change change);

  // Undoes everything pushed, newest first. Idempotent: later calls (and
  // the destructor) do nothing. Not async-signal-safe: call it from the
  // code that noticed the signal, not from a handler.
  void unwind();

  bool unwound() const { return unwound_; }
  // What could not be undone (still listed in the record on disk).
  const std::vector<failed_undo>& failures() const { return failures_; }

 private:
  run_state& state_;
  host_undo& undo_;
  bool unwound_ = false;
  std::vector<failed_undo> failures_;
};

}  // namespace netpen::backends::rootful
