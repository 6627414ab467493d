// An L3 packet from a netfilter socket (NFQUEUE, NFLOG: IPv4 or IPv6 from
// the network header on) parsed as a frame: the frame parser expects
// Ethernet, so the packet is copied behind a blank Ethernet header in a
// caller's scratch buffer, which the frame's spans then point into. Pure.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "net/packet/frame.hpp"

namespace netpen::relay {

// nullopt when the packet does not parse or is not IP.
std::optional<packet::frame> parse_l3(std::span<const std::byte> l3, std::uint16_t hw_protocol,
                                      std::vector<std::byte>& scratch);

}  // namespace netpen::relay
