// tap0 creation inside the sandbox's network namespace: /dev/net/tun is
// opened there (a tap belongs to the namespace it was created in), with
// IFF_TAP|IFF_NO_PI, non-blocking; plus the namespace's ping sysctl.
#pragma once
#include "backends/common/unique_fd.hpp"
#include "net/common/error.hpp"

namespace netpen::backends::rootless {

struct tap_device {
  unique_fd fd;
  int ifindex = 0;
};

result<tap_device> create_tap();

// Best effort, for ping without raw sockets: net.ipv4.ping_group_range
// opened to every id of the namespace. (tap0 needs no IPv6 sysctls: it has
// no link-local address, see netlink_link_config.cpp.)
void allow_unprivileged_ping();

}  // namespace netpen::backends::rootless
