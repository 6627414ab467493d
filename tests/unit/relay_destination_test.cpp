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
