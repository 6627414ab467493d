// Unit tests for net/packet/icmp error builders: libtins builds the child's
// packet and decodes the ICMP/ICMPv6 error quoting it; checksums are
// recomputed with the naive helpers from packet_test_util.hpp.
#include <catch2/catch.hpp>

#include <tins/ethernetII.h>
#include <tins/icmp.h>
#include <tins/icmpv6.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/rawpdu.h>
#include <tins/udp.h>

#include "net/packet/icmp.hpp"
#include "tests/unit/packet_icmp_test_util.hpp"
#include "tests/unit/packet_test_util.hpp"

using namespace netpen::packet;
using namespace packet_test;
using namespace icmp_test;

namespace {

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

