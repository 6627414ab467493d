// Unit tests for the SOCKS5 client codec: scripted exchanges with exact bytes
// for every message (greetings, RFC 1929 auth, CONNECT for names, IPv4 and
// IPv6), replies in one piece, byte by byte and coalesced, tunnel data behind
// the reply, every reply code, and hostile or malformed proxies.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>

#include "net/proxy/socks5.hpp"
#include "proxy_test_util.hpp"

using namespace netpen::proxy;
using namespace proxy_test;
using st = socks5_client::status;

namespace {

// A success reply with an IPv4 bound address 192.0.2.1:4321.
bytes ok_reply_v4() { return wire({0x05, 0x00, 0x00, 0x01, 192, 0, 2, 1, 0x10, 0xe1}); }

// CONNECT example.com:443 by name.
bytes connect_example_com() {
  return concat(wire({0x05, 0x01, 0x00, 0x03, 11}), concat(text("example.com"), wire({0x01, 0xbb})));
}

// Runs the no-auth exchange up to the CONNECT reply.
socks5_client after_connect_sent(connect_target t) {
  socks5_client c(std::move(t), std::nullopt);
  CHECK(c.take_output() == wire({0x05, 0x01, 0x00}));
  CHECK(c.feed(wire({0x05, 0x00})) == st::need_more);
  CHECK_FALSE(c.take_output().empty());
  return c;
}

// Feeds `data` byte by byte; every byte but the last must leave the client waiting.
st feed_bytewise(socks5_client& c, const bytes& data) {
  st last = st::need_more;
  for (std::size_t i = 0; i < data.size(); ++i) {
    last = c.feed(std::span<const std::byte>(data).subspan(i, 1));
    if (last != st::need_more) {
      CHECK(i + 1 == data.size());
      break;
    }
  }
  return last;
}

// The error after the proxy answers a no-auth CONNECT with `reply`.
std::string reply_error(const bytes& reply) {
  auto c = after_connect_sent(name_target("example.com", 443));
  CHECK(c.feed(reply) == st::failed);
  CHECK(c.current() == st::failed);
  CHECK(c.leftover().empty());
  return c.error();
}

}  // namespace

TEST_CASE("SOCKS5 greeting offers no-auth, and username/password with credentials", "[proxy]") {
  socks5_client anonymous(name_target("example.com", 443), std::nullopt);
  CHECK(anonymous.current() == st::need_more);
  CHECK(anonymous.take_output() == wire({0x05, 0x01, 0x00}));
  CHECK(anonymous.take_output().empty());

  socks5_client with_creds(name_target("example.com", 443), credentials{"u", "p"});
  CHECK(with_creds.take_output() == wire({0x05, 0x02, 0x00, 0x02}));
  CHECK(with_creds.take_output().empty());
}

TEST_CASE("SOCKS5 no-auth CONNECT by name", "[proxy]") {
  socks5_client c(name_target("example.com", 443), std::nullopt);
  CHECK(c.take_output() == wire({0x05, 0x01, 0x00}));
  CHECK(c.feed(wire({0x05, 0x00})) == st::need_more);
  CHECK(c.take_output() == connect_example_com());
  CHECK(c.feed(ok_reply_v4()) == st::done);
  CHECK(c.current() == st::done);
  CHECK(c.leftover().empty());
  CHECK(c.error().empty());
  CHECK(c.take_output().empty());
}

TEST_CASE("SOCKS5 CONNECT by IPv4 and IPv6 address", "[proxy]") {
  socks5_client c4(v4_target(203, 0, 113, 10, 8080), std::nullopt);
  c4.take_output();
  c4.feed(wire({0x05, 0x00}));
  CHECK(c4.take_output() == wire({0x05, 0x01, 0x00, 0x01, 203, 0, 113, 10, 0x1f, 0x90}));

  socks5_client c6(v6_target(443), std::nullopt);
  c6.take_output();
  c6.feed(wire({0x05, 0x00}));
  CHECK(c6.take_output() == wire({0x05, 0x01, 0x00, 0x04, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                                  0x01, 0xbb}));
  CHECK(c6.feed(ok_reply_v4()) == st::done);
}

