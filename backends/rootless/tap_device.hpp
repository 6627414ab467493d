// tap0 creation inside the sandbox's network namespace: /dev/net/tun is
// opened there (a tap belongs to the namespace it was created in), with
// IFF_TAP|IFF_NO_PI, non-blocking. (The namespace's sysctls: netns_sysctls.hpp.)
#pragma once
#include "backends/common/unique_fd.hpp"
#include "net/common/error.hpp"

namespace netpen::backends::rootless {

struct tap_device {
  unique_fd fd;
  int ifindex = 0;
};

result<tap_device> create_tap();

}  // namespace netpen::backends::rootless
