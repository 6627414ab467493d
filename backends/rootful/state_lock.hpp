// The lock that serializes every read-modify-write of the run records under
// a state root (/run/netpen) between netpen processes: an exclusive flock on
// <root>/.lock, held briefly while a process reads records, decides and
// writes (its own record's changes, a handover into another run's record, a
// shared sysctl read or restored). Re-entrant within a process: a holder may
// take it again (run_state's writes inside a handover); other threads of the
// same process wait for the holder.
#pragma once
#include <chrono>
#include <filesystem>

#include "net/common/error.hpp"

namespace netpen::backends::rootful {

class state_lock {
 public:
  // Takes the lock on <root>/.lock (created 0600 if missing; root must
  // exist), waiting up to `patience` for another process to let it go.
  static result<state_lock> acquire(const std::filesystem::path& root,
                                    std::chrono::milliseconds patience = std::chrono::seconds(10));
  state_lock(state_lock&& other) noexcept;
  state_lock& operator=(state_lock&&) = delete;
  state_lock(const state_lock&) = delete;
  state_lock& operator=(const state_lock&) = delete;
  ~state_lock();

 private:
  explicit state_lock(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;  // empty once moved from
};

}  // namespace netpen::backends::rootful
