// build_tcp_headers / build_udp_headers: write Ethernet + IPv4/IPv6 + TCP/UDP
// headers into a caller buffer (the Ethernet + IP part by write_ip_headers),
// with checksums covering the payload spans that follow on the wire (sent by
// writev, never copied here).
#include "net/packet/frame.hpp"
#include "net/packet/ip_header.hpp"

namespace netpen::packet {
namespace {

constexpr std::size_t tcp_min_len = 20;
constexpr std::size_t udp_len = 8;

// The L4 checksum field for a partial checksum: the pseudo-header sum,
// folded to 16 bits and not complemented (what the receiver sums on top of).
std::uint16_t pseudo_header_field(std::uint32_t pseudo_sum) {
  return static_cast<std::uint16_t>(~checksum_fold(pseudo_sum));
}

// Sequential big-endian writer over the header buffer.
struct writer {
  std::span<std::byte, max_header_size> out;
  std::size_t pos = 0;

  void u8(std::uint8_t v) { out[pos++] = std::byte{v}; }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8));
    u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v));
  }
  void put16_at(std::size_t at, std::uint16_t v) {
    out[at] = std::byte{static_cast<std::uint8_t>(v >> 8)};
    out[at + 1] = std::byte{static_cast<std::uint8_t>(v)};
  }
};

}  // namespace

std::size_t build_tcp_headers(const tcp_segment_spec& s, std::span<const std::span<const std::byte>> payload,
                              std::span<std::byte, max_header_size> out) {
  std::size_t payload_len = 0;
  for (const auto& p : payload) payload_len += p.size();
  const std::size_t opt_len = (s.mss ? 4u : 0u) + (s.wscale ? 4u : 0u);
  const std::size_t tcp_len = tcp_min_len + opt_len;

  const auto ip = write_ip_headers({.src_mac = s.src_mac, .dst_mac = s.dst_mac, .src = s.src, .dst = s.dst,
                                    .protocol = proto_tcp, .ttl = s.ttl},
                                   tcp_len + payload_len, out);
  writer w{out, ip.size};
  const std::size_t tcp_start = w.pos;
  w.u16(s.src_port);
  w.u16(s.dst_port);
  w.u32(s.seq);
  w.u32(s.ack);
  w.u8(static_cast<std::uint8_t>((tcp_len / 4) << 4));
  w.u8(s.flags);
  w.u16(s.window);
  w.u16(0);  // checksum, below
  w.u16(0);  // urgent pointer
  if (s.mss) {
    w.u8(2);
    w.u8(4);
    w.u16(*s.mss);
  }
  if (s.wscale) {
    w.u8(1);  // NOP pads the 3-byte option to 4
    w.u8(3);
    w.u8(3);
    w.u8(*s.wscale);
  }

  if (s.partial_checksum) {
    w.put16_at(tcp_start + tcp_checksum_offset, pseudo_header_field(ip.pseudo_sum));
    return w.pos;
  }
  checksum_accumulator acc{ip.pseudo_sum};
  acc.add(std::span<const std::byte>(out).subspan(tcp_start, tcp_len));
  for (const auto& p : payload) acc.add(p);
  w.put16_at(tcp_start + tcp_checksum_offset, acc.result());
  return w.pos;
}

std::size_t build_tcp_headers(const tcp_segment_spec& s, std::span<std::byte, max_header_size> out) {
  return build_tcp_headers(s, s.payload, out);
}

std::size_t build_udp_headers(const udp_datagram_spec& s, std::span<const std::span<const std::byte>> payload,
                              std::span<std::byte, max_header_size> out) {
  std::size_t l4_len = udp_len;
  for (const auto& p : payload) l4_len += p.size();

  const auto ip = write_ip_headers({.src_mac = s.src_mac, .dst_mac = s.dst_mac, .src = s.src, .dst = s.dst,
                                    .protocol = proto_udp, .ttl = s.ttl},
                                   l4_len, out);
  writer w{out, ip.size};
  const std::size_t udp_start = w.pos;
  w.u16(s.src_port);
  w.u16(s.dst_port);
  w.u16(static_cast<std::uint16_t>(l4_len));
  w.u16(0);  // checksum, below

  if (s.partial_checksum) {
    w.put16_at(udp_start + udp_checksum_offset, pseudo_header_field(ip.pseudo_sum));
    return w.pos;
  }
  checksum_accumulator acc{ip.pseudo_sum};
  acc.add(std::span<const std::byte>(out).subspan(udp_start, udp_len));
  for (const auto& p : payload) acc.add(p);
  std::uint16_t c = acc.result();
  if (c == 0) c = 0xffff;  // 0 means "no checksum" in UDP
  w.put16_at(udp_start + udp_checksum_offset, c);
  return w.pos;
}

std::size_t build_udp_headers(const udp_datagram_spec& s, std::span<std::byte, max_header_size> out) {
  return build_udp_headers(s, std::span(&s.payload, 1), out);
}

}  // namespace netpen::packet
