// build_tcp_headers / build_udp_headers: write Ethernet + IPv4/IPv6 + TCP/UDP
// headers into a caller buffer, with checksums covering the payload spans
// that follow on the wire (sent by writev, never copied here).
#include "net/packet/frame.hpp"

namespace netpen::packet {
namespace {

constexpr std::size_t ipv4_len = 20;
constexpr std::size_t tcp_min_len = 20;
constexpr std::size_t udp_len = 8;

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
  template <std::size_t N>
  void raw(const std::array<std::uint8_t, N>& a, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) u8(a[i]);
  }
  void put16_at(std::size_t at, std::uint16_t v) {
    out[at] = std::byte{static_cast<std::uint8_t>(v >> 8)};
    out[at + 1] = std::byte{static_cast<std::uint8_t>(v)};
  }
};

std::uint16_t swap16(std::uint16_t v) { return static_cast<std::uint16_t>((v >> 8) | (v << 8)); }

// Ones' complement sum over consecutive spans of any length: a span that
// starts at an odd offset contributes its own sum byte-swapped.
struct checksum_acc {
  std::uint32_t sum = 0;
  bool odd = false;

  void add(std::span<const std::byte> data) {
    if (data.empty()) return;
    if (!odd) {
      sum = checksum_partial(data, sum);
    } else {
      const std::uint16_t s = static_cast<std::uint16_t>(~checksum_fold(checksum_partial(data)));
      const std::uint64_t t = std::uint64_t{sum} + swap16(s);
      sum = static_cast<std::uint32_t>((t & 0xffffffffu) + (t >> 32));
    }
    odd = odd != ((data.size() & 1u) != 0);
  }
};

void write_ethernet(writer& w, const mac_address& dst, const mac_address& src, bool v6) {
  w.raw(dst, 6);
  w.raw(src, 6);
  w.u16(v6 ? ethertype_ipv6 : ethertype_ipv4);
}

// Writes the IP header for an L4 segment of l4_len bytes; returns the
// pseudo-header sum.
std::uint32_t write_ip(writer& w, const ip_address& src, const ip_address& dst, std::uint8_t ttl,
                       std::uint8_t proto, std::size_t l4_len) {
  const std::size_t start = w.pos;
  std::uint32_t pseudo = 0;
  if (src.v6) {
    w.u32(0x60000000u);
    w.u16(static_cast<std::uint16_t>(l4_len));
    w.u8(proto);
    w.u8(ttl);
    w.raw(src.bytes, 16);
    w.raw(dst.bytes, 16);
    pseudo = checksum_partial(std::span<const std::byte>(w.out).subspan(start + 8, 32));
    pseudo += static_cast<std::uint32_t>(l4_len >> 16) + static_cast<std::uint32_t>(l4_len & 0xffffu);
    pseudo += proto;
  } else {
    w.u8(0x45);
    w.u8(0);
    w.u16(static_cast<std::uint16_t>(ipv4_len + l4_len));
    w.u16(0);       // identification
    w.u16(0x4000);  // DF, offset 0
    w.u8(ttl);
    w.u8(proto);
    w.u16(0);  // header checksum, below
    w.raw(src.bytes, 4);
    w.raw(dst.bytes, 4);
    const auto hdr = std::span<const std::byte>(w.out).subspan(start, ipv4_len);
    w.put16_at(start + 10, checksum_fold(checksum_partial(hdr)));
    pseudo = checksum_partial(hdr.subspan(12, 8));
    pseudo += static_cast<std::uint32_t>(l4_len & 0xffffu);
    pseudo += proto;
  }
  return pseudo;
}

}  // namespace

std::size_t build_tcp_headers(const tcp_segment_spec& s, std::span<std::byte, max_header_size> out) {
  const std::size_t payload_len = s.payload[0].size() + s.payload[1].size();
  const std::size_t opt_len = (s.mss ? 4u : 0u) + (s.wscale ? 4u : 0u);
  const std::size_t tcp_len = tcp_min_len + opt_len;

  writer w{out};
  write_ethernet(w, s.dst_mac, s.src_mac, s.src.v6);
  const std::uint32_t pseudo = write_ip(w, s.src, s.dst, s.ttl, proto_tcp, tcp_len + payload_len);

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

  checksum_acc acc{pseudo};
  acc.add(std::span<const std::byte>(out).subspan(tcp_start, tcp_len));
  acc.add(s.payload[0]);
  acc.add(s.payload[1]);
  w.put16_at(tcp_start + 16, checksum_fold(acc.sum));
  return w.pos;
}

std::size_t build_udp_headers(const udp_datagram_spec& s, std::span<std::byte, max_header_size> out) {
  const std::size_t l4_len = udp_len + s.payload.size();

  writer w{out};
  write_ethernet(w, s.dst_mac, s.src_mac, s.src.v6);
  const std::uint32_t pseudo = write_ip(w, s.src, s.dst, s.ttl, proto_udp, l4_len);

  const std::size_t udp_start = w.pos;
  w.u16(s.src_port);
  w.u16(s.dst_port);
  w.u16(static_cast<std::uint16_t>(l4_len));
  w.u16(0);  // checksum, below

  checksum_acc acc{pseudo};
  acc.add(std::span<const std::byte>(out).subspan(udp_start, udp_len));
  acc.add(s.payload);
  std::uint16_t c = checksum_fold(acc.sum);
  if (c == 0) c = 0xffff;  // 0 means "no checksum" in UDP
  w.put16_at(udp_start + 6, c);
  return w.pos;
}

}  // namespace netpen::packet
