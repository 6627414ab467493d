// Text forms of what a packet carries, for logs, events, policy rules and
// prompts: an address ("203.0.113.10", "2001:db8::1"), an address with a
// port ("203.0.113.10:80", "[2001:db8::1]:443"), an IP protocol number
// ("tcp", "udp", "icmp", "icmpv6", else "ip").
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "net/packet/frame.hpp"

namespace netpen::packet {

std::string to_string(const ip_address& a);
std::string endpoint_text(const ip_address& a, std::uint16_t port);
std::string_view protocol_name(std::uint8_t protocol);

}  // namespace netpen::packet
