// answer_neighbor_solicitation: ARP replies and ICMPv6 Neighbor
// Advertisements for the gateway, built and parsed with libtins.
#include "net/packet/neighbor.hpp"

#include <cstring>
#include <tins/arp.h>
#include <tins/ethernetII.h>
#include <tins/exceptions.h>
#include <tins/icmpv6.h>
#include <tins/ipv6.h>

namespace netpen::packet {
namespace {

constexpr std::uint8_t icmpv6_neighbor_solicit = 135;

Tins::HWAddress<6> to_tins(const mac_address& m) { return Tins::HWAddress<6>(m.data()); }

Tins::IPv4Address to_tins_v4(const ip_address& a) {
  std::uint32_t be = 0;  // libtins takes the address as its in-memory big-endian value
  std::memcpy(&be, a.bytes.data(), 4);
  return Tins::IPv4Address(be);
}

Tins::IPv6Address to_tins_v6(const ip_address& a) { return Tins::IPv6Address(a.bytes.data()); }

std::vector<std::byte> to_bytes(const Tins::PDU::serialization_type& v) {
  std::vector<std::byte> out(v.size());
  if (!v.empty()) std::memcpy(out.data(), v.data(), v.size());
  return out;
}

std::optional<std::vector<std::byte>> answer_arp(const Tins::EthernetII& eth, const mac_address& gw_mac,
                                                 const ip_address& gw_v4) {
  const auto* arp = eth.find_pdu<Tins::ARP>();
  if (arp == nullptr || arp->opcode() != Tins::ARP::REQUEST) return std::nullopt;
  if (arp->target_ip_addr() != to_tins_v4(gw_v4)) return std::nullopt;
  Tins::EthernetII reply = Tins::ARP::make_arp_reply(arp->sender_ip_addr(), to_tins_v4(gw_v4),
                                                     arp->sender_hw_addr(), to_tins(gw_mac));
  reply.dst_addr(eth.src_addr());
  return to_bytes(reply.serialize());
}

std::optional<std::vector<std::byte>> answer_ns(const Tins::EthernetII& eth, const mac_address& gw_mac,
                                                const ip_address& gw_v6) {
  const auto* ip6 = eth.find_pdu<Tins::IPv6>();
  const auto* ns = eth.find_pdu<Tins::ICMPv6>();
  if (ip6 == nullptr || ns == nullptr) return std::nullopt;
  // RFC 4861 §7.1.1: hop limit 255 and code 0, else not a valid solicitation.
  if (ns->type() != Tins::ICMPv6::NEIGHBOUR_SOLICIT || ns->code() != 0 || ip6->hop_limit() != 255) {
    return std::nullopt;
  }
  const Tins::IPv6Address gw = to_tins_v6(gw_v6);
  if (ns->target_addr() != gw) return std::nullopt;

  // A solicitation from the unspecified address (duplicate address
  // detection) is answered to all-nodes, unsolicited (RFC 4861 §7.2.4).
  const bool dad = ip6->src_addr() == Tins::IPv6Address();
  Tins::ICMPv6 na(Tins::ICMPv6::NEIGHBOUR_ADVERT);
  na.target_addr(gw);
  na.router(1);
  na.solicited(dad ? 0 : 1);
  na.override(1);
  na.target_link_layer_addr(to_tins(gw_mac));

  Tins::IPv6 ip(dad ? Tins::IPv6Address("ff02::1") : ip6->src_addr(), gw);
  ip.hop_limit(255);
  const Tins::HWAddress<6> dst_mac = dad ? Tins::HWAddress<6>("33:33:00:00:00:01") : eth.src_addr();
  Tins::EthernetII reply = Tins::EthernetII(dst_mac, to_tins(gw_mac)) / ip / na;
  return to_bytes(reply.serialize());
}

}  // namespace

std::optional<std::vector<std::byte>> answer_neighbor_solicitation(const frame& f,
                                                                   std::span<const std::byte> raw,
                                                                   const mac_address& gw_mac,
                                                                   const ip_address& gw_v4,
                                                                   const ip_address& gw_v6) {
  const bool is_arp = f.ethertype == ethertype_arp;
  const bool is_icmpv6 = f.ethertype == ethertype_ipv6 && f.kind == l4_kind::icmp &&
                         !f.l4.empty() && std::to_integer<std::uint8_t>(f.l4[0]) == icmpv6_neighbor_solicit;
  if (!is_arp && !is_icmpv6) return std::nullopt;
  if (raw.size() > 0xffffffffu) return std::nullopt;
  try {
    const Tins::EthernetII eth(reinterpret_cast<const std::uint8_t*>(raw.data()),
                               static_cast<std::uint32_t>(raw.size()));
    if (is_arp) return gw_v4.v6 ? std::nullopt : answer_arp(eth, gw_mac, gw_v4);
    return gw_v6.v6 ? answer_ns(eth, gw_mac, gw_v6) : std::nullopt;
  } catch (const Tins::malformed_packet&) {
    return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace netpen::packet
