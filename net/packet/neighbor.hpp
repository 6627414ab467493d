// Neighbour resolution for the gateway: answers the child's ARP requests and
// IPv6 Neighbor Solicitations for the gateway addresses (slow path, libtins).
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "net/packet/frame.hpp"

namespace netpen::packet {

// Given a parsed frame `f` and its raw bytes, returns the full Ethernet frame
// to send back: an ARP reply to an ARP request for gw_v4, or a Neighbor
// Advertisement (router, solicited and override flags, target link-layer
// address option) to a Neighbor Solicitation whose target is gw_v6.
// nullopt for anything else, including malformed input.
std::optional<std::vector<std::byte>> answer_neighbor_solicitation(const frame& f,
                                                                   std::span<const std::byte> raw,
                                                                   const mac_address& gw_mac,
                                                                   const ip_address& gw_v4,
                                                                   const ip_address& gw_v6);

}  // namespace netpen::packet