TEST_CASE("SOCKS5 port is big-endian at both extremes", "[proxy]") {
  socks5_client low(v4_target(10, 0, 0, 1, 1), std::nullopt);
  low.take_output();
  low.feed(wire({0x05, 0x00}));
  CHECK(low.take_output() == wire({0x05, 0x01, 0x00, 0x01, 10, 0, 0, 1, 0x00, 0x01}));

  socks5_client high(v4_target(10, 0, 0, 1, 65535), std::nullopt);
  high.take_output();
  high.feed(wire({0x05, 0x00}));
  CHECK(high.take_output() == wire({0x05, 0x01, 0x00, 0x01, 10, 0, 0, 1, 0xff, 0xff}));
}

TEST_CASE("SOCKS5 username/password exchange (RFC 1929)", "[proxy]") {
  socks5_client c(name_target("example.com", 443), credentials{"Aladdin", "open sesame"});
  CHECK(c.take_output() == wire({0x05, 0x02, 0x00, 0x02}));
  CHECK(c.feed(wire({0x05, 0x02})) == st::need_more);
  CHECK(c.take_output() == concat(concat(wire({0x01, 7}), text("Aladdin")), concat(wire({11}), text("open sesame"))));
  CHECK(c.feed(wire({0x01, 0x00})) == st::need_more);
  CHECK(c.take_output() == connect_example_com());
  CHECK(c.feed(ok_reply_v4()) == st::done);
}

TEST_CASE("SOCKS5 with credentials skips auth when the proxy picks no-auth", "[proxy]") {
  socks5_client c(name_target("example.com", 443), credentials{"u", "p"});
  c.take_output();
  CHECK(c.feed(wire({0x05, 0x00})) == st::need_more);
  CHECK(c.take_output() == connect_example_com());
  CHECK(c.feed(ok_reply_v4()) == st::done);
}

TEST_CASE("SOCKS5 empty password is sent as PLEN 0, 255-byte fields fit", "[proxy]") {
  socks5_client empty_pw(v4_target(1, 2, 3, 4, 5), credentials{"user", ""});
  empty_pw.take_output();
  empty_pw.feed(wire({0x05, 0x02}));
  CHECK(empty_pw.take_output() == concat(wire({0x01, 4}), concat(text("user"), wire({0}))));

  const std::string u(255, 'u'), p(255, 'p');
  socks5_client longest(v4_target(1, 2, 3, 4, 5), credentials{u, p});
  longest.take_output();
  longest.feed(wire({0x05, 0x02}));
  const bytes auth = longest.take_output();
  REQUIRE(auth.size() == 1 + 1 + 255 + 1 + 255);
  CHECK(auth[1] == std::byte{0xff});
  CHECK(auth[257] == std::byte{0xff});
}

TEST_CASE("SOCKS5 replies byte by byte, every bound address type", "[proxy]") {
  const bytes domain_reply = concat(wire({0x05, 0x00, 0x00, 0x03, 9}), concat(text("proxy.lan"), wire({0, 80})));
  const bytes v6_reply = wire({0x05, 0x00, 0x00, 0x04, 0x20, 0x01, 0x0d, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                               0x04, 0x00});
  const bytes empty_domain = wire({0x05, 0x00, 0x00, 0x03, 0, 0, 0});
  for (const bytes& reply : {ok_reply_v4(), domain_reply, v6_reply, empty_domain}) {
    socks5_client c(name_target("example.com", 443), credentials{"Aladdin", "open sesame"});
    CHECK(c.take_output().size() == 4);
    CHECK(feed_bytewise(c, wire({0x05, 0x02})) == st::need_more);
    CHECK(c.take_output().size() == 1 + 1 + 7 + 1 + 11);
    CHECK(feed_bytewise(c, wire({0x01, 0x00})) == st::need_more);
    CHECK(c.take_output() == connect_example_com());
    CHECK(feed_bytewise(c, reply) == st::done);
    CHECK(c.leftover().empty());
  }
}

