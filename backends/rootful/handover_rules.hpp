// The pure rules of the handover between concurrent rootful runs. A run that
// turned a shared setting on (an uplink's forwarding) must not turn it back
// off while another run in the same network namespace still relies on it:
// at its end it hands the undo to a live run instead, which undoes it at its
// own end (or hands it on again). No I/O here: handover.hpp applies them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/rootful/cleanup.hpp"
#include "backends/rootful/host_change.hpp"

namespace netpen::backends::rootful {

// Whether undoing `c`, a change of `record`, may be handed to another live
// run: a sysctl, unless it is a setting of one of the record's own veths
// (that dies with the link, and no other run uses it).
bool may_hand_over(const host_change& c, const std::vector<host_change>& record);

// A run record as the heir is picked from.
struct run_candidate {
  std::string id;
  bool alive = false;            // its process runs (same pid and start time)
  netns_identity netns;          // the namespace its record names
  std::int64_t created_unix = 0;
};

// The live run, other than self_id, whose namespace is `here` (as
// judge_netns tells it: inode and, where both are known, cookie): the newest,
// then the smallest id, so the one likely to run longest inherits. nullopt:
// there is none, and the change is undone.
std::optional<std::string> pick_heir(const std::vector<run_candidate>& runs, std::string_view self_id,
                                     const netns_identity& here);

// After a run undid its own changes, its record on disk holds the ones that
// failed and the ones other runs handed to it. The indexes (ascending) of
// the handed ones: each failed change accounts for one equal entry.
std::vector<std::size_t> inherited_indexes(const std::vector<host_change>& on_disk,
                                           const std::vector<host_change>& failed);

}  // namespace netpen::backends::rootful
