// What the rootful egress point (rootful_egress_point) writes for one packet
// NFLOG handed it: the IP packet as logged (after NAT on the way out, before
// it is undone on the way in), the length it had before the copy range cut it
// (from its own IP header), and its host side as wire_socket_of names it (to
// find the tree's flow in forward_flows). Pure: no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "net/netfilter/nflog_codec.hpp"
#include "net/relay/egress_observer.hpp"

namespace netpen::capture {

struct forward_record {
  std::span<const std::byte> ip_packet;  // points into the logged message
  std::uint32_t original_length = 0;
  bool outgoing = false;                 // logged on the way out (postrouting)
  std::optional<relay::host_conn> host_side;  // TCP, UDP, ICMP echo: the packet's host socket identity
};

// nullopt for a message without a packet.
std::optional<forward_record> record_of(const netfilter::logged_packet& p);

// The length an IP packet says it has (IPv4 total length, IPv6 40 + payload
// length), never less than `ip_packet.size()`; the size itself when the
// header is too short or of another version.
std::uint32_t ip_packet_length(std::span<const std::byte> ip_packet);

}  // namespace netpen::capture