TEST_CASE("SOCKS5 tunnel data after the reply is leftover", "[proxy]") {
  auto c = after_connect_sent(name_target("example.com", 443));
  const bytes tunnel = text("SSH-2.0-OpenSSH_9.2\r\n");
  CHECK(c.feed(concat(ok_reply_v4(), tunnel)) == st::done);
  CHECK(to_bytes(c.leftover()) == tunnel);
  CHECK(c.feed(text("later")) == st::done);  // ignored after done: the caller owns the stream now
  CHECK(to_bytes(c.leftover()) == tunnel);

  auto split = after_connect_sent(name_target("example.com", 443));
  const bytes whole = concat(wire({0x05, 0x00, 0x00, 0x03, 4, 'h', 'o', 's', 't', 0x01, 0xbb}), wire({0xde, 0xad}));
  CHECK(split.feed(std::span<const std::byte>(whole).first(6)) == st::need_more);
  CHECK(split.feed(std::span<const std::byte>(whole).subspan(6)) == st::done);
  CHECK(to_bytes(split.leftover()) == wire({0xde, 0xad}));
}

TEST_CASE("SOCKS5 answers coalesced into one read are all processed", "[proxy]") {
  socks5_client c(name_target("example.com", 443), credentials{"Aladdin", "open sesame"});
  c.take_output();
  const bytes all = concat(concat(wire({0x05, 0x02, 0x01, 0x00}), ok_reply_v4()), wire({0x42}));
  CHECK(c.feed(all) == st::done);
  const bytes out = c.take_output();  // the auth request and the CONNECT, in order
  const bytes expected = concat(concat(concat(wire({0x01, 7}), text("Aladdin")), concat(wire({11}), text("open sesame"))),
                                connect_example_com());
  CHECK(out == expected);
  CHECK(to_bytes(c.leftover()) == wire({0x42}));
}

TEST_CASE("SOCKS5 every truncation of the exchange needs more", "[proxy]") {
  const bytes answers = concat(wire({0x05, 0x02, 0x01, 0x00}),
                               concat(wire({0x05, 0x00, 0x00, 0x03, 9}), concat(text("proxy.lan"), wire({0, 80}))));
  for (std::size_t n = 0; n < answers.size(); ++n) {
    socks5_client c(name_target("example.com", 443), credentials{"a", "b"});
    c.take_output();
    CHECK(c.feed(std::span<const std::byte>(answers).first(n)) == st::need_more);
    CHECK(c.leftover().empty());
    CHECK(c.error().empty());
  }
}

TEST_CASE("SOCKS5 wrong version bytes name the byte", "[proxy]") {
  socks5_client http(name_target("example.com", 443), std::nullopt);
  http.take_output();
  CHECK(http.feed(text("H")) == st::failed);  // an HTTP proxy's "HTTP/1.1 400"
  CHECK(http.error() == "proxy is not a SOCKS5 server (version byte 0x48)");
  CHECK(http.take_output().empty());

  socks5_client socks4(name_target("example.com", 443), std::nullopt);
  socks4.take_output();
  CHECK(socks4.feed(wire({0x00, 0x5a})) == st::failed);
  CHECK(socks4.error() == "proxy is not a SOCKS5 server (version byte 0x00)");

  CHECK(reply_error(wire({0x04, 0x00, 0x00, 0x01, 1, 2, 3, 4, 0, 80})) ==
        "proxy is not a SOCKS5 server (version byte 0x04)");
}

TEST_CASE("SOCKS5 method 0xFF, with and without credentials", "[proxy]") {
  socks5_client anonymous(name_target("example.com", 443), std::nullopt);
  anonymous.take_output();
  CHECK(anonymous.feed(wire({0x05, 0xff})) == st::failed);
  CHECK(anonymous.error() ==
        "proxy accepted none of our authentication methods; it may need a user name and password (--proxy-user)");

  socks5_client with_creds(name_target("example.com", 443), credentials{"u", "p"});
  with_creds.take_output();
  CHECK(with_creds.feed(wire({0x05, 0xff})) == st::failed);
  CHECK(with_creds.error() == "proxy accepted none of our authentication methods");
}

