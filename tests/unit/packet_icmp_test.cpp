// Unit tests for net/packet/icmp: ICMP/ICMPv6 error and echo builders, the
// echo request parser and may_answer_with_error. libtins builds the child's
// packets and decodes what the builders produce; checksums are recomputed
// with the naive helpers from packet_test_util.hpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>

#include <tins/ethernetII.h>
#include <tins/icmp.h>
#include <tins/icmpv6.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/rawpdu.h>
#include <tins/tcp.h>
#include <tins/udp.h>

#include "net/packet/icmp.hpp"
#include "tests/unit/packet_test_util.hpp"

using namespace netpen::packet;
using namespace packet_test;

namespace {

const Tins::HWAddress<6> gw_hw("02:00:00:00:00:0a");
const Tins::HWAddress<6> child_hw("02:00:00:00:00:0b");
const mac_address gw_mac{2, 0, 0, 0, 0, 0x0a};
const mac_address child_mac{2, 0, 0, 0, 0, 0x0b};

bytes pattern(std::size_t n) {
  bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = std::byte{static_cast<std::uint8_t>(i * 7 + 3)};
  return out;
}

Tins::RawPDU raw(const bytes& b) { return Tins::RawPDU(u8ptr(b), u32size(b)); }

// The child's UDP probe 10.0.2.15:40000 -> 192.0.2.7:33434.
bytes child_udp_v4(std::size_t payload_len, std::uint8_t ttl = 1) {
  Tins::IP ip("192.0.2.7", "10.0.2.15");
  ip.ttl(ttl);
  auto pkt = Tins::EthernetII(gw_hw, child_hw) / ip / Tins::UDP(33434, 40000) / raw(pattern(payload_len));
  return serialize(pkt);
}

// The child's UDP probe [fd00::f]:40000 -> [2001:db8::7]:33434.
bytes child_udp_v6(std::size_t payload_len) {
  Tins::IPv6 ip("2001:db8::7", "fd00::f");
  ip.hop_limit(1);
  auto pkt = Tins::EthernetII(gw_hw, child_hw) / ip / Tins::UDP(33434, 40000) / raw(pattern(payload_len));
  return serialize(pkt);
}

frame parsed(const bytes& f) {
  auto r = parse_frame(f);
  REQUIRE(r.has_value());
  return *r;
}

ip_address v4_of(const char* s) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  REQUIRE(std::sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) == 4);
  return v4(static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b), static_cast<std::uint8_t>(c),
            static_cast<std::uint8_t>(d));
}

ip_address v6_of(const char* s) {
  const Tins::IPv6Address a(s);
  ip_address out;
  out.v6 = true;
  std::copy(a.begin(), a.end(), out.bytes.begin());
  return out;
}

icmp_error_spec error_spec(const frame& child, const ip_address& from, std::uint8_t type, std::uint8_t code) {
  icmp_error_spec s;
  s.src_mac = gw_mac;
  s.dst_mac = child_mac;
  s.from = from;
  s.to = child.src;
  s.type = type;
  s.code = code;
  s.quoted_ip_packet = child.ip_packet;
  return s;
}

bytes sub(const bytes& b, std::size_t off, std::size_t n) {
  return bytes(b.begin() + static_cast<std::ptrdiff_t>(off), b.begin() + static_cast<std::ptrdiff_t>(off + n));
}

bytes tail(const bytes& b, std::size_t off) { return sub(b, off, b.size() - off); }

bytes as_bytes(std::span<const std::byte> s) { return bytes(s.begin(), s.end()); }

// Common checks on an IPv4 error: Ethernet, IP header, ICMP checksum over
// the message alone; returns the quote.
bytes check_v4_error(const bytes& out, const char* from, std::uint8_t type, std::uint8_t code,
                     std::uint8_t ttl = 64) {
  Tins::EthernetII eth(u8ptr(out), u32size(out));
  CHECK(eth.src_addr() == gw_hw);
  CHECK(eth.dst_addr() == child_hw);
  const auto& ip = eth.rfind_pdu<Tins::IP>();
  CHECK(ip.src_addr() == Tins::IPv4Address(from));
  CHECK(ip.dst_addr() == Tins::IPv4Address("10.0.2.15"));
  CHECK(ip.protocol() == proto_icmp);
  CHECK(ip.ttl() == ttl);
  CHECK(ip.tot_len() == out.size() - 14);
  CHECK(verify_ipv4_header(out) == 0);
  const auto& icmp = eth.rfind_pdu<Tins::ICMP>();
  CHECK(icmp.type() == type);
  CHECK(icmp.code() == code);
  CHECK(naive_checksum(tail(out, 34)) == 0);
  return tail(out, 42);
}

