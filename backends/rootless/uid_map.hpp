// uid/gid maps for the sandbox's user namespace, written by the parent: first
// directly ("0 <uid> 1", setgroups "deny", "0 <gid> 1"), and if the kernel
// refuses that, through newuidmap/newgidmap with the user's /etc/subuid and
// /etc/subgid ranges for the extra ids. NETPEN_UIDMAP=helper forces the
// helper path (for tests).
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
