// The sockets that carry --host-port: for each listed port, a listening TCP
// socket (or a bound UDP socket) at given local addresses. The sandbox init
// opens them inside the new network namespace at 127.0.0.1 and [::1] (both
// backends) and hands them to netpen with the tap; under --root netpen also
// opens them on the host at the veth's gateway addresses, bound to the veth
// (SO_BINDTODEVICE) so only the tree can reach them. netpen's relay
// (net/relay/host_port_relay) accepts on them and connects to the host's
// loopback at the same port: the socket's own port is the only port a flow
// through it can reach.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "backends/common/unique_fd.hpp"
#include "net/common/error.hpp"
#include "net/relay/host_port_set.hpp"

namespace netpen::backends {

// Non-blocking, close-on-exec sockets, one per (port, address); IPv6 ones
// are IPV6_V6ONLY. With `ipv6_optional`, an IPv6 address the namespace
// does not have (IPv6 disabled) is skipped. `where` names the place for
// errors ("inside the sandbox"); `device` non-empty binds each socket to
// that interface.
result<std::vector<unique_fd>> open_host_port_listeners(const relay::host_port_set& ports,
                                                       std::span<const std::string> addresses,
                                                       std::string_view where, bool ipv6_optional,
                                                       const std::string& device = {});

// 127.0.0.1 and ::1.
std::span<const std::string> loopback_addresses();

}  // namespace netpen::backends
