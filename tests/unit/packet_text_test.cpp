// [packet] the text forms of addresses, endpoints and protocol numbers.
#include <catch2/catch.hpp>

#include "net/packet/packet_text.hpp"

using namespace netpen::packet;

namespace {

ip_address v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
  ip_address out;
  out.bytes[0] = a;
  out.bytes[1] = b;
  out.bytes[2] = c;
  out.bytes[3] = d;
  return out;
}

ip_address v6_2001_db8_1() {
  ip_address out;
  out.v6 = true;
  out.bytes[0] = 0x20;
  out.bytes[1] = 0x01;
  out.bytes[2] = 0x0d;
  out.bytes[3] = 0xb8;
  out.bytes[15] = 1;
  return out;
}

}  // namespace

TEST_CASE("addresses and endpoints as text", "[packet]") {
  CHECK(to_string(v4(203, 0, 113, 10)) == "203.0.113.10");
  CHECK(to_string(v6_2001_db8_1()) == "2001:db8::1");
  CHECK(endpoint_text(v4(203, 0, 113, 10), 80) == "203.0.113.10:80");
  CHECK(endpoint_text(v6_2001_db8_1(), 443) == "[2001:db8::1]:443");
}

TEST_CASE("IP protocol numbers as names", "[packet]") {
  CHECK(protocol_name(proto_tcp) == "tcp");
  CHECK(protocol_name(proto_udp) == "udp");
  CHECK(protocol_name(proto_icmp) == "icmp");
  CHECK(protocol_name(proto_icmpv6) == "icmpv6");
  CHECK(protocol_name(47) == "ip");
}
