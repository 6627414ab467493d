// The on-disk record of one rootful run: <root>/<id>/state.json (directory
// 0700, file 0600, rewritten atomically on every change) naming the process
// (pid and its start time, so a reused pid is not taken for the run), the
// command, and every host change in the order it was made. A change is
// recorded BEFORE it is made, so a SIGKILL in between cannot leak it;
// `netpen cleanup` reads these records to undo what dead runs left behind.
// Concurrent runs may append to one another's records (handover.hpp).
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "backends/rootful/host_change.hpp"
#include "net/common/error.hpp"

namespace netpen::backends::rootful {

inline constexpr std::string_view default_state_root = "/run/netpen";
inline constexpr int state_schema_version = 1;

struct run_record {
  int schema_version = state_schema_version;
  std::string id;                    // the directory's name, e.g. "3fa9c1"
  int pid = 0;                       // the netpen process that owns the run
  std::uint64_t start_time = 0;      // field 22 of /proc/<pid>/stat
  std::string command;               // for people: what the run was running
  std::string netns;                 // the network namespace its changes were made in ("net:[4026531840]")
  // That namespace's SO_NETNS_COOKIE: unlike the inode in `netns`, which a
  // new namespace may reuse once this one is gone, never reused until reboot.
  // Absent in records of older netpen versions and kernels before 5.14.
  std::optional<std::uint64_t> netns_cookie;
  std::int64_t created_unix = 0;     // seconds since the epoch
  std::vector<host_change> changes;  // in the order they were made
};

nlohmann::json to_json(const run_record& r);
result<run_record> run_record_from_json(const nlohmann::json& j);

// Field 22 (starttime) of a /proc/<pid>/stat line; the command name in
// field 2 may hold spaces and parentheses, so fields count from the last ')'.
result<std::uint64_t> parse_start_time(std::string_view stat_line);
// The start time of a live process; nullopt when there is no such process.
std::optional<std::uint64_t> process_start_time(int pid);

// A run id as a directory name: 1 to 32 lowercase letters and digits
// (run_addresses.hpp's make_run_id gives 6 hex digits).
bool valid_run_id(std::string_view id);

// A record for this process (pid, start time, now) with no changes yet.
result<run_record> this_run_record(std::string id, std::string command);

// The run's process still exists and is the same process (start time).
bool is_alive(const run_record& r);
// The calling thread's network namespace, as /proc/thread-self/ns/net names it.
std::string current_netns();
// The SO_NETNS_COOKIE of the calling thread's network namespace (from a
// socket made here); nullopt when the kernel (before 5.14) cannot tell.
std::optional<std::uint64_t> current_netns_cookie();

class run_state {
 public:
  // Creates <root> (0700) if missing and <root>/<id> (0700, must not exist),
  // and writes the record. root is default_state_root outside tests.
  static result<run_state> create(const std::filesystem::path& root, run_record record);
  // Reads <dir>/state.json; refuses a directory or file not owned by us or
  // writable by others, and a record whose id is not the directory's name.
  static result<run_state> load(const std::filesystem::path& dir);

  const run_record& record() const { return record_; }
  const std::filesystem::path& dir() const { return dir_; }

  // Each write below re-reads the record first and runs under the state
  // lock (state_lock.hpp): another run may have appended a change handed
  // over to this one (handover.hpp), and it must not be lost.

  // Appends the change and writes the record, before the change is made.
  result<void> record_intent(const host_change& change);
  // Drops changes[index] (it has been undone) and writes the record.
  // Indexes stay valid across a re-read: others only append.
  result<void> forget(std::size_t index);
  // Deletes the run's directory; further writes fail.
  result<void> remove();
  // Re-reads the record from disk (with what others handed over); nothing
  // to do once removed.
  result<void> refresh();

 private:
  run_state(std::filesystem::path dir, run_record record) : dir_(std::move(dir)), record_(std::move(record)) {}
  result<void> save();

  std::filesystem::path dir_;
  run_record record_;
  bool removed_ = false;
};

// Whether <dir>/state.json exists (anything but "no such file" counts as
// yes, so an unreadable record is reported rather than taken for missing).
bool has_record(const std::filesystem::path& dir);
// The record a run was writing when it died (<dir>/state.json.tmp), when it
// is complete, valid and private; nullopt otherwise.
std::optional<run_record> read_draft(const std::filesystem::path& dir);

// The run directories under root (sorted; plain files and symlinks are not
// runs). A missing root is an empty list.
std::vector<std::filesystem::path> list_runs(const std::filesystem::path& root);

}  // namespace netpen::backends::rootful