TEST_CASE("SOCKS5 methods we did not offer fail", "[proxy]") {
  socks5_client userpass(name_target("example.com", 443), std::nullopt);
  userpass.take_output();
  CHECK(userpass.feed(wire({0x05, 0x02})) == st::failed);
  CHECK(userpass.error() == "proxy chose username/password authentication, which we did not offer");
  CHECK(userpass.take_output().empty());

  for (int method : {0x01, 0x03, 0x80, 0xfe}) {
    socks5_client c(name_target("example.com", 443), credentials{"u", "p"});
    c.take_output();
    CHECK(c.feed(wire({0x05, method})) == st::failed);
    char hex[5];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned>(method));
    CHECK(c.error() == std::string("proxy chose authentication method ") + hex + ", which we did not offer");
  }
}

TEST_CASE("SOCKS5 rejected credentials and bad auth replies", "[proxy]") {
  for (int code : {0x01, 0x02, 0xff}) {
    socks5_client c(name_target("example.com", 443), credentials{"u", "wrong"});
    c.take_output();
    c.feed(wire({0x05, 0x02}));
    c.take_output();
    CHECK(c.feed(wire({0x01, code})) == st::failed);
    CHECK(c.error() == "proxy rejected the user name or password");
    CHECK(c.take_output().empty());
  }
  socks5_client wrong_version(name_target("example.com", 443), credentials{"u", "p"});
  wrong_version.take_output();
  wrong_version.feed(wire({0x05, 0x02}));
  wrong_version.take_output();
  CHECK(wrong_version.feed(wire({0x05, 0x00})) == st::failed);
  CHECK(wrong_version.error() == "proxy sent a bad authentication reply (version byte 0x05)");
}

TEST_CASE("SOCKS5 every reply code maps to its RFC 1928 meaning", "[proxy]") {
  const char* meanings[] = {"general SOCKS server failure", "connection not allowed by ruleset",
                            "network unreachable", "host unreachable", "connection refused", "TTL expired",
                            "command not supported", "address type not supported"};
  for (int code = 1; code <= 8; ++code) {
    INFO(code);
    CHECK(reply_error(wire({0x05, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0})) ==
          std::string("proxy: ") + meanings[code - 1]);
    CHECK(reply_error(wire({0x05, code})) == std::string("proxy: ") + meanings[code - 1]);  // decided early
  }
  CHECK(reply_error(wire({0x05, 0x09, 0x00, 0x01, 0, 0, 0, 0, 0, 0})) == "proxy: unknown reply code 0x09");
  CHECK(reply_error(wire({0x05, 0xff})) == "proxy: unknown reply code 0xff");
  CHECK(reply_error(wire({0x05, 0x80, 0x00})) == "proxy: unknown reply code 0x80");
}

TEST_CASE("SOCKS5 reply with an unknown address type fails", "[proxy]") {
  CHECK(reply_error(wire({0x05, 0x00, 0x00, 0x02, 1, 2, 3, 4, 0, 80})) ==
        "proxy sent a reply with an unknown address type 0x02");
  CHECK(reply_error(wire({0x05, 0x00, 0x00, 0x00})) == "proxy sent a reply with an unknown address type 0x00");
  CHECK(reply_error(wire({0x05, 0x00, 0x00, 0xff})) == "proxy sent a reply with an unknown address type 0xff");
}

TEST_CASE("SOCKS5 reply with a nonzero reserved byte is tolerated", "[proxy]") {
  auto c = after_connect_sent(v6_target(443));
  CHECK(c.feed(wire({0x05, 0x00, 0x7f, 0x01, 1, 2, 3, 4, 0, 80, 'x'})) == st::done);
  CHECK(to_string(c.leftover()) == "x");
}

