// Where the relay sends a connection the child opens: to the DNS forwarder
// (port 53 on any address, so --dns cannot be bypassed), to the host's
// loopback (the gateway's ports listed in --host-port, for their protocol;
// no policy is asked: the user opened them), nowhere (addresses a remote
// machine could never reach on the host: loopback, unspecified, multicast,
// broadcast, the gateway's other ports), or out through a host socket.
// Pure logic.
#pragma once
#include <cstdint>
#include <string_view>

#include "net/packet/frame.hpp"
#include "net/relay/host_port_set.hpp"

namespace netpen::relay {

enum class destination_kind { dns_forwarder, forbidden, relay, host_port };

struct destination {
  destination_kind kind = destination_kind::relay;
  std::string_view reason;  // for forbidden: a stable reason code
};

bool is_gateway(const packet::ip_address& a);
bool is_child(const packet::ip_address& a);
packet::ip_address gateway_address(bool v6);
packet::ip_address child_address(bool v6);

destination classify(const packet::ip_address& dst, std::uint16_t dst_port);
// The same with --host-port: a TCP (udp false) or UDP flow to the gateway
// at a port `host_ports` lists is host_port (port 53 stays the DNS forwarder).
destination classify(const packet::ip_address& dst, std::uint16_t dst_port, bool udp,
                     const host_port_set* host_ports);

}  // namespace netpen::relay
