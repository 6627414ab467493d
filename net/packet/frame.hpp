// Ethernet/IPv4/IPv6/TCP/UDP/ICMP frames as seen on the tap: a zero-copy
// parser (headers decoded into a small struct, payload a span into the
// caller's buffer) and builders that write headers into a caller buffer so
// payload can be sent with writev and never copied. Pure: no I/O.
//
// The hot path (TCP/UDP over IPv4/IPv6) is parsed here; libtins is used for
// the slow path (ARP, NDP, ICMP bodies) and as the oracle in unit tests.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "net/common/expected.hpp"

namespace netpen::packet {

using mac_address = std::array<std::uint8_t, 6>;

// An IPv4 or IPv6 address in network byte order; IPv4 uses the first 4 bytes.
struct ip_address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};
  friend bool operator==(const ip_address&, const ip_address&) = default;
};

inline constexpr std::uint16_t ethertype_ipv4 = 0x0800;
inline constexpr std::uint16_t ethertype_arp = 0x0806;
inline constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
inline constexpr std::uint8_t proto_icmp = 1;
inline constexpr std::uint8_t proto_tcp = 6;
inline constexpr std::uint8_t proto_udp = 17;
inline constexpr std::uint8_t proto_icmpv6 = 58;

namespace tcp_flag {
inline constexpr std::uint8_t fin = 0x01;
inline constexpr std::uint8_t syn = 0x02;
inline constexpr std::uint8_t rst = 0x04;
inline constexpr std::uint8_t psh = 0x08;
inline constexpr std::uint8_t ack = 0x10;
inline constexpr std::uint8_t urg = 0x20;
}  // namespace tcp_flag

struct tcp_header {
  std::uint16_t src_port = 0, dst_port = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;  // raw field, unscaled
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> wscale;
  bool sack_permitted = false;
};

struct udp_header {
  std::uint16_t src_port = 0, dst_port = 0;
};

enum class parse_error {
  truncated,        // shorter than its headers claim
  bad_checksum,     // IPv4 header checksum (L4 checksums are not verified: the kernel made them)
  unsupported,      // not Ethernet II / IPv4 / IPv6, or fragments
  malformed,        // inconsistent lengths, bad IHL, bad options
};

enum class l4_kind { tcp, udp, icmp, other };

// One parsed frame. Spans point into the buffer given to parse_frame.
struct frame {
  mac_address dst_mac{}, src_mac{};
  std::uint16_t ethertype = 0;
  // Set for IPv4/IPv6 frames:
  ip_address src{}, dst{};
  std::uint8_t protocol = 0;      // IPv4 protocol / IPv6 next header after extension headers
  std::uint8_t ttl = 0;           // TTL / hop limit
  std::span<const std::byte> ip_packet;   // from the IP header to the end of the IP payload
  std::span<const std::byte> l4;          // the L4 header + payload
  l4_kind kind = l4_kind::other;
  tcp_header tcp{};               // valid when kind == tcp
  udp_header udp{};               // valid when kind == udp
  std::span<const std::byte> payload;     // TCP/UDP payload (empty for others)
};

// Parses an Ethernet II frame. ARP and unknown ethertypes parse successfully
// with only the Ethernet fields set (kind == other, ip_packet empty).
expected<frame, parse_error> parse_frame(std::span<const std::byte> buf);

// --- building -------------------------------------------------------------

// What to put on the wire for a TCP segment; payload may be split in two
// (ring buffer wrap) and is checksummed but not copied.
struct tcp_segment_spec {
  mac_address src_mac{}, dst_mac{};
  ip_address src{}, dst{};
  std::uint16_t src_port = 0, dst_port = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> wscale;
  std::uint8_t ttl = 64;
  std::array<std::span<const std::byte>, 2> payload{};
  // The checksum field holds only the pseudo-header sum (folded, not
  // complemented) and the payload is not summed: the receiver completes it
  // (a virtio-net header with NEEDS_CSUM, checksum offload).
  bool partial_checksum = false;
};

struct udp_datagram_spec {
  mac_address src_mac{}, dst_mac{};
  ip_address src{}, dst{};
  std::uint16_t src_port = 0, dst_port = 0;
  std::uint8_t ttl = 64;
  std::span<const std::byte> payload;
  bool partial_checksum = false;  // as for TCP
};

// Enough for Ethernet + IPv6 + TCP with options.
inline constexpr std::size_t max_header_size = 14 + 40 + 60;

// Where the checksum field sits in a TCP / UDP header (for NEEDS_CSUM).
inline constexpr std::size_t tcp_checksum_offset = 16;
inline constexpr std::size_t udp_checksum_offset = 6;

// Writes Ethernet+IP+TCP headers (checksums over headers and payload filled
// in) into `out` and returns the header length. The frame on the wire is
// out[0..n) followed by payload[0] and payload[1].
std::size_t build_tcp_headers(const tcp_segment_spec& s, std::span<std::byte, max_header_size> out);

// Same for UDP.
std::size_t build_udp_headers(const udp_datagram_spec& s, std::span<std::byte, max_header_size> out);

// The same two with the payload given as any number of pieces, in wire
// order (s.payload is ignored): the frame is out[0..n) then each piece.
std::size_t build_tcp_headers(const tcp_segment_spec& s, std::span<const std::span<const std::byte>> payload,
                              std::span<std::byte, max_header_size> out);
std::size_t build_udp_headers(const udp_datagram_spec& s, std::span<const std::span<const std::byte>> payload,
                              std::span<std::byte, max_header_size> out);

// Internet checksum helpers (RFC 1071), exposed for ICMP builders and tests.
// checksum_partial adds `data` (16-bit big-endian words, an odd last byte
// padded with zero) to `sum`; chain calls only at even offsets. checksum_fold
// folds the carries and returns the ones' complement, ready to store in a
// header; over data that includes a correct checksum field it yields 0.
std::uint32_t checksum_partial(std::span<const std::byte> data, std::uint32_t sum = 0);
std::uint16_t checksum_fold(std::uint32_t sum);

}  // namespace netpen::packet
