// The sandbox namespace's unprivileged-use sysctls (see netns_sysctls.hpp).
#include "backends/rootless/netns_sysctls.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "backends/common/sysctl.hpp"
#include "net/common/log.hpp"

namespace netpen::backends::rootless {

std::string ping_group_range_for(std::string_view gid_map) {
  std::istringstream in{std::string(gid_map)};
  unsigned long inside = 0, outside = 0, count = 0;
  unsigned long low = ~0UL, high = 0;
  while (in >> inside >> outside >> count) {
    if (count == 0) continue;
    low = std::min(low, inside);
    high = std::max(high, inside + count - 1);
  }
  if (low > high) return "1 0";
  return fmt::format("{} {}", low, std::min(high, 2147483647UL));
}

void open_unprivileged_sysctls() {
  std::ifstream in("/proc/self/gid_map");
  std::ostringstream map;
  map << in.rdbuf();
  if (auto r = write_sysctl("net/ipv4/ping_group_range", ping_group_range_for(map.str())); !r)
    log::debug("{}", r.error().message);
  if (auto r = write_sysctl("net/ipv4/ip_unprivileged_port_start", "0"); !r) log::debug("{}", r.error().message);
}

}  // namespace netpen::backends::rootless
