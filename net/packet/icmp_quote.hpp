// Destination Unreachable errors the child sends (its kernel's answer to a
// packet from the gateway: a closed UDP port, a firewall's reject rule), read
// back to the tuple of the packet they quote, so the relay can tell the flow
// that packet belonged to. Pure: no I/O.
#pragma once
#include <cstdint>
#include <optional>

#include "net/packet/frame.hpp"

namespace netpen::packet {

// An error and the tuple of the packet it quotes (as that packet was sent:
// src is the sender of the quoted packet, the gateway for the relay's own).
struct quoted_error {
  std::uint8_t type = 0, code = 0;
  std::uint8_t protocol = 0;  // of the quoted packet: proto_tcp or proto_udp
  ip_address src{}, dst{};
  std::uint16_t src_port = 0, dst_port = 0;
};

// An ICMP Destination Unreachable (v4 type 3) or ICMPv6 Destination
// Unreachable (v6 type 1) whose quote holds the IP header (IPv6: without
// extension headers) and the ports of a TCP or UDP packet of the same
// family; nullopt for anything else.
std::optional<quoted_error> parse_quoted_error(const frame& f);

}  // namespace netpen::packet
