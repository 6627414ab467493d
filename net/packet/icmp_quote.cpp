// parse_quoted_error (see icmp_quote.hpp).
#include "net/packet/icmp_quote.hpp"

#include <algorithm>
#include <span>

#include "net/packet/byte_writer.hpp"
#include "net/packet/icmp.hpp"
#include "net/packet/ip_header.hpp"

namespace netpen::packet {
namespace {

constexpr std::size_t icmp_header_len = 8;
constexpr std::size_t ports_len = 4;  // the start of a TCP or UDP header

ip_address address_at(std::span<const std::byte> s, std::size_t at, bool v6) {
  ip_address a;
  a.v6 = v6;
  std::transform(s.begin() + static_cast<std::ptrdiff_t>(at),
                 s.begin() + static_cast<std::ptrdiff_t>(at + (v6 ? 16 : 4)), a.bytes.begin(),
                 [](std::byte b) { return std::to_integer<std::uint8_t>(b); });
  return a;
}

}  // namespace

std::optional<quoted_error> parse_quoted_error(const frame& f) {
  if (f.kind != l4_kind::icmp || f.l4.size() < icmp_header_len) return std::nullopt;
  const bool v6 = f.ethertype == ethertype_ipv6;
  if (f.protocol != (v6 ? proto_icmpv6 : proto_icmp)) return std::nullopt;
  quoted_error q;
  q.type = read_u8(f.l4, 0);
  q.code = read_u8(f.l4, 1);
  if (q.type != (v6 ? icmp6::dest_unreachable : icmp4::dest_unreachable)) return std::nullopt;
  const auto quote = f.l4.subspan(icmp_header_len);
  std::size_t header_len = ipv6_header_size;
  if (v6) {
    if (quote.size() < ipv6_header_size || read_u8(quote, 0) >> 4 != 6) return std::nullopt;
    q.protocol = read_u8(quote, 6);
    q.src = address_at(quote, 8, true);
    q.dst = address_at(quote, 24, true);
  } else {
    if (quote.size() < ipv4_header_size || read_u8(quote, 0) >> 4 != 4) return std::nullopt;
    header_len = static_cast<std::size_t>(read_u8(quote, 0) & 0x0f) * 4;
    if (header_len < ipv4_header_size) return std::nullopt;
    if ((read_be16(quote, 6) & 0x1fff) != 0) return std::nullopt;  // a later fragment: no ports
    q.protocol = read_u8(quote, 9);
    q.src = address_at(quote, 12, false);
    q.dst = address_at(quote, 16, false);
  }
  if (q.protocol != proto_tcp && q.protocol != proto_udp) return std::nullopt;
  if (quote.size() < header_len + ports_len) return std::nullopt;
  q.src_port = read_be16(quote, header_len);
  q.dst_port = read_be16(quote, header_len + 2);
  return q;
}

}  // namespace netpen::packet
