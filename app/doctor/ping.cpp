// The ping check: the relay answers the sandbox's pings to outside hosts
// from an unprivileged ICMP socket on the host, which the kernel allows only
// to groups in net.ipv4.ping_group_range (root uses a raw socket). Without
// it, ping out of the sandbox fails; nothing else does.
#include <algorithm>

#include <fmt/format.h>

#include "app/doctor/checks.hpp"

namespace netpen::app::doctor {

check_result judge_ping(const ping_facts& f) {
  check_result r{"ping", true, need::recommended, "", ""};
  const std::string range =
      f.range ? fmt::format("net.ipv4.ping_group_range = {} {}", f.range->first, f.range->second)
              : std::string("net.ipv4.ping_group_range unreadable");
  if (f.root) {
    r.detail = "root relays pings with a raw socket (" + range + ")";
    return r;
  }
  if (f.socket_errno == 0) {
    r.detail = "ping sockets are allowed for this user's groups (" + range + ")";
    return r;
  }
  std::string groups;
  for (const gid_t g : f.groups) groups += (groups.empty() ? "" : " ") + std::to_string(g);
  r.ok = false;
  r.detail = fmt::format("{} does not include this user's groups ({}): ping from the sandbox to hosts outside "
                         "fails (TCP, UDP and DNS work)",
                         range, groups.empty() ? "none" : groups);
  r.fix = "sudo sysctl -w net.ipv4.ping_group_range='0 2147483647' (to keep it after a reboot: echo "
          "'net.ipv4.ping_group_range = 0 2147483647' | sudo tee /etc/sysctl.d/90-netpen-ping.conf)";
  return r;
}

}  // namespace netpen::app::doctor
