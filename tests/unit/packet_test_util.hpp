// Shared helpers for the net/packet unit tests: libtins <-> byte vector
// conversion, byte-level accessors and an independent, deliberately naive
// Internet checksum used to verify what the builders produce.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <vector>

#include <tins/pdu.h>

#include "net/packet/frame.hpp"

namespace packet_test {

using bytes = std::vector<std::byte>;

inline bytes serialize(Tins::PDU& pdu) {
  const auto raw = pdu.serialize();
  bytes out(raw.size());
  if (!raw.empty()) std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

inline const std::uint8_t* u8ptr(const bytes& b) { return reinterpret_cast<const std::uint8_t*>(b.data()); }
inline std::uint32_t u32size(const bytes& b) { return static_cast<std::uint32_t>(b.size()); }

inline std::uint8_t get8(std::span<const std::byte> b, std::size_t i) {
  if (i >= b.size()) throw std::out_of_range("get8");
  return std::to_integer<std::uint8_t>(b[i]);
}
inline std::uint16_t get16(std::span<const std::byte> b, std::size_t i) {
  return static_cast<std::uint16_t>((get8(b, i) << 8) | get8(b, i + 1));
}
inline void set8(bytes& b, std::size_t i, unsigned v) { b[i] = std::byte{static_cast<std::uint8_t>(v)}; }
inline void set16(bytes& b, std::size_t i, unsigned v) {
  set8(b, i, (v >> 8) & 0xffu);
  set8(b, i + 1, v & 0xffu);
}

inline bytes text(const char* s) {
  bytes out(std::strlen(s));
  std::memcpy(out.data(), s, out.size());
  return out;
}

// Word-at-a-time RFC 1071 sum over one contiguous buffer, no tricks.
inline std::uint16_t naive_checksum(const bytes& b) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < b.size(); i += 2) {
    const unsigned hi = get8(b, i);
    const unsigned lo = i + 1 < b.size() ? get8(b, i + 1) : 0u;
    sum += (hi << 8) | lo;
    sum = (sum & 0xffffu) + (sum >> 16);
  }
  return static_cast<std::uint16_t>(~sum & 0xffffu);
}

// Recomputes the IPv4 header checksum (verifies to 0 when correct).
inline std::uint16_t verify_ipv4_header(const bytes& frame) {
  const std::size_t ihl = (get8(frame, 14) & 0x0fu) * 4u;
  return naive_checksum(bytes(frame.begin() + 14, frame.begin() + 14 + static_cast<std::ptrdiff_t>(ihl)));
}

// Recomputes the L4 checksum of a frame without IPv6 extension headers over
// pseudo-header + L4 bytes: 0 when the stored checksum is right.
inline std::uint16_t verify_l4(const bytes& frame) {
  bytes pseudo;
  std::size_t l4_off = 0;
  std::size_t l4_len = 0;
  std::uint8_t proto = 0;
  if (get16(frame, 12) == netpen::packet::ethertype_ipv4) {
    const std::size_t ihl = (get8(frame, 14) & 0x0fu) * 4u;
    l4_off = 14 + ihl;
    l4_len = get16(frame, 16) - ihl;
    proto = get8(frame, 23);
    pseudo.assign(frame.begin() + 26, frame.begin() + 34);
    pseudo.push_back(std::byte{0});
    pseudo.push_back(std::byte{proto});
    pseudo.push_back(std::byte{static_cast<std::uint8_t>(l4_len >> 8)});
    pseudo.push_back(std::byte{static_cast<std::uint8_t>(l4_len)});
  } else {
    l4_off = 54;
    l4_len = get16(frame, 18);
    proto = get8(frame, 20);
    pseudo.assign(frame.begin() + 22, frame.begin() + 54);
    for (int i = 0; i < 2; ++i) pseudo.push_back(std::byte{0});
    pseudo.push_back(std::byte{static_cast<std::uint8_t>(l4_len >> 8)});
    pseudo.push_back(std::byte{static_cast<std::uint8_t>(l4_len)});
    for (int i = 0; i < 3; ++i) pseudo.push_back(std::byte{0});
    pseudo.push_back(std::byte{proto});
  }
  pseudo.insert(pseudo.end(), frame.begin() + static_cast<std::ptrdiff_t>(l4_off),
                frame.begin() + static_cast<std::ptrdiff_t>(l4_off + l4_len));
  return naive_checksum(pseudo);
}

inline netpen::packet::ip_address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  netpen::packet::ip_address ip;
  ip.bytes[0] = a;
  ip.bytes[1] = b;
  ip.bytes[2] = c;
  ip.bytes[3] = d;
  return ip;
}

// fd00::<last> style unique-local test address.
inline netpen::packet::ip_address v6(std::uint8_t last, std::uint8_t prefix = 0xfd) {
  netpen::packet::ip_address ip;
  ip.v6 = true;
  ip.bytes[0] = prefix;
  ip.bytes[15] = last;
  return ip;
}

}  // namespace packet_test
