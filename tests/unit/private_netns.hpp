// Test helper owning the root kernel tests' scaffolding: fork, unshare a
// fresh network namespace in the child (so nothing touches the host's own
// network), run the test body there, and bring its report back through a
// pipe, every wait bounded. A body reports "" for success, "skip: why" when
// the environment cannot run it, else what failed; it may also throw
// netns_failure (see expect / expect_ok).
#pragma once
#include <chrono>
#include <functional>
#include <string>
#include <utility>

#include "net/common/error.hpp"

namespace netns_test {

// A failed check inside the child; its text becomes the report.
struct netns_failure {
  std::string what;
};

inline void expect(bool ok, const std::string& what) {
  if (!ok) throw netns_failure{what};
}

template <class T>
T expect_ok(netpen::result<T> r, const std::string& what) {
  if (!r) throw netns_failure{what + ": " + r.error().message};
  return std::move(*r);
}

inline void expect_ok(const netpen::result<void>& r, const std::string& what) {
  if (!r) throw netns_failure{what + ": " + r.error().message};
}

// Runs `body` in a forked child inside a new network namespace; the child
// has `limit` (an alarm) and is killed shortly after. Returns the report:
// "" on success, "skip: ..." (also when unshare fails), else the failure,
// including a child that died or overran.
std::string run_in_private_netns(const std::function<std::string()>& body,
                                 std::chrono::seconds limit = std::chrono::seconds(30));

// The Catch2 side, for a TEST_CASE tagged [root]: when not root, or when
// the body reports "skip: why", the case is skipped (skip.hpp: the run
// exits 77); otherwise the report must be empty.
void check_in_private_netns(const std::function<std::string()>& body,
                            std::chrono::seconds limit = std::chrono::seconds(30));

}  // namespace netns_test
