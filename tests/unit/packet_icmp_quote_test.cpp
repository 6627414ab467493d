// Unit tests for net/packet/icmp_quote: the tuple a child's Destination
// Unreachable quotes, read back from errors built by build_icmp_error around
// packets libtins made.
#include <catch2/catch.hpp>

#include <tins/ethernetII.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/tcp.h>

#include "net/packet/icmp.hpp"
#include "net/packet/icmp_quote.hpp"
#include "tests/unit/packet_icmp_test_util.hpp"
#include "tests/unit/packet_test_util.hpp"

using namespace netpen::packet;
using namespace packet_test;
using namespace icmp_test;

namespace {

// The child's error about `quoted` (a frame toward it), from `from`.
bytes error_about(const bytes& quoted, const ip_address& from, std::uint8_t type, std::uint8_t code,
                  std::size_t quote_len = 1500) {
  const frame q = parsed(quoted);
  icmp_error_spec s;
  s.src_mac = child_mac;
  s.dst_mac = gw_mac;
  s.from = from;
  s.to = q.src;
  s.type = type;
  s.code = code;
  s.quoted_ip_packet = q.ip_packet.first(std::min(quote_len, q.ip_packet.size()));
  return build_icmp_error(s);
}

// The gateway's SYN 10.0.2.2:49152 -> 10.0.2.15:8080.
bytes gateway_syn_v4() {
  Tins::TCP tcp(8080, 49152);
  tcp.set_flag(Tins::TCP::SYN, 1);
  auto pkt = Tins::EthernetII(child_hw, gw_hw) / Tins::IP("10.0.2.15", "10.0.2.2") / tcp;
  return serialize(pkt);
}

}  // namespace

TEST_CASE("a port unreachable's quote gives the UDP tuple it answers", "[icmp]") {
  const bytes err = error_about(child_udp_v4(16), v4_of("10.0.2.15"), icmp4::dest_unreachable, icmp4::port_unreachable);
  const auto q = parse_quoted_error(parsed(err));
  REQUIRE(q.has_value());
  CHECK(q->type == icmp4::dest_unreachable);
  CHECK(q->code == icmp4::port_unreachable);
  CHECK(q->protocol == proto_udp);
  CHECK(q->src == v4_of("10.0.2.15"));
  CHECK(q->dst == v4_of("192.0.2.7"));
  CHECK(q->src_port == 40000);
  CHECK(q->dst_port == 33434);
}

TEST_CASE("an ICMPv6 port unreachable's quote gives the UDP tuple", "[icmp]") {
  const bytes err = error_about(child_udp_v6(16), v6_of("fd00::f"), icmp6::dest_unreachable, icmp6::port_unreachable);
  const auto q = parse_quoted_error(parsed(err));
  REQUIRE(q.has_value());
  CHECK(q->code == icmp6::port_unreachable);
  CHECK(q->protocol == proto_udp);
  CHECK(q->src == v6_of("fd00::f"));
  CHECK(q->dst == v6_of("2001:db8::7"));
  CHECK(q->src_port == 40000);
  CHECK(q->dst_port == 33434);
}

TEST_CASE("a rejected SYN's quote gives the TCP tuple", "[icmp]") {
  const bytes err = error_about(gateway_syn_v4(), v4_of("10.0.2.15"), icmp4::dest_unreachable, icmp4::admin_prohibited);
  const auto q = parse_quoted_error(parsed(err));
  REQUIRE(q.has_value());
  CHECK(q->code == icmp4::admin_prohibited);
  CHECK(q->protocol == proto_tcp);
  CHECK(q->src == v4_of("10.0.2.2"));
  CHECK(q->dst == v4_of("10.0.2.15"));
  CHECK(q->src_port == 49152);
  CHECK(q->dst_port == 8080);
}

TEST_CASE("other ICMP messages and short quotes are not quoted errors", "[icmp]") {
  const bytes exceeded = error_about(child_udp_v4(16), v4_of("10.0.2.15"), icmp4::time_exceeded, 0);
  CHECK_FALSE(parse_quoted_error(parsed(exceeded)).has_value());
  // A quote of the IP header and half the ports.
  const bytes err = error_about(child_udp_v4(16), v4_of("10.0.2.15"), icmp4::dest_unreachable,
                                icmp4::port_unreachable, 20 + 2);
  CHECK_FALSE(parse_quoted_error(parsed(err)).has_value());
  CHECK_FALSE(parse_quoted_error(parsed(child_udp_v4(16))).has_value());
}
