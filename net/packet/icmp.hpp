// ICMP and ICMPv6 messages the relay exchanges with the child: errors
// synthesised back to it (quoting its packet), echo replies, echo request
// parsing, and the RFC 1122 / RFC 4443 rule for when an error may be sent at
// all. Built byte by byte into full Ethernet frames. Pure: no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "net/packet/frame.hpp"

namespace netpen::packet {

namespace icmp4 {
inline constexpr std::uint8_t echo_reply = 0;
inline constexpr std::uint8_t dest_unreachable = 3;
inline constexpr std::uint8_t echo_request = 8;
inline constexpr std::uint8_t time_exceeded = 11;
// Destination Unreachable codes.
inline constexpr std::uint8_t net_unreachable = 0;
inline constexpr std::uint8_t host_unreachable = 1;
inline constexpr std::uint8_t protocol_unreachable = 2;
inline constexpr std::uint8_t port_unreachable = 3;
inline constexpr std::uint8_t frag_needed = 4;  // rest = next-hop MTU (RFC 1191)
inline constexpr std::uint8_t admin_prohibited = 13;
// Time Exceeded code.
inline constexpr std::uint8_t ttl_exceeded = 0;
// An error's IP packet is at most this long (RFC 1812 §4.3.2.3, as Linux).
inline constexpr std::size_t error_max_ip_len = 576;
}  // namespace icmp4

namespace icmp6 {
inline constexpr std::uint8_t dest_unreachable = 1;
inline constexpr std::uint8_t packet_too_big = 2;  // rest = MTU
inline constexpr std::uint8_t time_exceeded = 3;
inline constexpr std::uint8_t echo_request = 128;
inline constexpr std::uint8_t echo_reply = 129;
// Destination Unreachable codes.
inline constexpr std::uint8_t no_route = 0;
inline constexpr std::uint8_t admin_prohibited = 1;
inline constexpr std::uint8_t address_unreachable = 3;
inline constexpr std::uint8_t port_unreachable = 4;
// Time Exceeded code.
inline constexpr std::uint8_t hop_limit_exceeded = 0;
// An error's IPv6 packet is at most the minimum IPv6 MTU (RFC 4443 §2.4(c)).
inline constexpr std::size_t error_max_ip_len = 1280;
}  // namespace icmp6

// An ICMP/ICMPv6 error to the child. The family follows `from`; `to` must
// be of the same family. `rest` is the 32-bit word after the checksum,
// written big-endian: 0 for most errors, the next-hop MTU for IPv4
// frag-needed (it lands in the low 16 bits, as RFC 1191 wants), the MTU for
// IPv6 Packet Too Big.
struct icmp_error_spec {
  mac_address src_mac{}, dst_mac{};  // gateway MAC, child MAC
  ip_address from{}, to{};           // the reporting hop (or destination), the child
  std::uint8_t type = 0, code = 0;
  std::uint32_t rest = 0;
  std::uint8_t ttl = 64;  // TTL / hop limit of the error itself
  std::span<const std::byte> quoted_ip_packet;  // the child's packet from its IP header on
};

// The full Ethernet frame carrying the error. The quote is the start of
// quoted_ip_packet, cut so the IP packet fits icmp4/icmp6::error_max_ip_len
// (548 / 1232 bytes of quote). Empty if from/to families differ.
std::vector<std::byte> build_icmp_error(const icmp_error_spec& s);

// An Echo Request from the child. payload points into the parsed buffer.
struct echo {
  std::uint16_t id = 0, seq = 0;
  std::uint8_t ttl = 0;  // the request's TTL / hop limit
  std::span<const std::byte> payload;
};

// The echo fields of an ICMP Echo Request (v4 type 8) or ICMPv6 Echo Request
// (type 128) with code 0; nullopt for anything else. The ICMP checksum is
// not verified (the child's kernel made it).
std::optional<echo> parse_echo_request(const frame& f);

// A full Ethernet frame with an Echo Reply (v4 type 0 / v6 type 129).
// Empty if from/to families differ or the payload does not fit an IP packet.
std::vector<std::byte> build_echo_reply(const mac_address& src_mac, const mac_address& dst_mac,
                                        const ip_address& from, const ip_address& to, std::uint8_t ttl,
                                        std::uint16_t id, std::uint16_t seq, std::span<const std::byte> payload);

// Whether an ICMP error may be sent about this frame (RFC 1122 §3.2.2,
// RFC 4443 §2.4(e)/(f)): false for non-IP frames, ICMP errors (and unknown
// ICMPv4 types), link-layer broadcast/multicast, IP broadcast/multicast
// destinations, sources that are not a single host (unspecified, multicast,
// broadcast, IPv4 loopback), and non-first fragments. The IPv6 multicast
// exception for Packet Too Big is not made: the relay never forwards
// multicast.
bool may_answer_with_error(const frame& f);

}  // namespace netpen::packet
