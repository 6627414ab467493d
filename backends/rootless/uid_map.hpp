// uid/gid maps for the sandbox's user namespace, written by the parent: first
// directly (one line each, setgroups "deny"), and if the kernel refuses that,
// through newuidmap/newgidmap with the user's /etc/subuid and /etc/subgid
// ranges for the extra ids. NETPEN_UIDMAP=helper forces the helper path (for
// tests). Which ids the maps name (plan_id_maps):
//   - default (least privilege): the invoking uid and gid map to themselves
//     ("1000 1000 1"; root's "0 0 1"), so the command runs as you inside;
//   - --map-root: uid and gid 0 inside are the invoking ones ("0 1000 1");
//   - root's --exec-group sandbox (host_ids): every id maps to itself, so
//     the init can drop to any member.
#pragma once
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/common/error.hpp"

namespace netpen::backends::rootless {

struct id_range {
  unsigned long start = 0;
  unsigned long count = 0;
};

// The first /etc/subuid-style line ("name-or-id:start:count") for the user.
std::optional<id_range> parse_subid(std::string_view text, std::string_view user_name, unsigned long id);

// One map line: "<inside> <outside> <count>\n".
std::string map_line(unsigned long inside, unsigned long outside, unsigned long count);

// What the maps say for the invoking ids (pure; see the top of this file).
struct id_map_plan {
  unsigned long inside_uid = 0;  // the invoking uid's id inside (the helpers' self mapping)
  unsigned long inside_gid = 0;
  std::string uid_map;           // the whole uid_map text written directly
  std::string gid_map;
  bool deny_setgroups = true;    // "deny" to setgroups first (needed for an unprivileged gid_map)
};
id_map_plan plan_id_maps(unsigned long uid, unsigned long gid, bool keep_ids, bool host_ids);

// newuidmap/newgidmap argv: the self mapping plus, when given, a
// subordinate range placed so it never overlaps the inside id.
std::vector<std::string> helper_argv(std::string_view helper, pid_t pid, unsigned long inside,
                                     unsigned long outside, std::optional<id_range> sub);

// Writes both maps for the process `pid` (just created in a new user ns).
// inside ids: 0, or the invoking ids themselves when keep_ids. host_ids
// (root only): every id maps to itself and setgroups stays allowed, so the
// init can drop to any host user (a persistent sandbox's --exec-group).
result<void> write_id_maps(pid_t pid, bool keep_ids, bool host_ids = false);

}  // namespace netpen::backends::rootless
