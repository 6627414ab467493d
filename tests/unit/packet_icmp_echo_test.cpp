// Unit tests for net/packet/icmp echo handling (requests from libtins
// parsed, replies decoded by libtins) and may_answer_with_error.
#include <catch2/catch.hpp>

#include <tins/ethernetII.h>
#include <tins/icmp.h>
#include <tins/icmpv6.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/rawpdu.h>
#include <tins/tcp.h>
#include <tins/udp.h>

#include "net/packet/icmp.hpp"
#include "tests/unit/packet_icmp_test_util.hpp"
#include "tests/unit/packet_test_util.hpp"

using namespace netpen::packet;
using namespace packet_test;
using namespace icmp_test;

TEST_CASE("an IPv4 echo request from libtins is parsed and answered", "[icmp]") {
  const bytes payload = pattern(GENERATE(std::size_t{0}, std::size_t{1}, std::size_t{56}, std::size_t{1401}));
  Tins::ICMP req(Tins::ICMP::ECHO_REQUEST);
  req.id(0x1234);
  req.sequence(7);
  Tins::IP ip("192.0.2.7", "10.0.2.15");
  ip.ttl(3);
  auto pkt = Tins::EthernetII(gw_hw, child_hw) / ip / req / raw(payload);
  const bytes in = serialize(pkt);
  const frame f = parsed(in);
  const auto e = parse_echo_request(f);
  REQUIRE(e);
  CHECK(e->id == 0x1234);
  CHECK(e->seq == 7);
  CHECK(e->ttl == 3);
  CHECK(as_bytes(e->payload) == payload);

  const bytes out = build_echo_reply(gw_mac, child_mac, f.dst, f.src, 57, e->id, e->seq, e->payload);
  Tins::EthernetII eth(u8ptr(out), u32size(out));
  CHECK(eth.src_addr() == gw_hw);
  CHECK(eth.dst_addr() == child_hw);
  const auto& rip = eth.rfind_pdu<Tins::IP>();
  CHECK(rip.src_addr() == Tins::IPv4Address("192.0.2.7"));
  CHECK(rip.dst_addr() == Tins::IPv4Address("10.0.2.15"));
  CHECK(rip.ttl() == 57);
  CHECK(verify_ipv4_header(out) == 0);
  const auto& icmp = eth.rfind_pdu<Tins::ICMP>();
  CHECK(icmp.type() == Tins::ICMP::ECHO_REPLY);
  CHECK(icmp.code() == 0);
  CHECK(icmp.id() == 0x1234);
  CHECK(icmp.sequence() == 7);
  CHECK(naive_checksum(tail(out, 34)) == 0);
  CHECK(tail(out, 42) == payload);
  CHECK_FALSE(parse_echo_request(parsed(out)));  // a reply is not a request
}

TEST_CASE("an IPv6 echo request from libtins is parsed and answered", "[icmp]") {
  const bytes payload = pattern(GENERATE(std::size_t{0}, std::size_t{57}, std::size_t{1400}));
  Tins::ICMPv6 req(Tins::ICMPv6::ECHO_REQUEST);
  req.identifier(0xbeef);
  req.sequence(65535);
  Tins::IPv6 ip("2001:db8::7", "fd00::f");
  ip.hop_limit(9);
  auto pkt = Tins::EthernetII(gw_hw, child_hw) / ip / req / raw(payload);
  const bytes in = serialize(pkt);
  const frame f = parsed(in);
  const auto e = parse_echo_request(f);
  REQUIRE(e);
  CHECK(e->id == 0xbeef);
  CHECK(e->seq == 65535);
  CHECK(e->ttl == 9);
  CHECK(as_bytes(e->payload) == payload);

  const bytes out = build_echo_reply(gw_mac, child_mac, f.dst, f.src, 50, e->id, e->seq, e->payload);
  Tins::EthernetII eth(u8ptr(out), u32size(out));
  const auto& rip = eth.rfind_pdu<Tins::IPv6>();
  CHECK(rip.src_addr() == Tins::IPv6Address("2001:db8::7"));
  CHECK(rip.dst_addr() == Tins::IPv6Address("fd00::f"));
  CHECK(rip.hop_limit() == 50);
  const auto& icmp = eth.rfind_pdu<Tins::ICMPv6>();
  CHECK(icmp.type() == Tins::ICMPv6::ECHO_REPLY);
  CHECK(icmp.code() == 0);
  CHECK(icmp.identifier() == 0xbeef);
  CHECK(icmp.sequence() == 65535);
  CHECK(verify_l4(out) == 0);
  CHECK(tail(out, 62) == payload);
}

