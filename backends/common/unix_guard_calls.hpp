// One trapped call of the Unix-socket guard, answered (the steps are in
// unix_guard_supervisor.hpp): continue it, refuse it, or perform it on
// netpen's copy of the tree's socket and return its result.
#pragma once
#include <linux/seccomp.h>

#include <functional>
#include <string>
#include <vector>

#include "backends/common/unix_guard_supervisor.hpp"

namespace netpen::backends::unix_guard {

struct call_context {
  int listener = -1;
  int diag = -1;
  const std::vector<std::string>* allow = nullptr;
  const std::function<void(const unix_refusal&)>* on_refusal = nullptr;
};

// Fills `resp` (id set by the caller) for `req`; false when the
// notification is no longer valid (no answer needed).
bool answer(const call_context& ctx, const seccomp_notif& req, seccomp_notif_resp& resp);

}  // namespace netpen::backends::unix_guard