TEST_CASE("SOCKS5 refuses to build invalid messages", "[proxy]") {
  struct bad_case {
    connect_target target;
    std::optional<credentials> creds;
    std::string why;
  };
  const std::vector<bad_case> cases = {
      {name_target(std::string(256, 'a'), 443), std::nullopt, "destination name is longer than 255 bytes (256)"},
      {name_target("", 443), std::nullopt, "destination name is empty"},
      {name_target("bad name", 443), std::nullopt, "destination name contains characters a host name cannot have"},
      {v4_target(1, 2, 3, 4, 5), credentials{std::string(256, 'u'), "p"},
       "proxy user name is longer than 255 bytes, the SOCKS5 limit"},
      {v4_target(1, 2, 3, 4, 5), credentials{"u", std::string(256, 'p')},
       "proxy password is longer than 255 bytes, the SOCKS5 limit"},
      {v4_target(1, 2, 3, 4, 5), credentials{"", "p"}, "proxy user name is empty"},
  };
  for (const auto& bad : cases) {
    INFO(bad.why);
    CHECK(socks5_client::validate(bad.target, bad.creds) == bad.why);
    socks5_client c(bad.target, bad.creds);
    CHECK(c.current() == st::failed);
    CHECK(c.error() == bad.why);
    CHECK(c.take_output().empty());
    CHECK(c.feed(wire({0x05, 0x00})) == st::failed);
    CHECK(c.take_output().empty());
    CHECK(c.leftover().empty());
  }
  CHECK_FALSE(socks5_client::validate(name_target(std::string(255, 'a'), 443), credentials{"u", ""}));
}

TEST_CASE("SOCKS5 a 255-byte name is sent with length 0xff", "[proxy]") {
  const std::string name(255, 'n');
  socks5_client longest(name_target(name, 443), std::nullopt);
  longest.take_output();
  longest.feed(wire({0x05, 0x00}));
  const bytes req = longest.take_output();
  REQUIRE(req.size() == 4 + 1 + 255 + 2);
  CHECK(req[3] == std::byte{0x03});
  CHECK(req[4] == std::byte{0xff});
  CHECK(to_string(std::span<const std::byte>(req).subspan(5, 255)) == name);
}

TEST_CASE("SOCKS5 stays failed after a failure", "[proxy]") {
  socks5_client c(name_target("example.com", 443), std::nullopt);
  c.take_output();
  CHECK(c.feed(wire({0x05, 0xff})) == st::failed);
  const std::string why = c.error();
  CHECK(c.feed(wire({0x05, 0x00, 0x05, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0})) == st::failed);
  CHECK(c.error() == why);
  CHECK(c.take_output().empty());
  CHECK(c.leftover().empty());
}

TEST_CASE("SOCKS5 random garbage never crashes the client", "[proxy]") {
  std::mt19937 rng(1928);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 40);
  for (int round = 0; round < 3000; ++round) {
    std::optional<credentials> creds;
    if (round % 2) creds = credentials{"user", "pass"};
    socks5_client c(round % 3 ? name_target("example.com", 443) : v6_target(443), creds);
    c.take_output();
    // Mostly plausible prefixes so later stages get exercised too.
    bytes data;
    if (round % 4 != 0) data = wire({0x05, round % 3 ? 0x00 : 0x02, 0x01, 0x00, 0x05, 0x00, 0x00});
    const int n = len(rng);
    for (int i = 0; i < n; ++i) data.push_back(static_cast<std::byte>(byte(rng) % (round % 5 ? 8 : 256)));
    std::size_t pos = 0;
    st s = st::need_more;
    while (pos < data.size() && s == st::need_more) {
      const std::size_t chunk = std::min<std::size_t>(data.size() - pos, static_cast<std::size_t>(len(rng) % 5));
      s = c.feed(std::span<const std::byte>(data).subspan(pos, chunk));
      c.take_output();
      pos += chunk;
    }
    if (s == st::failed) CHECK_FALSE(c.error().empty());
    if (s == st::done) CHECK(c.leftover().size() <= data.size());
    if (s != st::done) CHECK(c.leftover().empty());
  }
}
