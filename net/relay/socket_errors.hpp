// Reads ICMP errors that the kernel queued on a host socket with IP_RECVERR /
// IPV6_RECVERR (a router's Time Exceeded for a probe whose TTL ran out, a
// destination's Unreachable, Packet Too Big), with the address of the hop
// that sent them, so the relay can hand the same error to the child.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "net/packet/frame.hpp"

namespace netpen::relay {

struct icmp_report {
  std::uint8_t type = 0, code = 0;  // as on the wire (ICMP for IPv4, ICMPv6 for IPv6)
  std::uint32_t info = 0;           // next-hop MTU / Packet Too Big MTU
  packet::ip_address offender{};    // the hop that sent the error
  std::vector<std::byte> original;  // the start of our datagram it refers to (as sent)
};

// Turns IP_RECVERR / IPV6_RECVERR on (or off) for `fd`.
bool enable_error_queue(int fd, bool v6, bool on = true);

// Takes one queued error off `fd` (non-blocking); nullopt when the queue is
// empty or the entry is not an ICMP error with a known offender.
std::optional<icmp_report> read_queued_error(int fd, bool v6);

}  // namespace netpen::relay
