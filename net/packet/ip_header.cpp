// write_ip_headers and checksum_accumulator: the Ethernet + IP part shared by
// the TCP, UDP and ICMP frame builders.
#include "net/packet/ip_header.hpp"

#include <algorithm>

namespace netpen::packet {
namespace {

void store8(std::span<std::byte> out, std::size_t at, std::uint8_t v) { out[at] = std::byte{v}; }
void store16(std::span<std::byte> out, std::size_t at, std::uint16_t v) {
  store8(out, at, static_cast<std::uint8_t>(v >> 8));
  store8(out, at + 1, static_cast<std::uint8_t>(v));
}
template <std::size_t N>
void store_bytes(std::span<std::byte> out, std::size_t at, const std::array<std::uint8_t, N>& a, std::size_t n) {
  std::transform(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n), out.begin() + static_cast<std::ptrdiff_t>(at),
                 [](std::uint8_t b) { return std::byte{b}; });
}

std::uint16_t swap16(std::uint16_t v) { return static_cast<std::uint16_t>((v >> 8) | (v << 8)); }

// The IPv6 header at out[0..40); returns the pseudo-header sum.
std::uint32_t store_ipv6(const ip_header_spec& s, std::size_t l4_len, std::span<std::byte> out) {
  store8(out, 0, static_cast<std::uint8_t>(0x60 | s.tos >> 4));
  store8(out, 1, static_cast<std::uint8_t>(s.tos << 4));
  store16(out, 2, 0);  // flow label
  store16(out, 4, static_cast<std::uint16_t>(l4_len));
  store8(out, 6, s.protocol);
  store8(out, 7, s.ttl);
  store_bytes(out, 8, s.src.bytes, 16);
  store_bytes(out, 24, s.dst.bytes, 16);
  std::uint32_t pseudo = checksum_partial(out.subspan(8, 32));
  pseudo += static_cast<std::uint32_t>(l4_len >> 16) + static_cast<std::uint32_t>(l4_len & 0xffffu);
  return pseudo + s.protocol;
}

// The IPv4 header at out[0..20); returns the pseudo-header sum.
std::uint32_t store_ipv4(const ip_header_spec& s, std::size_t l4_len, std::span<std::byte> out) {
  store8(out, 0, 0x45);
  store8(out, 1, s.tos);
  store16(out, 2, static_cast<std::uint16_t>(ipv4_header_size + l4_len));
  store16(out, 4, 0);  // identification
  store16(out, 6, s.dont_fragment ? 0x4000 : 0);
  store8(out, 8, s.ttl);
  store8(out, 9, s.protocol);
  store16(out, 10, 0);  // header checksum, below
  store_bytes(out, 12, s.src.bytes, 4);
  store_bytes(out, 16, s.dst.bytes, 4);
  const auto hdr = out.first(ipv4_header_size);
  store16(out, 10, checksum_fold(checksum_partial(hdr)));
  const std::uint32_t pseudo = checksum_partial(hdr.subspan(12, 8));
  return pseudo + static_cast<std::uint32_t>(l4_len & 0xffffu) + s.protocol;
}

}  // namespace

ip_headers_written write_ip_headers(const ip_header_spec& s, std::size_t l4_len, std::span<std::byte> out) {
  store_bytes(out, 0, s.dst_mac, 6);
  store_bytes(out, 6, s.src_mac, 6);
  store16(out, 12, s.src.v6 ? ethertype_ipv6 : ethertype_ipv4);
  const auto ip = out.subspan(ethernet_header_size);
  if (s.src.v6) return {ethernet_header_size + ipv6_header_size, store_ipv6(s, l4_len, ip)};
  return {ethernet_header_size + ipv4_header_size, store_ipv4(s, l4_len, ip)};
}

void checksum_accumulator::add(std::span<const std::byte> piece) {
  if (piece.empty()) return;
  if (!odd_) {
    sum_ = checksum_partial(piece, sum_);
  } else {
    const auto own = static_cast<std::uint16_t>(~checksum_fold(checksum_partial(piece)));
    const std::uint64_t t = std::uint64_t{sum_} + swap16(own);
    sum_ = static_cast<std::uint32_t>((t & 0xffffffffu) + (t >> 32));
  }
  odd_ = odd_ != ((piece.size() & 1u) != 0);
}

}  // namespace netpen::packet