// Same for IPv6 (checksum with the pseudo-header).
bytes check_v6_error(const bytes& out, const char* from, std::uint8_t type, std::uint8_t code) {
  Tins::EthernetII eth(u8ptr(out), u32size(out));
  CHECK(eth.src_addr() == gw_hw);
  CHECK(eth.dst_addr() == child_hw);
  const auto& ip = eth.rfind_pdu<Tins::IPv6>();
  CHECK(ip.src_addr() == Tins::IPv6Address(from));
  CHECK(ip.dst_addr() == Tins::IPv6Address("fd00::f"));
  CHECK(ip.next_header() == proto_icmpv6);
  CHECK(ip.hop_limit() == 64);
  CHECK(ip.payload_length() == out.size() - 54);
  const auto& icmp = eth.rfind_pdu<Tins::ICMPv6>();
  CHECK(icmp.type() == type);
  CHECK(icmp.code() == code);
  CHECK(verify_l4(out) == 0);
  return tail(out, 62);
}

}  // namespace

TEST_CASE("IPv4 port unreachable quotes the child's whole UDP datagram", "[icmp]") {
  const bytes child = child_udp_v4(32);
  const frame f = parsed(child);
  const bytes out = build_icmp_error(error_spec(f, v4_of("192.0.2.7"), icmp4::dest_unreachable,
                                                icmp4::port_unreachable));
  const bytes quote = check_v4_error(out, "192.0.2.7", 3, 3);
  CHECK(get16(out, 38) == 0);  // unused
  CHECK(get16(out, 40) == 0);
  REQUIRE(quote == as_bytes(f.ip_packet));
  const Tins::IP inner(u8ptr(quote), u32size(quote));
  CHECK(inner.src_addr() == Tins::IPv4Address("10.0.2.15"));
  CHECK(inner.dst_addr() == Tins::IPv4Address("192.0.2.7"));
  CHECK(inner.rfind_pdu<Tins::UDP>().sport() == 40000);
  CHECK(inner.rfind_pdu<Tins::UDP>().dport() == 33434);

  // Our own parser reads it back, and will not answer an error with one.
  const frame back = parsed(out);
  CHECK(back.kind == l4_kind::icmp);
  CHECK(back.src == v4_of("192.0.2.7"));
  CHECK(back.dst == f.src);
  CHECK_FALSE(may_answer_with_error(back));
}

TEST_CASE("IPv4 time exceeded comes from the hop with the given TTL", "[icmp]") {
  const bytes in_f = child_udp_v4(10);
  const frame f = parsed(in_f);
  auto s = error_spec(f, v4_of("10.9.8.1"), icmp4::time_exceeded, icmp4::ttl_exceeded);
  s.ttl = 255;
  const bytes out = build_icmp_error(s);
  const bytes quote = check_v4_error(out, "10.9.8.1", 11, 0, 255);
  CHECK(quote == as_bytes(f.ip_packet));
  CHECK(Tins::IP(u8ptr(quote), u32size(quote)).ttl() == 1);
}

TEST_CASE("IPv4 unreachable codes and frag-needed MTU", "[icmp]") {
  const bytes in_f = child_udp_v4(8);
  const frame f = parsed(in_f);
  const std::uint8_t code = GENERATE(icmp4::net_unreachable, icmp4::host_unreachable, icmp4::port_unreachable,
                                     icmp4::admin_prohibited);
  check_v4_error(build_icmp_error(error_spec(f, v4_of("192.0.2.7"), 3, code)), "192.0.2.7", 3, code);

  auto s = error_spec(f, v4_of("192.0.2.1"), icmp4::dest_unreachable, icmp4::frag_needed);
  s.rest = 1400;
  const bytes out = build_icmp_error(s);
  check_v4_error(out, "192.0.2.1", 3, 4);
  Tins::EthernetII eth(u8ptr(out), u32size(out));
  CHECK(eth.rfind_pdu<Tins::ICMP>().mtu() == 1400);
  CHECK(get16(out, 38) == 0);
}

