// Small helpers for the byte-level frame builders and readers (ARP/NDP
// answers, ICMP messages): big-endian reads from a span, and a growing
// big-endian writer. Header-only, no I/O.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "net/packet/frame.hpp"

namespace netpen::packet {

inline std::uint8_t read_u8(std::span<const std::byte> s, std::size_t i) { return std::to_integer<std::uint8_t>(s[i]); }
inline std::uint16_t read_be16(std::span<const std::byte> s, std::size_t i) {
  return static_cast<std::uint16_t>(read_u8(s, i) << 8 | read_u8(s, i + 1));
}

struct byte_writer {
  std::vector<std::byte> out;

  void put(std::uint8_t b) { out.push_back(std::byte{b}); }
  void put16(std::uint16_t v) {
    put(static_cast<std::uint8_t>(v >> 8));
    put(static_cast<std::uint8_t>(v));
  }
  void put32(std::uint32_t v) {
    put16(static_cast<std::uint16_t>(v >> 16));
    put16(static_cast<std::uint16_t>(v));
  }
  template <class R>
  void put_range(const R& r) {
    for (auto b : r) put(static_cast<std::uint8_t>(b));
  }
  void put_bytes(std::span<const std::byte> s) { out.insert(out.end(), s.begin(), s.end()); }
  void put_first(const std::array<std::uint8_t, 16>& a, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) put(a[i]);
  }
  void put_mac(const mac_address& m) { put_range(m); }
  void put16_at(std::size_t at, std::uint16_t v) {
    out[at] = std::byte{static_cast<std::uint8_t>(v >> 8)};
    out[at + 1] = std::byte{static_cast<std::uint8_t>(v)};
  }
  void ethernet(const mac_address& dst, const mac_address& src, std::uint16_t type) {
    put_mac(dst);
    put_mac(src);
    put16(type);
  }
};

}  // namespace netpen::packet
