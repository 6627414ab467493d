// build_icmp_error / build_echo_reply / parse_echo_request /
// may_answer_with_error: ICMP and ICMPv6 frames to and from the child, the
// Ethernet + IP part by write_ip_headers, the ICMP part byte by byte.
#include "net/packet/icmp.hpp"

#include "net/packet/byte_writer.hpp"
#include "net/packet/ip_header.hpp"

#include <algorithm>
#include <array>

namespace netpen::packet {
namespace {

using bytes = std::span<const std::byte>;

constexpr std::size_t ipv4_len = ipv4_header_size;
constexpr std::size_t ipv6_len = ipv6_header_size;
constexpr std::size_t icmp_header_len = 8;
constexpr std::size_t max_ip_payload = max_ip_length;

using writer = byte_writer;

// Everything that varies between the ICMP frames built here.
struct icmp_frame_spec {
  const mac_address& src_mac;
  const mac_address& dst_mac;
  const ip_address& from;
  const ip_address& to;
  std::uint8_t ttl;
  std::uint8_t tos;
  std::uint8_t type, code;
  std::uint32_t rest;
  bytes body;
};

// Ethernet + IPv4/IPv6 + ICMP/ICMPv6 header + body, all checksums filled in.
// The caller has checked that the families match and the body fits.
std::vector<std::byte> build_icmp_frame(const icmp_frame_spec& s) {
  const bool v6 = s.from.v6;
  const std::size_t icmp_len = icmp_header_len + s.body.size();
  std::array<std::byte, max_ip_headers_size> headers{};
  const auto ip = write_ip_headers({.src_mac = s.src_mac, .dst_mac = s.dst_mac, .src = s.from, .dst = s.to,
                                    .protocol = v6 ? proto_icmpv6 : proto_icmp, .ttl = s.ttl, .tos = s.tos,
                                    .dont_fragment = false},
                                   icmp_len, headers);
  writer w;
  w.out.reserve(ip.size + icmp_len);
  w.put_bytes(std::span(headers).first(ip.size));

  const std::size_t icmp_start = w.out.size();
  w.put(s.type);
  w.put(s.code);
  w.put16(0);  // checksum, below
  w.put32(s.rest);
  w.out.insert(w.out.end(), s.body.begin(), s.body.end());
  // ICMPv4 sums the message alone; ICMPv6 adds the pseudo-header.
  const std::uint32_t pseudo = v6 ? ip.pseudo_sum : 0;
  w.put16_at(icmp_start + 2, checksum_fold(checksum_partial(bytes(w.out).subspan(icmp_start), pseudo)));
  return std::move(w.out);
}

bool is_v4_error_type(std::uint8_t type) {
  // Echo reply/request, router advert/solicit, timestamp, info and address
  // mask queries are informational; 3, 4, 5, 11, 12 are errors and unknown
  // types are treated like errors (never answered), as Linux does.
  switch (type) {
    case 0: case 8: case 9: case 10: case 13: case 14: case 15: case 16: case 17: case 18:
      return false;
    default:
      return true;
  }
}

bool all_zero(const ip_address& a, std::size_t n) {
  return std::all_of(a.bytes.begin(), a.bytes.begin() + static_cast<std::ptrdiff_t>(n),
                     [](std::uint8_t b) { return b == 0; });
}

bool v4_not_unicast(const ip_address& a) {
  return a.bytes[0] >= 224 ||  // multicast, reserved class E, limited broadcast
         (a.bytes[0] == 255 && a.bytes[1] == 255 && a.bytes[2] == 255 && a.bytes[3] == 255);
}

// True if an IPv4 packet is a fragment other than the first.
bool v4_later_fragment(bytes ip) {
  return ip.size() >= ipv4_len && (read_be16(ip, 6) & 0x1fffu) != 0;
}

// True if an IPv6 packet carries a fragment header with a non-zero offset.
bool v6_later_fragment(bytes ip) {
  if (ip.size() < ipv6_len) return false;
  std::uint8_t next = read_u8(ip, 6);
  std::size_t off = ipv6_len;
  while (next == 0 || next == 43 || next == 60 || next == 44) {
    if (ip.size() - off < 8) return false;
    if (next == 44) return (read_be16(ip, off + 2) & 0xfff8u) != 0;
    const std::size_t len = (std::size_t{read_u8(ip, off + 1)} + 1) * 8;
    if (len > ip.size() - off) return false;
    next = read_u8(ip, off);
    off += len;
  }
  return false;
}

}  // namespace

std::vector<std::byte> build_icmp_error(const icmp_error_spec& s) {
  if (s.from.v6 != s.to.v6) return {};
  const std::size_t max_ip = s.from.v6 ? icmp6::error_max_ip_len : icmp4::error_max_ip_len;
  const std::size_t room = max_ip - (s.from.v6 ? ipv6_len : ipv4_len) - icmp_header_len;
  const bytes quote = s.quoted_ip_packet.first(std::min(room, s.quoted_ip_packet.size()));
  // IPv4 errors get precedence "internetwork control" (RFC 1812 §4.3.2.5).
  const std::uint8_t tos = s.from.v6 ? 0 : 0xc0;
  return build_icmp_frame({s.src_mac, s.dst_mac, s.from, s.to, s.ttl, tos, s.type, s.code, s.rest, quote});
}

std::optional<echo> parse_echo_request(const frame& f) {
  if (f.kind != l4_kind::icmp || f.l4.size() < icmp_header_len) return std::nullopt;
  const bool v6 = f.ethertype == ethertype_ipv6;
  if (f.protocol != (v6 ? proto_icmpv6 : proto_icmp)) return std::nullopt;
  if (read_u8(f.l4, 0) != (v6 ? icmp6::echo_request : icmp4::echo_request) || read_u8(f.l4, 1) != 0) return std::nullopt;
  return echo{read_be16(f.l4, 4), read_be16(f.l4, 6), f.ttl, f.l4.subspan(icmp_header_len)};
}

std::vector<std::byte> build_echo_reply(const mac_address& src_mac, const mac_address& dst_mac,
                                        const ip_address& from, const ip_address& to, std::uint8_t ttl,
                                        std::uint16_t id, std::uint16_t seq, std::span<const std::byte> payload) {
  if (from.v6 != to.v6) return {};
  const std::size_t limit = max_ip_payload - icmp_header_len - (from.v6 ? 0 : ipv4_len);
  if (payload.size() > limit) return {};
  const std::uint8_t type = from.v6 ? icmp6::echo_reply : icmp4::echo_reply;
  const std::uint32_t rest = std::uint32_t{id} << 16 | seq;
  return build_icmp_frame({src_mac, dst_mac, from, to, ttl, 0, type, 0, rest, payload});
}

bool may_answer_with_error(const frame& f) {
  const bool v4 = f.ethertype == ethertype_ipv4;
  const bool v6 = f.ethertype == ethertype_ipv6;
  if ((!v4 && !v6) || f.ip_packet.empty() || f.src.v6 != v6 || f.dst.v6 != v6) return false;
  if ((f.dst_mac[0] & 1u) != 0) return false;  // link-layer broadcast or multicast
  if (f.kind == l4_kind::icmp && !f.l4.empty()) {
    const std::uint8_t type = read_u8(f.l4, 0);
    if (v6 ? type < 128 : is_v4_error_type(type)) return false;  // RFC 4443 §2.1: errors are 0..127
  }
  if (v4) {
    if (v4_not_unicast(f.dst) || v4_not_unicast(f.src) || all_zero(f.src, 4) || f.src.bytes[0] == 127)
      return false;
    return !v4_later_fragment(f.ip_packet);
  }
  if (f.dst.bytes[0] == 0xff || f.src.bytes[0] == 0xff || all_zero(f.src, 16)) return false;
  return !v6_later_fragment(f.ip_packet);
}

}  // namespace netpen::packet
