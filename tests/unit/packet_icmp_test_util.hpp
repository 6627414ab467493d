// Shared helpers for the net/packet/icmp unit tests: the child's UDP probes
// built with libtins, addresses from text, and byte-vector slicing.
#pragma once
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>

#include <tins/ethernetII.h>
#include <tins/ipv6_address.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/rawpdu.h>
#include <tins/udp.h>

#include "net/packet/frame.hpp"
#include "tests/unit/packet_test_util.hpp"

namespace icmp_test {

using packet_test::bytes;
using packet_test::serialize;
using packet_test::u32size;
using packet_test::u8ptr;
using packet_test::v4;

inline const Tins::HWAddress<6> gw_hw("02:00:00:00:00:0a");
inline const Tins::HWAddress<6> child_hw("02:00:00:00:00:0b");
inline const netpen::packet::mac_address gw_mac{2, 0, 0, 0, 0, 0x0a};
inline const netpen::packet::mac_address child_mac{2, 0, 0, 0, 0, 0x0b};

inline bytes pattern(std::size_t n) {
  bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = std::byte{static_cast<std::uint8_t>(i * 7 + 3)};
  return out;
}

inline Tins::RawPDU raw(const bytes& b) { return Tins::RawPDU(u8ptr(b), u32size(b)); }

// The child's UDP probe 10.0.2.15:40000 -> 192.0.2.7:33434.
inline bytes child_udp_v4(std::size_t payload_len, std::uint8_t ttl = 1) {
  Tins::IP ip("192.0.2.7", "10.0.2.15");
  ip.ttl(ttl);
  auto pkt = Tins::EthernetII(gw_hw, child_hw) / ip / Tins::UDP(33434, 40000) / raw(pattern(payload_len));
  return serialize(pkt);
}

// The child's UDP probe [fd00::f]:40000 -> [2001:db8::7]:33434.
inline bytes child_udp_v6(std::size_t payload_len) {
  Tins::IPv6 ip("2001:db8::7", "fd00::f");
  ip.hop_limit(1);
  auto pkt = Tins::EthernetII(gw_hw, child_hw) / ip / Tins::UDP(33434, 40000) / raw(pattern(payload_len));
  return serialize(pkt);
}

inline netpen::packet::frame parsed(const bytes& f) {
  auto r = netpen::packet::parse_frame(f);
  REQUIRE(r.has_value());
  return *r;
}

inline netpen::packet::ip_address v4_of(const char* s) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  REQUIRE(std::sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) == 4);
  return v4(static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b), static_cast<std::uint8_t>(c),
            static_cast<std::uint8_t>(d));
}

inline netpen::packet::ip_address v6_of(const char* s) {
  const Tins::IPv6Address a(s);
  netpen::packet::ip_address out;
  out.v6 = true;
  std::copy(a.begin(), a.end(), out.bytes.begin());
  return out;
}

inline bytes sub(const bytes& b, std::size_t off, std::size_t n) {
  return bytes(b.begin() + static_cast<std::ptrdiff_t>(off), b.begin() + static_cast<std::ptrdiff_t>(off + n));
}

inline bytes tail(const bytes& b, std::size_t off) { return sub(b, off, b.size() - off); }

inline bytes as_bytes(std::span<const std::byte> s) { return bytes(s.begin(), s.end()); }

}  // namespace icmp_test
