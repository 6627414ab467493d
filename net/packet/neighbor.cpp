// answer_neighbor_solicitation: ARP replies and ICMPv6 Neighbor
// Advertisements for the gateway, built byte by byte (libtins checks them in
// the unit tests; keeping it out of the binary keeps startup fast: it pulls
// in libpcap and a dozen more shared libraries).
#include "net/packet/neighbor.hpp"

#include "net/packet/byte_writer.hpp"

#include <algorithm>
#include <cstring>

namespace netpen::packet {
namespace {

constexpr std::uint8_t icmpv6_neighbor_solicit = 135;
constexpr std::uint8_t icmpv6_neighbor_advert = 136;
constexpr std::size_t eth_len = 14;
constexpr std::size_t arp_len = 28;

using writer = byte_writer;

std::optional<std::vector<std::byte>> answer_arp(std::span<const std::byte> raw, const mac_address& gw_mac,
                                                 const ip_address& gw_v4) {
  if (raw.size() < eth_len + arp_len) return std::nullopt;
  const auto arp = raw.subspan(eth_len, arp_len);
  // Ethernet/IPv4 request (htype 1, ptype 0x0800, hlen 6, plen 4, op 1).
  if (read_be16(arp, 0) != 1 || read_be16(arp, 2) != ethertype_ipv4 || read_u8(arp, 4) != 6 || read_u8(arp, 5) != 4 ||
      read_be16(arp, 6) != 1)
    return std::nullopt;
  if (!std::equal(gw_v4.bytes.begin(), gw_v4.bytes.begin() + 4, reinterpret_cast<const std::uint8_t*>(&arp[24])))
    return std::nullopt;
  const auto sender_hw = arp.subspan(8, 6);
  const auto sender_ip = arp.subspan(14, 4);
  mac_address requester{};
  std::memcpy(requester.data(), raw.data() + 6, 6);

  writer w;
  w.out.reserve(eth_len + arp_len);
  w.ethernet(requester, gw_mac, ethertype_arp);
  w.put16(1);
  w.put16(ethertype_ipv4);
  w.put(6);
  w.put(4);
  w.put16(2);  // reply
  w.put_range(gw_mac);
  w.put_range(std::span(gw_v4.bytes.data(), 4));
  w.put_bytes(sender_hw);
  w.put_bytes(sender_ip);
  return std::move(w.out);
}

std::optional<std::vector<std::byte>> answer_ns(const frame& f, std::span<const std::byte> raw,
                                                const mac_address& gw_mac, const ip_address& gw_v6) {
  // RFC 4861 §7.1.1: hop limit 255, code 0, at least type+code+sum+reserved+target.
  if (f.ttl != 255 || f.l4.size() < 24 || read_u8(f.l4, 1) != 0) return std::nullopt;
  if (!std::equal(gw_v6.bytes.begin(), gw_v6.bytes.end(), reinterpret_cast<const std::uint8_t*>(&f.l4[8])))
    return std::nullopt;

  // From the unspecified address (duplicate address detection): answer to
  // all-nodes, unsolicited (RFC 4861 §7.2.4).
  const bool dad = std::all_of(f.src.bytes.begin(), f.src.bytes.end(), [](std::uint8_t b) { return b == 0; });
  ip_address dst{};
  dst.v6 = true;
  mac_address dst_mac{};
  if (dad) {
    dst.bytes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    dst_mac = {0x33, 0x33, 0, 0, 0, 1};
  } else {
    dst = f.src;
    std::memcpy(dst_mac.data(), raw.data() + 6, 6);
  }

  writer icmp;
  icmp.put(icmpv6_neighbor_advert);
  icmp.put(0);
  icmp.put16(0);                                       // checksum, below
  icmp.put(static_cast<std::uint8_t>(0x80 | 0x20 | (dad ? 0 : 0x40)));  // router, override, solicited
  icmp.put(0);
  icmp.put16(0);
  icmp.put_range(gw_v6.bytes);
  icmp.put(2);  // option: target link-layer address, 1 unit of 8 bytes
  icmp.put(1);
  icmp.put_range(gw_mac);

  writer pseudo;
  pseudo.put_range(gw_v6.bytes);
  pseudo.put_range(dst.bytes);
  pseudo.put16(0);
  pseudo.put16(static_cast<std::uint16_t>(icmp.out.size()));
  pseudo.put16(0);
  pseudo.put16(proto_icmpv6);
  const auto sum = checksum_fold(checksum_partial(icmp.out, checksum_partial(pseudo.out)));
  icmp.out[2] = std::byte{static_cast<std::uint8_t>(sum >> 8)};
  icmp.out[3] = std::byte{static_cast<std::uint8_t>(sum)};

  writer w;
  w.out.reserve(eth_len + 40 + icmp.out.size());
  w.ethernet(dst_mac, gw_mac, ethertype_ipv6);
  w.put(0x60);
  w.put(0);
  w.put16(0);
  w.put16(static_cast<std::uint16_t>(icmp.out.size()));
  w.put(proto_icmpv6);
  w.put(255);
  w.put_range(gw_v6.bytes);
  w.put_range(dst.bytes);
  w.put_bytes(icmp.out);
  return std::move(w.out);
}

}  // namespace

std::optional<std::vector<std::byte>> answer_neighbor_solicitation(const frame& f,
                                                                   std::span<const std::byte> raw,
                                                                   const mac_address& gw_mac,
                                                                   const ip_address& gw_v4,
                                                                   const ip_address& gw_v6) {
  if (f.ethertype == ethertype_arp) return gw_v4.v6 ? std::nullopt : answer_arp(raw, gw_mac, gw_v4);
  const bool is_ns = f.ethertype == ethertype_ipv6 && f.kind == l4_kind::icmp && f.protocol == proto_icmpv6 &&
                     !f.l4.empty() && read_u8(f.l4, 0) == icmpv6_neighbor_solicit;
  if (!is_ns || !gw_v6.v6 || raw.size() < eth_len) return std::nullopt;
  return answer_ns(f, raw, gw_mac, gw_v6);
}

}  // namespace netpen::packet
