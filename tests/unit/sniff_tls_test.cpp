// TLS ClientHello parsing (net/sniff/tls_client_hello): OpenSSL's own
// ClientHellos as the oracle, hand-built GREASE, ECH and IP-literal
// variants, and truncated or corrupted messages (no claim).
#include <catch2/catch.hpp>

#include "net/sniff/tls_client_hello.hpp"
#include "tests/unit/sniff_test_util.hpp"

using namespace netpen::sniff;
using namespace sniff_test;

TEST_CASE("sniff tls: OpenSSL's ClientHello gives its SNI and ALPN") {
  const auto hello = openssl_client_hello("www.Example.com", {"h2", "http/1.1"});
  const auto c = parse_client_hello(hello);
  REQUIRE(c);
  CHECK(c->protocol == claim_protocol::tls);
  CHECK(c->sni == "www.example.com");
  CHECK(c->alpn == std::vector<std::string>{"h2", "http/1.1"});
  CHECK_FALSE(c->ech);
  CHECK(c->name() == "www.example.com");
}

TEST_CASE("sniff tls: a ClientHello without SNI or ALPN is TLS without a name") {
  const auto c = parse_client_hello(openssl_client_hello("", {}));
  REQUIRE(c);
  CHECK(c->protocol == claim_protocol::tls);
  CHECK(c->sni.empty());
  CHECK(c->alpn.empty());
}

TEST_CASE("sniff tls: the protocol given is the claim's (QUIC uses the same parser)") {
  const auto c = parse_client_hello(openssl_client_hello("a.example", {}), claim_protocol::quic);
  REQUIRE(c);
  CHECK(c->protocol == claim_protocol::quic);
}

TEST_CASE("sniff tls: a trailing dot is dropped from the SNI") {
  const auto c = parse_client_hello(hand_built_client_hello({sni_extension("Host.Example.")}));
  REQUIRE(c);
  CHECK(c->sni == "host.example");
}

TEST_CASE("sniff tls: an IP literal in SNI names no host") {
  for (const char* ip : {"192.0.2.1", "2001:db8::1"}) {
    const auto c = parse_client_hello(hand_built_client_hello({sni_extension(ip)}));
    REQUIRE(c);
    CHECK(c->sni.empty());
  }
}

TEST_CASE("sniff tls: GREASE extensions, suites and ALPN values are tolerated and left out") {
  const bytes grease_ext = extension(0x3a3a, from_hex("00"));
  const bytes grease_ext2 = extension(0xfafa, {});
  const auto hello = hand_built_client_hello(
      {grease_ext, sni_extension("grease.example"), alpn_extension({"\x0a\x0a", "h2", "\xda\xda", "http/1.1"}), grease_ext2},
      {0x0a0a, 0x1301, 0xcaca});
  const auto c = parse_client_hello(hello);
  REQUIRE(c);
  CHECK(c->sni == "grease.example");
  CHECK(c->alpn == std::vector<std::string>{"h2", "http/1.1"});
}

TEST_CASE("sniff tls: ECH is flagged and the SNI seen is the outer one") {
  const auto hello = hand_built_client_hello({sni_extension("public.example"), extension(0xfe0d, from_hex("0000010001aabbcc"))});
  const auto c = parse_client_hello(hello);
  REQUIRE(c);
  CHECK(c->ech);
  CHECK(c->sni == "public.example");
}

TEST_CASE("sniff tls: other name types are skipped, a host_name is kept") {
  bytes entries{std::byte{7}};
  put_u16(entries, 3);
  append(entries, from_text("xyz"));
  entries.push_back(std::byte{0});
  put_u16(entries, 9);
  append(entries, from_text("a.example"));
  bytes list;
  put_u16(list, entries.size());
  append(list, entries);
  const auto c = parse_client_hello(hand_built_client_hello({extension(0, list)}));
  REQUIRE(c);
  CHECK(c->sni == "a.example");
}

TEST_CASE("sniff tls: malformed ClientHellos give no claim") {
  SECTION("every truncation") {
    const auto hello = openssl_client_hello("trunc.example", {"h2"});
    for (std::size_t n = 0; n < hello.size(); ++n) CHECK_FALSE(parse_client_hello(std::span(hello).first(n)));
  }
  SECTION("not a ClientHello") {
    auto hello = openssl_client_hello("x.example", {});
    hello[0] = std::byte{2};
    CHECK_FALSE(parse_client_hello(hello));
  }
  SECTION("a duplicate extension") {
    CHECK_FALSE(parse_client_hello(hand_built_client_hello({sni_extension("a.example"), sni_extension("b.example")})));
  }
  SECTION("two host_names") {
    bytes entries;
    for (std::string_view n : {"a.example", "b.example"}) {
      entries.push_back(std::byte{0});
      put_u16(entries, n.size());
      append(entries, from_text(n));
    }
    bytes list;
    put_u16(list, entries.size());
    append(list, entries);
    CHECK_FALSE(parse_client_hello(hand_built_client_hello({extension(0, list)})));
  }
  SECTION("an SNI that is not a host name") {
    CHECK_FALSE(parse_client_hello(hand_built_client_hello({sni_extension(std::string_view("evil\0.example", 13))})));
    CHECK_FALSE(parse_client_hello(hand_built_client_hello({sni_extension("a b.example")})));
    CHECK_FALSE(parse_client_hello(hand_built_client_hello({sni_extension("a..example")})));
    CHECK_FALSE(parse_client_hello(hand_built_client_hello({sni_extension("a.example..")})));  // fuzzer-found
    CHECK_FALSE(parse_client_hello(hand_built_client_hello({sni_extension(".a.example")})));
    CHECK_FALSE(parse_client_hello(hand_built_client_hello({sni_extension("")})));
  }
  SECTION("an extension longer than its block") {
    auto hello = hand_built_client_hello({sni_extension("a.example")});
    hello[hello.size() - 16] = std::byte{0x7f};  // inside the SNI extension's lengths
    CHECK_FALSE(parse_client_hello(hello));
  }
  SECTION("an odd cipher-suite length or no compression method") {
    auto hello = hand_built_client_hello({}, {0x1301});
    auto odd = hello;
    odd[4 + 2 + 32 + 1 + 32 + 1] = std::byte{3};
    CHECK_FALSE(parse_client_hello(odd));
    auto nocomp = hello;
    nocomp[4 + 2 + 32 + 1 + 32 + 2 + 2] = std::byte{0};
    CHECK_FALSE(parse_client_hello(nocomp));
  }
}
