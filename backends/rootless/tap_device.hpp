// tap0 creation inside the sandbox's network namespace: /dev/net/tun is
// opened there (a tap belongs to the namespace it was created in), with
// IFF_TAP|IFF_NO_PI, non-blocking; plus the per-namespace sysctls that keep
// IPv6 quiet on it (no router solicitations, no autoconf, no DAD).
#pragma once
#include "backends/common/unique_fd.hpp"
#include "net/common/error.hpp"

namespace netpen::backends::rootless {

struct tap_device {
  unique_fd fd;
  int ifindex = 0;
};

result<tap_device> create_tap();

// Best-effort IPv6 quieting for tap0 and, for ping without raw sockets,
// net.ipv4.ping_group_range opened to every id of the namespace.
void tune_tap_sysctls();

}  // namespace netpen::backends::rootless
