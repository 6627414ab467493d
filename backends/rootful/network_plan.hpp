// The plan of one rootful run's network, pure: from the host's facts
// (host_facts.hpp) and the run's options, the run's id and addresses
// (run_addresses), the host table and the tree's table (nft_ruleset), and
// the routing tables of its own with their marks and rule priorities
// (proxy mode and claim mode, --iface). No I/O: rootful_network reads the facts, prints
// the plan for --dry-run, and carries it out.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/rootful/host_facts.hpp"
#include "backends/rootful/nft_ruleset.hpp"
#include "backends/rootful/run_addresses.hpp"
#include "net/common/error.hpp"
#include "net/relay/host_port_set.hpp"

namespace netpen::backends::rootful {

struct network_options {
  bool ipv4_route = true;
  bool ipv6_route = true;
  std::string command;  // for the run's record
  bool proxy_mode = false;  // --proxy: the tree's TCP is TPROXY'd to the engine
  // The policy judges claimed names (policy::judges_claimed_names()): the
  // tree's TCP is TPROXY'd to the gate's transparent listener too, which
  // reads each flow's first bytes before it connects.
  bool claim_mode = false;
  std::optional<std::string> iface;  // --iface: direct egress only through this host interface
  std::optional<std::uint16_t> log_group;  // the egress capture's NFLOG group (host_table_plan::log_group)
  relay::host_port_set host_ports;  // --host-port: the gateway's ports the host table lets in
  std::vector<inbound_port> published;     // --publish: the tree's ports netpen connects to
  bool copy_first_bytes = false;  // netpen observes: the tree's table copies each TCP flow's first packets
};

struct network_plan {
  run_addresses addresses;
  host_table_plan host_table;
  child_table_plan child_table;
  std::string host_script, child_script;
  bool ipv6 = true;
  // A routing table of the run's own, numbered as the mark that the host
  // table sets and an fwmark rule at `priority` sends to it (per family).
  struct marked_table {
    std::uint32_t table = 0;  // 0: not used by this run
    std::uint32_t priority = 0;
  };
  // Proxy mode or claim mode: the table whose only route makes every address local.
  marked_table proxy_routing;
  // --iface: the table with one default route per family through the
  // interface (via the gateway of its default route in the main table, else
  // a device route).
  marked_table iface_routing;
  struct iface_route {
    int family = 0;                     // AF_INET or AF_INET6
    std::vector<std::uint8_t> gateway;  // empty: `default dev IFACE`
  };
  int iface_index = 0;
  std::vector<iface_route> iface_routes;
};

// Plans a run from `facts` alone. A bad --iface (not an interface name, no
// such interface, lo, a netpen run's own link, down) is the user's error
// (code "usage"); every /30 taken is "no-free-subnet".
result<network_plan> plan_network(const host_facts& facts, const network_options& opts);

}  // namespace netpen::backends::rootful
