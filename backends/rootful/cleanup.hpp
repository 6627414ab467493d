// `netpen cleanup`: undoes the host changes of rootful runs whose process is
// gone (SIGKILL, crash, power cut of a non-tmpfs root), from their records
// under the state root. A live run is never touched; an unreadable or
// corrupt record is reported and left alone; a run killed before its first
// record was complete (a directory with no state.json, at most a
// state.json.tmp) made no change yet, and its directory is removed;
// --dry-run only lists. A
// sysctl another live run in this namespace may still need is handed over
// to that run instead of restored (handover.hpp).
#pragma once
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "backends/rootful/host_undo.hpp"

namespace netpen::backends::rootful {

struct cleanup_report {
  std::vector<std::string> skipped_live;  // run ids still running
  std::vector<std::string> other_netns;   // run ids made in another network namespace (left alone)
  std::vector<std::string> cleaned;       // run ids undone and removed (or that would be, dry run)
  std::vector<std::string> stale;         // run ids whose namespace is gone: record removed, nothing undone
                                          // (or that would be, dry run)
  std::vector<std::string> unrecorded;    // run ids killed before their first record was written: removed
                                          // (or that would be, dry run); nothing to undo
  std::vector<std::string> incomplete;    // run ids with a change that could not be undone (kept)
  std::vector<std::string> unreadable;    // directory names whose record could not be used (kept)
  std::size_t changes_undone = 0;         // (dry run: that would be undone)
  std::size_t changes_handed_over = 0;    // shared sysctls handed to a live run in this namespace (dry run: would be)
  std::size_t changes_failed = 0;

  // Nothing was left behind because of an error.
  bool ok() const { return incomplete.empty() && unreadable.empty(); }
};

// A network namespace as a record names it, or as it is found now.
struct netns_identity {
  std::string name;                     // "net:[inode]"; empty: unknown
  std::optional<std::uint64_t> cookie;  // SO_NETNS_COOKIE; nullopt: not recorded, or could not be read
};

enum class netns_verdict {
  undo,         // made in this namespace: undo its changes here
  drop_gone,    // nobody holds its namespace any more: the changes went with it; remove the record only
  drop_reused,  // its inode now names another namespace (the cookie differs): as gone
  leave,        // another namespace that still exists, or it cannot be told: leave the record alone
};

// Pure: what cleanup does with a dead run's record. recorded: the record's
// namespace; here: the namespace cleanup runs in; holder: the live namespace
// that has the recorded inode now, if any (only consulted when the recorded
// name is not here's). A netns inode may be reused by a new namespace once
// the old one is gone; the cookie is not, so a same inode with another
// cookie is another namespace. Records without a cookie are judged by the
// inode alone.
netns_verdict judge_netns(const netns_identity& recorded, const netns_identity& here,
                          const std::optional<netns_identity>& holder);

// The live network namespace `name` ("net:[inode]") as a process or a name
// under /run/netns holds it, with its cookie (read from a socket made in it
// by a short-lived thread; nullopt if that fails); nullopt when nobody holds
// it. An empty name is unknown: counted as held, cookie unknown.
std::optional<netns_identity> find_netns(const std::string& name);

// Prints one line per run and one per change to out, e.g.
//   run 3fa9c1 (pid 4242, gone): curl example.com
//     removed veth np3fa9c1
cleanup_report cleanup_leftovers(const std::filesystem::path& root, host_undo& undo, bool dry_run, std::FILE* out);

}  // namespace netpen::backends::rootful
