// parse_frame: the zero-copy decoder for Ethernet II frames read from the
// tap (IPv4/IPv6, TCP/UDP/ICMP). Every read is bounds-checked against the
// caller's buffer; nothing is allocated and nothing throws.
#include "net/packet/frame.hpp"

namespace netpen::packet {
namespace {

using bytes = std::span<const std::byte>;
using fail = unexpected<parse_error>;

std::uint8_t u8(bytes b, std::size_t off) { return std::to_integer<std::uint8_t>(b[off]); }

std::uint16_t be16(bytes b, std::size_t off) {
  return static_cast<std::uint16_t>((u8(b, off) << 8) | u8(b, off + 1));
}

std::uint32_t be32(bytes b, std::size_t off) {
  return (std::uint32_t{be16(b, off)} << 16) | be16(b, off + 2);
}

template <std::size_t N>
void copy_bytes(bytes b, std::size_t off, std::size_t n, std::array<std::uint8_t, N>& out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = u8(b, off + i);
}

constexpr std::size_t eth_len = 14;
constexpr std::size_t ipv4_min_len = 20;
constexpr std::size_t ipv6_len = 40;
constexpr std::size_t tcp_min_len = 20;
constexpr std::size_t udp_len = 8;
constexpr std::size_t icmp_min_len = 4;

// TCP options between the fixed header and the data offset.
expected<void, parse_error> parse_tcp_options(bytes opts, tcp_header& h) {
  std::size_t i = 0;
  while (i < opts.size()) {
    const std::uint8_t kind = u8(opts, i);
    if (kind == 0) break;  // end of option list
    if (kind == 1) {       // no-op
      ++i;
      continue;
    }
    if (i + 1 >= opts.size()) return fail(parse_error::malformed);
    const std::size_t len = u8(opts, i + 1);
    if (len < 2 || len > opts.size() - i) return fail(parse_error::malformed);
    switch (kind) {
      case 2:  // MSS
        if (len != 4) return fail(parse_error::malformed);
        h.mss = be16(opts, i + 2);
        break;
      case 3:  // window scale
        if (len != 3) return fail(parse_error::malformed);
        h.wscale = u8(opts, i + 2);
        break;
      case 4:  // SACK permitted
        if (len != 2) return fail(parse_error::malformed);
        h.sack_permitted = true;
        break;
      default:  // SACK blocks, timestamps, others: skipped
        break;
    }
    i += len;
  }
  return {};
}

expected<void, parse_error> parse_tcp(frame& f) {
  const bytes l4 = f.l4;
  if (l4.size() < tcp_min_len) return fail(parse_error::truncated);
  const std::size_t doff = (std::size_t{u8(l4, 12)} >> 4) * 4;
  if (doff < tcp_min_len) return fail(parse_error::malformed);
  if (doff > l4.size()) return fail(parse_error::truncated);
  tcp_header& h = f.tcp;
  h.src_port = be16(l4, 0);
  h.dst_port = be16(l4, 2);
  h.seq = be32(l4, 4);
  h.ack = be32(l4, 8);
  h.flags = static_cast<std::uint8_t>(u8(l4, 13) & 0x3f);
  h.window = be16(l4, 14);
  if (auto r = parse_tcp_options(l4.subspan(tcp_min_len, doff - tcp_min_len), h); !r) return r;
  f.kind = l4_kind::tcp;
  f.payload = l4.subspan(doff);
  return {};
}

expected<void, parse_error> parse_udp(frame& f) {
  const bytes l4 = f.l4;
  if (l4.size() < udp_len) return fail(parse_error::truncated);
  const std::size_t len = be16(l4, 4);
  if (len < udp_len) return fail(parse_error::malformed);
  if (len > l4.size()) return fail(parse_error::truncated);
  f.udp.src_port = be16(l4, 0);
  f.udp.dst_port = be16(l4, 2);
  f.kind = l4_kind::udp;
  f.l4 = l4.first(len);  // bytes past the UDP length are not part of the datagram
  f.payload = f.l4.subspan(udp_len);
  return {};
}

expected<void, parse_error> parse_l4(frame& f, bool v6) {
  switch (f.protocol) {
    case proto_tcp:
      return parse_tcp(f);
    case proto_udp:
      return parse_udp(f);
    case proto_icmp:
    case proto_icmpv6:
      if (f.protocol != (v6 ? proto_icmpv6 : proto_icmp)) return {};  // kind other
      if (f.l4.size() < icmp_min_len) return fail(parse_error::truncated);
      f.kind = l4_kind::icmp;
      return {};
    default:
      return {};
  }
}

expected<void, parse_error> parse_ipv4(bytes ip, frame& f) {
  if (ip.size() < ipv4_min_len) return fail(parse_error::truncated);
  if ((u8(ip, 0) >> 4) != 4) return fail(parse_error::malformed);
  const std::size_t ihl = std::size_t{u8(ip, 0) & 0x0fu} * 4;
  if (ihl < ipv4_min_len) return fail(parse_error::malformed);
  if (ihl > ip.size()) return fail(parse_error::truncated);
  const std::size_t total = be16(ip, 2);
  if (total < ihl) return fail(parse_error::malformed);
  if (total > ip.size()) return fail(parse_error::truncated);
  if (checksum_fold(checksum_partial(ip.first(ihl))) != 0) return fail(parse_error::bad_checksum);
  const std::uint16_t frag = be16(ip, 6);
  if ((frag & 0x2000u) != 0 || (frag & 0x1fffu) != 0) return fail(parse_error::unsupported);
  f.ttl = u8(ip, 8);
  f.protocol = u8(ip, 9);
  f.src.v6 = false;
  f.dst.v6 = false;
  copy_bytes(ip, 12, 4, f.src.bytes);
  copy_bytes(ip, 16, 4, f.dst.bytes);
  f.ip_packet = ip.first(total);  // drops Ethernet padding
  f.l4 = f.ip_packet.subspan(ihl);
  return parse_l4(f, false);
}

expected<void, parse_error> parse_ipv6(bytes ip, frame& f) {
  if (ip.size() < ipv6_len) return fail(parse_error::truncated);
  if ((u8(ip, 0) >> 4) != 6) return fail(parse_error::malformed);
  const std::size_t total = ipv6_len + be16(ip, 4);
  if (total > ip.size()) return fail(parse_error::truncated);
  f.ttl = u8(ip, 7);
  f.src.v6 = true;
  f.dst.v6 = true;
  copy_bytes(ip, 8, 16, f.src.bytes);
  copy_bytes(ip, 24, 16, f.dst.bytes);
  f.ip_packet = ip.first(total);
  std::uint8_t next = u8(ip, 6);
  std::size_t off = ipv6_len;
  for (;;) {
    if (next == 0 || next == 43 || next == 60) {  // hop-by-hop, routing, destination options
      if (total - off < 2) return fail(parse_error::truncated);
      const std::size_t len = (std::size_t{u8(ip, off + 1)} + 1) * 8;
      if (len > total - off) return fail(parse_error::truncated);
      next = u8(ip, off);
      off += len;
    } else if (next == 44) {  // fragment
      return fail(parse_error::unsupported);
    } else {
      break;
    }
  }
  f.protocol = next;
  f.l4 = f.ip_packet.subspan(off);
  return parse_l4(f, true);
}

}  // namespace

expected<frame, parse_error> parse_frame(std::span<const std::byte> buf) {
  frame f;
  if (buf.size() < eth_len) return fail(parse_error::truncated);
  copy_bytes(buf, 0, 6, f.dst_mac);
  copy_bytes(buf, 6, 6, f.src_mac);
  f.ethertype = be16(buf, 12);
  if (f.ethertype < 0x0600) return fail(parse_error::unsupported);  // IEEE 802.3 length, not Ethernet II
  const bytes ip = buf.subspan(eth_len);
  expected<void, parse_error> r;
  switch (f.ethertype) {
    case ethertype_ipv4:
      r = parse_ipv4(ip, f);
      break;
    case ethertype_ipv6:
      r = parse_ipv6(ip, f);
      break;
    default:
      return f;  // ARP and others: Ethernet fields only
  }
  if (!r) return fail(r.error());
  return f;
}

}  // namespace netpen::packet