TEST_CASE("echo reply refuses mixed families and oversized payloads", "[icmp]") {
  const bytes small = pattern(4);
  CHECK(build_echo_reply(gw_mac, child_mac, v4(1, 2, 3, 4), v6(1), 64, 1, 1, small).empty());
  const bytes big(65535 - 28 + 1);
  CHECK(build_echo_reply(gw_mac, child_mac, v4(1, 2, 3, 4), v4(10, 0, 2, 15), 64, 1, 1, big).empty());
  CHECK(build_echo_reply(gw_mac, child_mac, v4(1, 2, 3, 4), v4(10, 0, 2, 15), 64, 1, 1,
                         std::span<const std::byte>(big).first(65535 - 28))
            .size() == 14 + 65535);
  CHECK(build_echo_reply(gw_mac, child_mac, v6(1), v6(2), 64, 1, 1, std::span<const std::byte>(big).first(65535 - 8))
            .size() == 14 + 40 + 65535);
}

TEST_CASE("parse_echo_request ignores everything but echo requests", "[icmp]") {
  auto v4_icmp = [](Tins::ICMP icmp) {
    auto pkt = Tins::EthernetII(gw_hw, child_hw) / Tins::IP("192.0.2.7", "10.0.2.15") / icmp / raw(pattern(8));
    return serialize(pkt);
  };
  CHECK_FALSE(parse_echo_request(parsed(v4_icmp(Tins::ICMP(Tins::ICMP::ECHO_REPLY)))));
  CHECK_FALSE(parse_echo_request(parsed(v4_icmp(Tins::ICMP(Tins::ICMP::DEST_UNREACHABLE)))));
  bytes bad_code = v4_icmp(Tins::ICMP(Tins::ICMP::ECHO_REQUEST));
  REQUIRE(parse_echo_request(parsed(bad_code)));
  set8(bad_code, 35, 1);
  CHECK_FALSE(parse_echo_request(parsed(bad_code)));
  CHECK_FALSE(parse_echo_request(parsed(child_udp_v4(8))));
  CHECK_FALSE(parse_echo_request(parsed(child_udp_v6(8))));

  // An echo request cut to 6 bytes of ICMP: too short for id and sequence.
  bytes cut = v4_icmp(Tins::ICMP(Tins::ICMP::ECHO_REQUEST));
  cut.resize(14 + 20 + 6);
  set16(cut, 16, 26);
  set16(cut, 24, 0);
  set16(cut, 24, verify_ipv4_header(cut));
  CHECK_FALSE(parse_echo_request(parsed(cut)));

  // ICMPv4 type 8 carried over IPv6 (next header 1) is not ICMPv6.
  auto wrong = Tins::EthernetII(gw_hw, child_hw) / Tins::IPv6("fd00::1", "fd00::f") /
               Tins::ICMP(Tins::ICMP::ECHO_REQUEST);
  CHECK_FALSE(parse_echo_request(parsed(serialize(wrong))));
}

