// The wire-egress capture's kernel filter: a classic-BPF program for an
// AF_PACKET SOCK_DGRAM socket (data starts at the IP header) that accepts
// only the packets of this run's relay host sockets, and its userspace twin
// (wire_socket_of) that names the socket a captured packet belongs to. Pure:
// no I/O.
//
// Accepted, returning `snaplen` (everything else returns 0):
//  - IPv4 that is not a later fragment (offset 0), or IPv6 whose next header
//    is directly TCP, UDP or ICMPv6 (no extension headers);
//  - TCP/UDP sent by this host (PACKET_OUTGOING) whose source port is in the
//    set, or received for it (PACKET_HOST) whose destination port is: on
//    `lo` each packet is seen once, as the copy of the side we own, and a
//    foreign socket whose remote port equals one of ours never matches;
//  - ICMP echo request (8) sent / echo reply (0) received, ICMPv6 128 sent /
//    129 received, whose identifier is in the id set.
//
// Layout: the ethertype (ancillary load) picks the IPv4 or IPv6 header
// block, which puts the L4 offset in X and dispatches on the protocol with
// `jeq #proto, 0, 1; ja section` pairs (`ja` reaches any distance). Each
// protocol's section loads the port (by direction) or checks the ICMP type
// and loads the identifier, then runs a balanced search tree over the sorted
// set: internal nodes `jge #pivot` (plus a `ja` when the lower half is more
// than 255 instructions long), leaves of up to 16 `jeq #port` sharing one
// `ret #0` / `ret #snaplen` pair. About 1.2 instructions per port, at most
// ~4 + log2(n/16) + 16 comparisons per packet.
//
// When the program would exceed `max_instructions` (BPF_MAXINSNS, or less
// when the kernel refused it for its socket memory limit), the largest sets
// are made coarse one at a time: a coarse protocol accepts every packet of
// its kind in the right direction (TCP/UDP: any port; ICMP: any echo id),
// and userspace must drop the foreign ones (wire_socket_of + the registry).
#pragma once
#include <linux/filter.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "net/relay/egress_observer.hpp"

namespace netpen::capture {

// Local ports (ICMP: echo identifiers) of the host sockets to capture, in
// any order, duplicates allowed. TCP and UDP ports apply to IPv4 and IPv6.
struct wire_ports {
  std::vector<std::uint16_t> tcp;
  std::vector<std::uint16_t> udp;
  std::vector<std::uint16_t> icmp_ids;
  std::vector<std::uint16_t> icmpv6_ids;
};

struct wire_filter {
  std::vector<sock_filter> program;  // never empty; ends with a ret
  // Protocols (packet::proto_*) whose set did not fit: every packet of that
  // protocol in the accepted direction passes, whatever its port or id.
  std::vector<std::uint8_t> coarse;
  bool exact() const { return coarse.empty(); }
};

// The linux packet types the program distinguishes (sll_pkttype).
inline constexpr std::uint32_t pkttype_host = 0;      // PACKET_HOST: received by this host
inline constexpr std::uint32_t pkttype_outgoing = 4;  // PACKET_OUTGOING: sent by this host

// Ports per leaf of the search tree (a leaf is that many `jeq` + 2 `ret`).
inline constexpr std::size_t wire_leaf_ports = 16;

// Builds the program. With every set empty it is the single `ret #0`. A
// budget below the all-coarse program's size (~45 instructions) still
// returns that program.
wire_filter build_wire_filter(const wire_ports& ports, std::uint32_t snaplen,
                              std::size_t max_instructions = BPF_MAXINSNS);

// The program that accepts nothing (what a capture socket starts with).
std::vector<sock_filter> reject_all_filter();

// The host socket a packet belongs to as the filter sees it: protocol,
// local port (ICMP: echo identifier), remote address and remote port (ICMP:
// 0). `outgoing` is sll_pkttype == PACKET_OUTGOING (local = source). Empty
// for what the filter never accepts: malformed or truncated headers, later
// fragments, IPv6 extension headers, other protocols, ICMP other than echo
// request out / echo reply in. `local`, `child` are left default.
std::optional<relay::host_conn> wire_socket_of(std::span<const std::byte> ip_packet, bool outgoing);

}  // namespace netpen::capture
