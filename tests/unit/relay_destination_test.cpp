// Unit tests for where the relay sends a child's connection.
#include <catch2/catch.hpp>
#include <string>

#include "net/relay/destination.hpp"
#include "net/relay/flow_key.hpp"
#include "tests/unit/address_test_util.hpp"

using netpen::relay::classify;
using netpen::relay::destination_kind;

using netpen_test::ip;

TEST_CASE("port 53 anywhere goes to the DNS forwarder", "[relay]") {
  CHECK(classify(ip("10.248.0.1"), 53).kind == destination_kind::dns_forwarder);
  CHECK(classify(ip("8.8.8.8"), 53).kind == destination_kind::dns_forwarder);
  CHECK(classify(ip("192.0.2.99"), 53).kind == destination_kind::dns_forwarder);
  CHECK(classify(ip("2001:db8::53"), 53).kind == destination_kind::dns_forwarder);
  CHECK(classify(ip("fd6e:7065:6e00::1"), 53).kind == destination_kind::dns_forwarder);
}

TEST_CASE("ordinary destinations are relayed", "[relay]") {
  CHECK(classify(ip("203.0.113.10"), 80).kind == destination_kind::relay);
  CHECK(classify(ip("2001:db8:2::10"), 443).kind == destination_kind::relay);
  CHECK(classify(ip("169.254.169.254"), 80).kind == destination_kind::relay);  // policy decides later
  CHECK(classify(ip("10.1.2.3"), 22).kind == destination_kind::relay);
}

TEST_CASE("destinations a remote machine cannot reach on the host are refused", "[relay]") {
  for (const char* a : {"127.0.0.1", "127.1.2.3", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::",
                        "ff02::1", "::ffff:127.0.0.1", "10.248.0.2", "fd6e:7065:6e00::2"}) {
    INFO(a);
    CHECK(classify(ip(a), 8080).kind == destination_kind::forbidden);
  }
  auto gw = classify(ip("10.248.0.1"), 80);
  CHECK(gw.kind == destination_kind::forbidden);
  CHECK(gw.reason == "gateway-port-closed");
  CHECK(classify(ip("fd6e:7065:6e00::1"), 22).kind == destination_kind::forbidden);
  CHECK(classify(ip("203.0.113.10"), 0).kind == destination_kind::forbidden);
}

TEST_CASE("flow keys print both families readably", "[relay]") {
  netpen::relay::flow_key k;
  k.protocol = netpen::packet::proto_tcp;
  k.src = ip("10.248.0.2");
  k.dst = ip("203.0.113.10");
  k.src_port = 40000;
  k.dst_port = 80;
  CHECK(netpen::relay::to_string(k) == "tcp 10.248.0.2:40000 -> 203.0.113.10:80");
  k.src = ip("fd6e:7065:6e00::2");
  k.dst = ip("2001:db8:2::10");
  CHECK(netpen::relay::to_string(k) == "tcp [fd6e:7065:6e00::2]:40000 -> [2001:db8:2::10]:80");
  CHECK(netpen::relay::flow_key_hash{}(k) == netpen::relay::flow_key_hash{}(k));
}

TEST_CASE("host-port: classify opens exactly the listed gateway ports, per protocol", "[relay]") {
  using netpen::relay::host_port;
  const netpen::relay::host_port_set ports({{false, 8080}, {false, 9000}, {true, 5353}, {true, 53}, {false, 53}});
  CHECK(classify(ip("10.248.0.1"), 8080, false, &ports).kind == destination_kind::host_port);
  CHECK(classify(ip("fd6e:7065:6e00::1"), 8080, false, &ports).kind == destination_kind::host_port);
  CHECK(classify(ip("10.248.0.1"), 5353, true, &ports).kind == destination_kind::host_port);
  // The other protocol, an unlisted port: closed as before.
  CHECK(classify(ip("10.248.0.1"), 8080, true, &ports).kind == destination_kind::forbidden);
  CHECK(classify(ip("10.248.0.1"), 5353, false, &ports).kind == destination_kind::forbidden);
  CHECK(classify(ip("10.248.0.1"), 8081, false, &ports).reason == "gateway-port-closed");
  // Port 53 at the gateway stays the forced DNS.
  CHECK(classify(ip("10.248.0.1"), 53, true, &ports).kind == destination_kind::dns_forwarder);
  CHECK(classify(ip("10.248.0.1"), 53, false, &ports).kind == destination_kind::dns_forwarder);
  // Only the gateway: other addresses at a listed port are judged as ever.
  CHECK(classify(ip("203.0.113.10"), 8080, false, &ports).kind == destination_kind::relay);
  CHECK(classify(ip("127.0.0.1"), 8080, false, &ports).kind == destination_kind::forbidden);
  CHECK(classify(ip("10.248.0.2"), 8080, false, &ports).kind == destination_kind::forbidden);
  CHECK(classify(ip("10.248.0.1"), 8080, false, nullptr).kind == destination_kind::forbidden);
}

TEST_CASE("the host port set sorts, drops duplicates and prints ranges", "[relay]") {
  using netpen::relay::host_port_set;
  const host_port_set ports({{false, 9002}, {false, 9000}, {false, 9001}, {false, 80}, {false, 80}, {true, 53}, {false, 0}});
  CHECK(ports.ports().size() == 5);
  CHECK(ports.contains(false, 9001));
  CHECK_FALSE(ports.contains(true, 9001));
  CHECK_FALSE(ports.contains(false, 0));
  CHECK(ports.of(true) == std::vector<std::uint16_t>{53});
  CHECK(to_text(ports) == "tcp 80, 9000-9002; udp 53");
  CHECK(to_text(host_port_set{}) == "none");
  CHECK(to_text(ports.at_gateway()) == "tcp 80, 9000-9002");  // 53 stays the gateway's DNS
}