TEST_CASE("may_answer_with_error", "[icmp]") {
  const auto udp4 = [](const char* dst, const char* src) {
    auto pkt = Tins::EthernetII(gw_hw, child_hw) / Tins::IP(dst, src) / Tins::UDP(53, 4000);
    return serialize(pkt);
  };
  const auto udp6 = [](const char* dst, const char* src) {
    auto pkt = Tins::EthernetII(gw_hw, child_hw) / Tins::IPv6(dst, src) / Tins::UDP(53, 4000);
    return serialize(pkt);
  };
  const auto icmp4_type = [](Tins::ICMP::Flags t) {
    auto pkt = Tins::EthernetII(gw_hw, child_hw) / Tins::IP("192.0.2.7", "10.0.2.15") / Tins::ICMP(t);
    return serialize(pkt);
  };
  const auto icmp6_type = [](Tins::ICMPv6::Types t) {
    auto pkt = Tins::EthernetII(gw_hw, child_hw) / Tins::IPv6("2001:db8::7", "fd00::f") / Tins::ICMPv6(t);
    return serialize(pkt);
  };
  auto tcp6 = Tins::EthernetII(gw_hw, child_hw) / Tins::IPv6("2001:db8::7", "fd00::f") / Tins::TCP(80, 5000);

  CHECK(may_answer_with_error(parsed(udp4("192.0.2.7", "10.0.2.15"))));
  CHECK(may_answer_with_error(parsed(udp6("2001:db8::7", "fd00::f"))));
  CHECK(may_answer_with_error(parsed(serialize(tcp6))));
  CHECK(may_answer_with_error(parsed(icmp4_type(Tins::ICMP::ECHO_REQUEST))));
  CHECK(may_answer_with_error(parsed(icmp6_type(Tins::ICMPv6::ECHO_REQUEST))));

  CHECK_FALSE(may_answer_with_error(parsed(icmp4_type(Tins::ICMP::DEST_UNREACHABLE))));
  CHECK_FALSE(may_answer_with_error(parsed(icmp4_type(Tins::ICMP::TIME_EXCEEDED))));
  CHECK_FALSE(may_answer_with_error(parsed(icmp4_type(Tins::ICMP::SOURCE_QUENCH))));
  CHECK_FALSE(may_answer_with_error(parsed(icmp4_type(Tins::ICMP::REDIRECT))));
  CHECK_FALSE(may_answer_with_error(parsed(icmp4_type(Tins::ICMP::PARAM_PROBLEM))));
  CHECK_FALSE(may_answer_with_error(parsed(icmp6_type(Tins::ICMPv6::DEST_UNREACHABLE))));
  CHECK_FALSE(may_answer_with_error(parsed(icmp6_type(Tins::ICMPv6::PACKET_TOOBIG))));
  CHECK_FALSE(may_answer_with_error(parsed(icmp6_type(Tins::ICMPv6::TIME_EXCEEDED))));
  CHECK_FALSE(may_answer_with_error(parsed(icmp6_type(Tins::ICMPv6::PARAM_PROBLEM))));

  CHECK_FALSE(may_answer_with_error(parsed(udp4("255.255.255.255", "10.0.2.15"))));
  CHECK_FALSE(may_answer_with_error(parsed(udp4("224.0.0.251", "10.0.2.15"))));
  CHECK_FALSE(may_answer_with_error(parsed(udp4("239.255.255.250", "10.0.2.15"))));
  CHECK_FALSE(may_answer_with_error(parsed(udp4("192.0.2.7", "0.0.0.0"))));
  CHECK_FALSE(may_answer_with_error(parsed(udp4("192.0.2.7", "224.0.0.1"))));
  CHECK_FALSE(may_answer_with_error(parsed(udp4("192.0.2.7", "127.0.0.1"))));
  CHECK_FALSE(may_answer_with_error(parsed(udp6("ff02::fb", "fd00::f"))));
  CHECK_FALSE(may_answer_with_error(parsed(udp6("2001:db8::7", "::"))));
  CHECK_FALSE(may_answer_with_error(parsed(udp6("2001:db8::7", "ff02::1"))));

  // Unicast IP in a link-layer broadcast / multicast frame.
  bytes bcast = udp4("192.0.2.7", "10.0.2.15");
  for (std::size_t i = 0; i < 6; ++i) set8(bcast, i, 0xff);
  CHECK_FALSE(may_answer_with_error(parsed(bcast)));
  bytes mcast = udp6("2001:db8::7", "fd00::f");
  set8(mcast, 0, 0x33);
  CHECK_FALSE(may_answer_with_error(parsed(mcast)));

  // Non-IP.
  frame arp;
  arp.ethertype = ethertype_arp;
  CHECK_FALSE(may_answer_with_error(arp));
}

