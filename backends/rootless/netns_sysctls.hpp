// The sandbox network namespace's own sysctls that let a tree without
// capabilities (the default, privilege_drop.hpp) do what a network client
// and server ordinarily do: ping through ICMP datagram sockets
// (net.ipv4.ping_group_range opened to every gid mapped into the user
// namespace; the kernel refuses a range whose ends are not mapped) and bind
// ports below 1024, e.g. a server for --publish on port 80
// (net.ipv4.ip_unprivileged_port_start=0). Both are per network namespace:
// the host's values are untouched. Best effort: a kernel without one only
// costs that feature. (tap0 needs no IPv6 sysctls: it has no link-local
// address, see netlink_link_config.cpp.)
#pragma once
#include <string>
#include <string_view>

namespace netpen::backends::rootless {

// "low high" over the gids a gid_map text maps ("1 0", an empty range,
// when it maps none); high is capped at 2^31-1, the sysctl's limit.
std::string ping_group_range_for(std::string_view gid_map);

// Writes both sysctls in the calling process's network namespace.
void open_unprivileged_sysctls();

}  // namespace netpen::backends::rootless
