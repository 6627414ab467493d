// What a rootful run reads from the host, as plain structs, and the readers
// that gather them (rtnetlink dumps, /proc/sys, /sys/class/net, the runs'
// records). Nothing here changes the host and nothing here decides: the
// plans are made from these facts by pure functions (network_plan.hpp,
// uplink_forwarding.hpp), so tests can feed them facts made by hand.
// Two moments:
//  - before the run: host_facts (what is in use, --iface's interface);
//  - once the run's record exists and its veth is up: uplink_facts and the
//    uplinks' forwarding sysctls (read after the record so that a run ending
//    meanwhile hands its forwarding over; see handover.hpp).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backends/common/rtnetlink.hpp"
#include "backends/rootful/rtnetlink_queries.hpp"
#include "backends/rootful/run_addresses.hpp"
#include "net/common/error.hpp"

namespace netpen::backends::rootful {

// --iface's interface as the host has it.
struct iface_facts {
  int index = 0;  // 0: no such interface (or a name that is not one: nothing was read)
  bool up = false;
  std::vector<default_route> main_default_routes;  // the main table's, by family then metric
};

struct host_facts {
  std::uint32_t seed = 0;             // random: the run id and the first /30 tried
  std::vector<ipv4_net> ipv4_in_use;  // the host's IPv4 addresses and routes
  iface_facts iface;                  // read only with --iface
};

// Reads the host's addresses and routes and, when `iface` is set, that
// interface; draws the seed.
result<host_facts> read_host_facts(const std::optional<std::string>& iface);

// The host's uplinks: the interfaces of the main table's default routes.
struct uplink_facts {
  std::vector<std::string> v4, v6;  // names, in route order, each once
  // The kernel forwards IPv6 per interface (net.ipv6.conf.<if>.force_forwarding,
  // Linux 6.17 and later; found on the run's veth). Read only for IPv6 runs.
  bool ipv6_per_interface = false;
};

result<uplink_facts> read_uplink_facts(rtnetlink& nl, const std::string& veth, bool ipv6);

// One sysctl's current value, and whether a live netpen run (this one
// included) holds a change of it (asked only when it is "1").
struct sysctl_reading {
  std::string value;
  bool held_by_a_run = false;
};
using sysctl_readings = std::map<std::string, sysctl_reading>;  // by path under /proc/sys

// Reads each of `paths`; an unreadable one is an error.
result<sysctl_readings> read_sysctls(std::span<const std::string> paths);

}  // namespace netpen::backends::rootful