TEST_CASE("may_answer_with_error refuses non-first fragments", "[icmp]") {
  // parse_frame rejects fragments, so point a parsed frame at edited copies.
  const bytes in4 = child_udp_v4(16);
  frame f4 = parsed(in4);
  bytes ip4 = as_bytes(f4.ip_packet);
  set16(ip4, 6, 0x2000);  // first fragment (more fragments, offset 0)
  f4.ip_packet = ip4;
  CHECK(may_answer_with_error(f4));
  set16(ip4, 6, 0x0001);  // last fragment at offset 8
  CHECK_FALSE(may_answer_with_error(f4));

  const bytes in6 = child_udp_v6(16);
  frame f6 = parsed(in6);
  bytes ip6 = as_bytes(f6.ip_packet);
  // Hop-by-hop options, then a fragment header, then UDP.
  bytes ext = {std::byte{44}, std::byte{0}, std::byte{1}, std::byte{4},
               std::byte{0},  std::byte{0}, std::byte{0}, std::byte{0}};
  bytes frag = {std::byte{proto_udp}, std::byte{0}, std::byte{0}, std::byte{1},
                std::byte{0},         std::byte{0}, std::byte{0}, std::byte{42}};
  ip6.insert(ip6.begin() + 40, frag.begin(), frag.end());
  ip6.insert(ip6.begin() + 40, ext.begin(), ext.end());
  set8(ip6, 6, 0);
  set16(ip6, 4, get16(ip6, 4) + 16u);
  f6.ip_packet = ip6;
  CHECK(may_answer_with_error(f6));  // offset 0, M flag set: the first fragment
  set16(ip6, 50, 0x0008);            // offset 1 (8 bytes)
  CHECK_FALSE(may_answer_with_error(f6));

  // A chain cut short is read without going past the end.
  f6.ip_packet = std::span<const std::byte>(ip6).first(44);
  CHECK(may_answer_with_error(f6));
}

TEST_CASE("ICMP helpers on mutated frames stay in bounds and within size limits", "[icmp]") {
  Tins::ICMP req4(Tins::ICMP::ECHO_REQUEST);
  Tins::ICMPv6 req6(Tins::ICMPv6::ECHO_REQUEST);
  auto e4 = Tins::EthernetII(gw_hw, child_hw) / Tins::IP("192.0.2.7", "10.0.2.15") / req4 / raw(pattern(40));
  auto e6 = Tins::EthernetII(gw_hw, child_hw) / Tins::IPv6("2001:db8::7", "fd00::f") / req6 / raw(pattern(40));
  const std::vector<bytes> seeds = {serialize(e4), serialize(e6), child_udp_v4(700), child_udp_v6(1300)};
  std::uint32_t seed = 99;
  auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return seed >> 8;
  };
  for (int i = 0; i < 4000; ++i) {
    bytes f = seeds[static_cast<std::size_t>(i) % seeds.size()];
    for (int m = 0; m < 3; ++m) set8(f, 12 + next() % std::min<std::size_t>(80, f.size() - 12), next() & 0xffu);
    f.resize(f.size() - next() % 40);
    const auto r = parse_frame(f);
    if (!r) continue;
    (void)may_answer_with_error(*r);
    if (const auto e = parse_echo_request(*r)) {
      CHECK(e->payload.data() + e->payload.size() <= f.data() + f.size());
      const bytes out = build_echo_reply(gw_mac, child_mac, r->dst, r->src, 64, e->id, e->seq, e->payload);
      CHECK(out.size() == 14 + (r->src.v6 ? 48u : 28u) + e->payload.size());
    }
    if (r->ip_packet.empty()) continue;
    icmp_error_spec s;
    s.from = r->dst;
    s.to = r->src;
    s.type = 3;
    s.quoted_ip_packet = r->ip_packet;
    const bytes out = build_icmp_error(s);
    CHECK(out.size() <= 14 + (r->src.v6 ? icmp6::error_max_ip_len : icmp4::error_max_ip_len));
  }
}
