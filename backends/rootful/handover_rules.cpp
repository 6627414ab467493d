// The handover's pure rules (see handover_rules.hpp).
#include "backends/rootful/handover_rules.hpp"

#include <algorithm>
#include <variant>

namespace netpen::backends::rootful {

bool may_hand_over(const host_change& c, const std::vector<host_change>& record) {
  const auto* s = std::get_if<sysctl>(&c);
  if (s == nullptr) return false;
  return std::ranges::none_of(record, [&](const host_change& other) {
    const auto* link = std::get_if<veth>(&other);
    return link != nullptr && s->path.find("/" + link->name + "/") != std::string::npos;
  });
}

std::optional<std::string> pick_heir(const std::vector<run_candidate>& runs, std::string_view self_id,
                                     const netns_identity& here) {
  const run_candidate* best = nullptr;
  for (const auto& r : runs) {
    if (!r.alive || r.id == self_id || r.netns.name.empty()) continue;
    if (judge_netns(r.netns, here, std::nullopt) != netns_verdict::undo) continue;
    if (best == nullptr || r.created_unix > best->created_unix ||
        (r.created_unix == best->created_unix && r.id < best->id))
      best = &r;
  }
  if (best == nullptr) return std::nullopt;
  return best->id;
}

std::vector<std::size_t> inherited_indexes(const std::vector<host_change>& on_disk,
                                           const std::vector<host_change>& failed) {
  std::vector<bool> accounted(on_disk.size(), false);
  for (const auto& f : failed) {
    for (std::size_t i = 0; i < on_disk.size(); ++i) {
      if (!accounted[i] && on_disk[i] == f) {
        accounted[i] = true;
        break;
      }
    }
  }
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < on_disk.size(); ++i)
    if (!accounted[i]) out.push_back(i);
  return out;
}

}  // namespace netpen::backends::rootful
