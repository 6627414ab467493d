// `netpen cleanup`: undoes the host changes of rootful runs whose process is
// gone (SIGKILL, crash, power cut of a non-tmpfs root), from their records
// under the state root. A live run is never touched; an unreadable or
// corrupt record is reported and left alone; --dry-run only lists.
#pragma once
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "backends/rootful/host_undo.hpp"

namespace netpen::backends::rootful {

struct cleanup_report {
  std::vector<std::string> skipped_live;  // run ids still running
  std::vector<std::string> other_netns;   // run ids made in another network namespace (left alone)
  std::vector<std::string> cleaned;       // run ids undone and removed (or that would be, dry run)
  std::vector<std::string> incomplete;    // run ids with a change that could not be undone (kept)
  std::vector<std::string> unreadable;    // directory names whose record could not be used (kept)
  std::size_t changes_undone = 0;         // (dry run: that would be undone)
  std::size_t changes_failed = 0;

  // Nothing was left behind because of an error.
  bool ok() const { return incomplete.empty() && unreadable.empty(); }
};

// Prints one line per run and one per change to out, e.g.
//   run 3fa9c1 (pid 4242, gone): curl example.com
//     removed veth np3fa9c1
// Whether a process or /run/netns still holds the network namespace `name`
// ("net:[inode]"; empty: unknown, counted as held).
bool netns_exists(const std::string& name);

cleanup_report cleanup_leftovers(const std::filesystem::path& root, host_undo& undo, bool dry_run, std::FILE* out);

}  // namespace netpen::backends::rootful
