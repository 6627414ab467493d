// The Ethernet + IPv4/IPv6 headers every frame builder in net/packet starts
// with, and a checksum accumulator over pieces of any length, so a builder
// can checksum payload it never copies. Pure: no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "net/packet/frame.hpp"

namespace netpen::packet {

inline constexpr std::size_t ethernet_header_size = 14;
inline constexpr std::size_t ipv4_header_size = 20;
inline constexpr std::size_t ipv6_header_size = 40;
// Ethernet + the longer (IPv6) header: what write_ip_headers may write.
inline constexpr std::size_t max_ip_headers_size = ethernet_header_size + ipv6_header_size;
// Largest IPv4 total length / IPv6 payload length.
inline constexpr std::size_t max_ip_length = 65535;

struct ip_header_spec {
  mac_address src_mac{}, dst_mac{};
  ip_address src{}, dst{};  // the family follows src
  std::uint8_t protocol = 0;
  std::uint8_t ttl = 64;
  std::uint8_t tos = 0;            // IPv4 TOS / IPv6 traffic class
  bool dont_fragment = true;       // IPv4 only
};

struct ip_headers_written {
  std::size_t size = 0;          // 34 (IPv4) or 54 (IPv6)
  std::uint32_t pseudo_sum = 0;  // the L4 pseudo-header's partial sum (TCP, UDP, ICMPv6)
};

// Writes the Ethernet header and the IP header of a packet whose L4 part is
// `l4_len` bytes at the start of `out` (at least max_ip_headers_size bytes).
// IPv4: no options, identification 0, header checksum filled in; IPv6: flow
// label 0, no extension headers.
ip_headers_written write_ip_headers(const ip_header_spec& s, std::size_t l4_len, std::span<std::byte> out);

// Ones' complement sum over consecutive pieces of any length: a piece that
// starts at an odd offset of the summed data counts byte-swapped.
class checksum_accumulator {
 public:
  explicit checksum_accumulator(std::uint32_t initial = 0) : sum_(initial) {}
  void add(std::span<const std::byte> piece);
  // Ready to store in a header (checksum_fold of the sum).
  std::uint16_t result() const { return checksum_fold(sum_); }

 private:
  std::uint32_t sum_ = 0;
  bool odd_ = false;
};

}  // namespace netpen::packet
