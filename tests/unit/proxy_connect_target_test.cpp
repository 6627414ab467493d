// Unit tests for connect_target's text forms: the host part of a proxy
// request (name, IPv4, bracketed IPv6, fallback for unusable names), name
// validation, and RFC 5952 IPv6 formatting.
#include <catch2/catch.hpp>

#include <string>

#include "net/proxy/connect_target.hpp"
#include "proxy_test_util.hpp"

using namespace netpen::proxy;
using namespace proxy_test;

TEST_CASE("connect_target: host_for_request prefers the name, else the address, v6 bracketed", "[proxy]") {
  CHECK(host_for_request(name_target("example.com", 443)) == "example.com");
  CHECK(host_for_request(v4_target(203, 0, 113, 10, 80)) == "203.0.113.10");
  CHECK(host_for_request(v6_target(443)) == "[2001:db8::1]");
  CHECK(address_text(v6_target(443)) == "2001:db8::1");
  CHECK(address_text(name_target("example.com", 443)) == "203.0.113.10");
}

TEST_CASE("connect_target: host_for_request falls back to the address for an unusable name", "[proxy]") {
  auto t = name_target("evil.com\r\nX-Injected: 1", 80);
  CHECK(host_for_request(t) == "203.0.113.10");
  CHECK(target_problem(t));
  t.name = "";
  CHECK(host_for_request(t) == "203.0.113.10");
  CHECK(*target_problem(t) == "destination name is empty");
  t.name = std::string(256, 'a');
  CHECK(host_for_request(t) == "203.0.113.10");
  CHECK(target_problem(t)->find("longer than 255") != std::string::npos);
  t.name = std::string(255, 'a');
  CHECK(host_for_request(t) == std::string(255, 'a'));
  CHECK_FALSE(target_problem(t));
  CHECK_FALSE(target_problem(v4_target(1, 2, 3, 4, 5)));
}

TEST_CASE("connect_target: valid_target_name accepts host names and rejects request syntax", "[proxy]") {
  CHECK(valid_target_name("example.com"));
  CHECK(valid_target_name("xn--bcher-kva.example."));
  CHECK(valid_target_name("_srv.my-host.internal"));
  CHECK_FALSE(valid_target_name(""));
  CHECK_FALSE(valid_target_name("a b"));
  CHECK_FALSE(valid_target_name("host:80"));
  CHECK_FALSE(valid_target_name("user@host"));
  CHECK_FALSE(valid_target_name("a/b"));
  CHECK_FALSE(valid_target_name(std::string("a\0b", 3)));
  CHECK_FALSE(valid_target_name("caf\xc3\xa9"));
}

TEST_CASE("connect_target: address_text formats v6 per RFC 5952", "[proxy]") {
  connect_target t;
  t.v6 = true;
  CHECK(address_text(t) == "::");
  t.address[15] = 1;
  CHECK(address_text(t) == "::1");
  t.address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};  // 2001:db8:0:1:0:0:0:1
  CHECK(address_text(t) == "2001:db8:0:1::1");
  t.address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};  // tie: first run wins
  CHECK(address_text(t) == "2001:db8::1:0:0:1");
  t.address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1};  // one zero group: not compressed
  CHECK(address_text(t) == "2001:db8:0:1:1:1:1:1");
  t.address = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  CHECK(address_text(t) == "fe80::");
  t.address = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
  CHECK(address_text(t) == "::ffff:192.0.2.1");
  t.address = {0xab, 0xcd, 0x0e, 0x0f, 0, 0x10, 0x01, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  CHECK(address_text(t) == "abcd:e0f:10:100::ffff");
  CHECK(host_for_request(t) == "[abcd:e0f:10:100::ffff]");
}