TEST_CASE("IPv4 error quotes at most 548 bytes (576-byte packet)", "[icmp]") {
  const bytes in_f = child_udp_v4(1400);
  const frame f = parsed(in_f);
  const bytes out = build_icmp_error(error_spec(f, v4_of("192.0.2.7"), 3, 3));
  REQUIRE(out.size() == 14 + icmp4::error_max_ip_len);
  const bytes quote = check_v4_error(out, "192.0.2.7", 3, 3);
  REQUIRE(quote.size() == 548);
  CHECK(quote == as_bytes(f.ip_packet.first(548)));
  // The inner header and ports are still there; its length says 1428.
  CHECK(get16(quote, 2) == 1428);
  CHECK(get16(quote, 20) == 40000);
  CHECK(get16(quote, 22) == 33434);

  // Exactly at the limit and just below: quoted whole.
  for (std::size_t len : {548u - 28u, 547u - 28u}) {
    const bytes in_g = child_udp_v4(len);
    const frame g = parsed(in_g);
    const bytes o = build_icmp_error(error_spec(g, v4_of("192.0.2.7"), 3, 3));
    CHECK(tail(o, 42) == as_bytes(g.ip_packet));
  }
}

TEST_CASE("IPv6 port unreachable quotes the child's whole UDP datagram", "[icmp]") {
  const bytes in_f = child_udp_v6(33);
  const frame f = parsed(in_f);
  const bytes out = build_icmp_error(error_spec(f, v6_of("2001:db8::7"), icmp6::dest_unreachable,
                                                icmp6::port_unreachable));
  const bytes quote = check_v6_error(out, "2001:db8::7", 1, 4);
  CHECK(get16(out, 58) == 0);
  CHECK(get16(out, 60) == 0);
  REQUIRE(quote == as_bytes(f.ip_packet));
  const Tins::IPv6 inner(u8ptr(quote), u32size(quote));
  CHECK(inner.src_addr() == Tins::IPv6Address("fd00::f"));
  CHECK(inner.dst_addr() == Tins::IPv6Address("2001:db8::7"));
  CHECK(inner.rfind_pdu<Tins::UDP>().sport() == 40000);
  CHECK(inner.rfind_pdu<Tins::UDP>().dport() == 33434);
  CHECK_FALSE(may_answer_with_error(parsed(out)));
}

TEST_CASE("IPv6 unreachable codes and time exceeded", "[icmp]") {
  const bytes in_f = child_udp_v6(8);
  const frame f = parsed(in_f);
  const std::uint8_t code = GENERATE(icmp6::no_route, icmp6::admin_prohibited, icmp6::address_unreachable,
                                     icmp6::port_unreachable);
  check_v6_error(build_icmp_error(error_spec(f, v6_of("2001:db8::7"), 1, code)), "2001:db8::7", 1, code);
  const bytes te = build_icmp_error(error_spec(f, v6_of("fd00::1"), icmp6::time_exceeded,
                                               icmp6::hop_limit_exceeded));
  CHECK(check_v6_error(te, "fd00::1", 3, 0) == as_bytes(f.ip_packet));
}

TEST_CASE("IPv6 packet too big carries the MTU and fits in 1280 bytes", "[icmp]") {
  const bytes in_f = child_udp_v6(1452);
  const frame f = parsed(in_f);  // a 1500-byte packet
  auto s = error_spec(f, v6_of("fd00::1"), icmp6::packet_too_big, 0);
  s.rest = 1280;
  const bytes out = build_icmp_error(s);
  REQUIRE(out.size() == 14 + icmp6::error_max_ip_len);
  const bytes quote = check_v6_error(out, "fd00::1", 2, 0);
  CHECK(get16(out, 58) == 0);
  CHECK(get16(out, 60) == 1280);
  REQUIRE(quote.size() == 1232);
  CHECK(quote == as_bytes(f.ip_packet.first(1232)));
  CHECK(get16(quote, 4) == 1460);  // the inner payload length is the original's
  CHECK(get16(quote, 40) == 40000);
  CHECK(get16(quote, 42) == 33434);
}

TEST_CASE("ICMP error edge cases: empty quote, mixed families", "[icmp]") {
  icmp_error_spec s;
  s.src_mac = gw_mac;
  s.dst_mac = child_mac;
  s.from = v4(192, 0, 2, 7);
  s.to = v4(10, 0, 2, 15);
  s.type = icmp4::dest_unreachable;
  s.code = icmp4::host_unreachable;
  const bytes out = build_icmp_error(s);
  REQUIRE(out.size() == 42);
  check_v4_error(out, "192.0.2.7", 3, 1);

  s.to = v6(15);
  CHECK(build_icmp_error(s).empty());
  s.from = v6(1);
  s.type = icmp6::dest_unreachable;
  const bytes out6 = build_icmp_error(s);
  REQUIRE(out6.size() == 62);
  CHECK(verify_l4(out6) == 0);
}

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
