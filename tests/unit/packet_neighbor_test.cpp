// Unit tests for net/packet answer_neighbor_solicitation: ARP requests and
// IPv6 Neighbor Solicitations built with libtins, answers decoded by libtins.
#include <catch2/catch.hpp>

#include <tins/arp.h>
#include <tins/ethernetII.h>
#include <tins/icmpv6.h>
#include <tins/ipv6.h>

#include "net/packet/frame.hpp"
#include "net/packet/neighbor.hpp"
#include "tests/unit/packet_test_util.hpp"

using namespace netpen::packet;
using namespace packet_test;

namespace {

const mac_address gw_mac{2, 0, 0, 0, 0, 1};
const Tins::HWAddress<6> tins_gw_mac("02:00:00:00:00:01");
const Tins::HWAddress<6> child_mac("02:00:00:00:00:02");
const ip_address gw4 = v4(10, 0, 2, 2);
const ip_address gw6 = v6(1);

std::optional<bytes> answer(const bytes& f) {
  auto parsed = parse_frame(f);
  REQUIRE(parsed.has_value());
  return answer_neighbor_solicitation(*parsed, f, gw_mac, gw4, gw6);
}

bytes ns_frame(const char* src, const char* dst, const char* target, std::uint8_t hop_limit = 255,
               bool with_option = true) {
  Tins::ICMPv6 ns(Tins::ICMPv6::NEIGHBOUR_SOLICIT);
  ns.target_addr(target);
  if (with_option) ns.source_link_layer_addr(child_mac);
  Tins::IPv6 ip(dst, src);
  ip.hop_limit(hop_limit);
  Tins::EthernetII eth(Tins::HWAddress<6>("33:33:ff:00:00:01"), child_mac);
  auto pkt = eth / ip / ns;
  return serialize(pkt);
}

}  // namespace

TEST_CASE("an ARP request for the gateway gets a reply", "[packet]") {
  Tins::EthernetII req = Tins::ARP::make_arp_request("10.0.2.2", "10.0.2.15", child_mac);
  const bytes f = serialize(req);
  const auto reply = answer(f);
  REQUIRE(reply.has_value());
  Tins::EthernetII eth(u8ptr(*reply), u32size(*reply));
  CHECK(eth.dst_addr() == child_mac);
  CHECK(eth.src_addr() == tins_gw_mac);
  CHECK(eth.payload_type() == ethertype_arp);
  const auto& arp = eth.rfind_pdu<Tins::ARP>();
  CHECK(arp.opcode() == Tins::ARP::REPLY);
  CHECK(arp.sender_hw_addr() == tins_gw_mac);
  CHECK(arp.sender_ip_addr() == Tins::IPv4Address("10.0.2.2"));
  CHECK(arp.target_hw_addr() == child_mac);
  CHECK(arp.target_ip_addr() == Tins::IPv4Address("10.0.2.15"));

  auto parsed = parse_frame(*reply);
  REQUIRE(parsed.has_value());
  CHECK(parsed->ethertype == ethertype_arp);
}

TEST_CASE("ARP that is not a request for the gateway is ignored", "[packet]") {
  Tins::EthernetII other = Tins::ARP::make_arp_request("10.0.2.99", "10.0.2.15", child_mac);
  CHECK_FALSE(answer(serialize(other)).has_value());
  Tins::EthernetII rep = Tins::ARP::make_arp_reply("10.0.2.2", "10.0.2.15", tins_gw_mac, child_mac);
  CHECK_FALSE(answer(serialize(rep)).has_value());
  // A truncated ARP body is malformed for libtins: no answer, no exception.
  bytes cut = serialize(other);
  cut.resize(20);
  CHECK_FALSE(answer(cut).has_value());
}

TEST_CASE("a Neighbor Solicitation for the gateway gets an advertisement", "[packet]") {
  const bytes f = ns_frame("fd00::2", "ff02::1:ff00:1", "fd00::1");
  const auto reply = answer(f);
  REQUIRE(reply.has_value());
  Tins::EthernetII eth(u8ptr(*reply), u32size(*reply));
  CHECK(eth.dst_addr() == child_mac);
  CHECK(eth.src_addr() == tins_gw_mac);
  const auto& ip = eth.rfind_pdu<Tins::IPv6>();
  CHECK(ip.src_addr() == Tins::IPv6Address("fd00::1"));
  CHECK(ip.dst_addr() == Tins::IPv6Address("fd00::2"));
  CHECK(ip.hop_limit() == 255);
  const auto& na = eth.rfind_pdu<Tins::ICMPv6>();
  CHECK(na.type() == Tins::ICMPv6::NEIGHBOUR_ADVERT);
  CHECK(na.code() == 0);
  CHECK(na.solicited() == 1);
  CHECK(na.override() == 1);
  CHECK(na.router() == 1);
  CHECK(na.target_addr() == Tins::IPv6Address("fd00::1"));
  CHECK(na.target_link_layer_addr() == tins_gw_mac);
  CHECK(verify_l4(*reply) == 0);

  auto parsed = parse_frame(*reply);
  REQUIRE(parsed.has_value());
  CHECK(parsed->kind == l4_kind::icmp);
  CHECK(parsed->src == gw6);
  CHECK(parsed->dst == v6(2));
}

TEST_CASE("duplicate address detection is answered to all-nodes", "[packet]") {
  const auto reply = answer(ns_frame("::", "ff02::1:ff00:1", "fd00::1", 255, false));
  REQUIRE(reply.has_value());
  Tins::EthernetII eth(u8ptr(*reply), u32size(*reply));
  CHECK(eth.dst_addr() == Tins::HWAddress<6>("33:33:00:00:00:01"));
  CHECK(eth.rfind_pdu<Tins::IPv6>().dst_addr() == Tins::IPv6Address("ff02::1"));
  CHECK(eth.rfind_pdu<Tins::ICMPv6>().solicited() == 0);
  CHECK(verify_l4(*reply) == 0);
}

TEST_CASE("other Neighbor Solicitations and ICMPv6 are ignored", "[packet]") {
  CHECK_FALSE(answer(ns_frame("fd00::2", "ff02::1:ff00:9", "fd00::9")).has_value());
  CHECK_FALSE(answer(ns_frame("fd00::2", "ff02::1:ff00:1", "fd00::1", 64)).has_value());  // not on-link
  {
    Tins::EthernetII eth(tins_gw_mac, child_mac);
    auto pkt = eth / Tins::IPv6("fd00::1", "fd00::2") / Tins::ICMPv6(Tins::ICMPv6::ECHO_REQUEST);
    CHECK_FALSE(answer(serialize(pkt)).has_value());
  }
  {
    // Gateway addresses of the wrong family never match.
    const bytes f = ns_frame("fd00::2", "ff02::1:ff00:1", "fd00::1");
    auto parsed = parse_frame(f);
    REQUIRE(parsed.has_value());
    CHECK_FALSE(answer_neighbor_solicitation(*parsed, f, gw_mac, gw4, gw4).has_value());
  }
  {
    // A solicitation cut short of its target address: no answer, no throw.
    bytes f = ns_frame("fd00::2", "ff02::1:ff00:1", "fd00::1", 255, false);
    f.resize(14 + 40 + 8);
    set16(f, 18, 8);
    CHECK_FALSE(answer(f).has_value());
  }
}
