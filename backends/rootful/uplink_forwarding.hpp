// Forwarding for one rootful run, pure: which sysctls to turn on and which
// host-table rules keep the host's own forwarding policy as it was, from
// the uplink facts (host_facts.hpp) and the run's plan. Theory of operation:
// the kernel forwards a packet only if the interface it came in on
// forwards: the veth (the tree's packets) and each uplink (their replies;
// --iface counts as an uplink of both families). So:
//  - the veth's forwarding is turned on (it dies with the veth: no undo);
//  - an uplink whose forwarding is off is turned on, and a forward rule
//    drops what that uplink would now forward anywhere but to a netpen veth
//    (oifname != "np*");
//  - an uplink found on is left alone (the host forwards there by its own
//    policy), unless a netpen run holds that change: then it gets the drop
//    rule too, as if this run had turned it on;
//  - IPv6: per interface (force_forwarding, Linux 6.17 and later) as above,
//    else the global net.ipv6.conf.all.forwarding, which has no drop rule.
// Each sysctl is written only if its value differs when it is applied.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "backends/rootful/host_facts.hpp"
#include "backends/rootful/network_plan.hpp"
#include "net/common/error.hpp"

namespace netpen::backends::rootful {

struct planned_sysctl {
  std::string path;   // under /proc/sys
  std::string value;
  bool undo = true;   // false: the veth's own setting, which dies with it
};

struct forwarding_plan {
  std::vector<planned_sysctl> sysctls;  // in the order they are applied
  std::string host_rules;               // nft commands added to the host table's transaction
};

// "net/ipv4/conf/<ifname>/forwarding" and "net/ipv6/conf/<ifname>/force_forwarding".
std::string ipv4_forwarding_sysctl(std::string_view ifname);
std::string ipv6_forwarding_sysctl(std::string_view ifname);

// The uplinks' sysctls plan_forwarding needs read (sysctl_readings).
std::vector<std::string> uplink_sysctl_paths(const uplink_facts& uplinks, const network_plan& plan);

// An uplink sysctl missing from `readings` is an error (code "sysctl").
result<forwarding_plan> plan_forwarding(const uplink_facts& uplinks, const sysctl_readings& readings,
                                        const network_plan& plan);

}  // namespace netpen::backends::rootful
