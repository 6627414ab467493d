// The rootless sandbox's link setup over rtnetlink (builders and socket in
// backends/common/rtnetlink.hpp): lo up, then tap0's MAC, MTU, txqueuelen,
// addresses, gateway neighbours and default routes.
#pragma once
#include "backends/common/rtnetlink.hpp"
#include "net/common/error.hpp"

namespace netpen::backends::rootless {

// Brings up `lo`, then configures tap0 (MAC, MTU, txqueuelen, up, addresses,
// default routes, gateway neighbours) from net/common/sandbox_addresses.hpp.
// Which families get a default route via the gateway: only those the host
// can reach, so that without one the tree's own kernel fails at once.
struct default_routes {
  bool ipv4 = true;
  bool ipv6 = true;
};
result<void> configure_sandbox_links(int tap_ifindex, default_routes routes);

}  // namespace netpen::backends::rootless
