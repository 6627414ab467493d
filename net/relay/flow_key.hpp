// The 5-tuple that names a relayed flow, as seen from the child (src = the
// child's address and port, dst = where it wants to go), and its hash.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "net/packet/frame.hpp"
#include "net/packet/packet_text.hpp"

namespace netpen::relay {

struct flow_key {
  std::uint8_t protocol = 0;  // packet::proto_tcp / proto_udp
  packet::ip_address src{}, dst{};
  std::uint16_t src_port = 0, dst_port = 0;
  friend bool operator==(const flow_key&, const flow_key&) = default;
};

struct flow_key_hash {
  std::size_t operator()(const flow_key& k) const noexcept {
    // FNV-1a over the fields; flows are few enough that quality matters little.
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&h](std::uint8_t b) { h = (h ^ b) * 1099511628211ull; };
    mix(k.protocol);
    for (auto b : k.src.bytes) mix(b);
    for (auto b : k.dst.bytes) mix(b);
    mix(static_cast<std::uint8_t>(k.src_port >> 8));
    mix(static_cast<std::uint8_t>(k.src_port));
    mix(static_cast<std::uint8_t>(k.dst_port >> 8));
    mix(static_cast<std::uint8_t>(k.dst_port));
    return static_cast<std::size_t>(h);
  }
};

// "tcp 10.248.0.2:40000 -> 203.0.113.10:80" for logs. An address's own
// text forms are packet::to_string and packet::endpoint_text
// (packet_text.hpp), found unqualified here by argument-dependent lookup.
std::string to_string(const flow_key& k);
// "tcp", "udp", "icmp", "icmpv6" (packet::protocol_name of its protocol).
std::string_view protocol_name(const flow_key& k);

}  // namespace netpen::relay
