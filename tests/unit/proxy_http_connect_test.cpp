// Unit tests for the HTTP CONNECT codec: requests byte for byte (with and
// without Basic auth, every target form), and scripted proxy responses fed in
// one piece and byte by byte: success with tunnel data behind it, refusals,
// interim 1xx, truncation, the 16 KiB header limit, and hostile input
// (other protocols, NULs, malformed status lines, random garbage).
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>

#include "net/proxy/http_connect.hpp"
#include "proxy_test_util.hpp"

using namespace netpen::proxy;
using namespace proxy_test;
using st = connect_response_parser::status;

namespace {

st feed_all(connect_response_parser& p, std::string_view s) { return p.feed(text(s)); }

// Feeds `s` one byte at a time until the parser decides. With `to_the_end`,
// it must decide exactly on the last byte. Returns the final status.
st feed_bytewise(connect_response_parser& p, std::string_view s, bool to_the_end = true) {
  st last = st::need_more;
  for (std::size_t i = 0; i < s.size(); ++i) {
    last = p.feed(text(s.substr(i, 1)));
    if (last != st::need_more) {
      if (to_the_end) CHECK(i + 1 == s.size());
      break;
    }
  }
  return last;
}

// A complete 200 response whose header block is exactly `total` bytes.
std::string response_of_size(std::size_t total) {
  const std::string head = "HTTP/1.1 200 OK\r\nX-Pad: ";
  const std::string tail = "\r\n\r\n";
  return head + std::string(total - head.size() - tail.size(), 'p') + tail;
}

}  // namespace

TEST_CASE("HTTP CONNECT: request for a name without credentials", "[proxy]") {
  CHECK(build_connect_request(name_target("example.com", 443), std::nullopt) ==
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
}

TEST_CASE("HTTP CONNECT: request with Basic proxy authentication", "[proxy]") {
  const auto req = build_connect_request(name_target("example.com", 443), credentials{"Aladdin", "open sesame"});
  CHECK(req ==
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
        "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");
}

TEST_CASE("HTTP CONNECT: request for IPv4 and bracketed IPv6 addresses", "[proxy]") {
  CHECK(build_connect_request(v4_target(203, 0, 113, 10, 8080), std::nullopt) ==
        "CONNECT 203.0.113.10:8080 HTTP/1.1\r\nHost: 203.0.113.10:8080\r\n\r\n");
  CHECK(build_connect_request(v6_target(443), std::nullopt) ==
        "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n");
  CHECK(build_connect_request(v4_target(0, 0, 0, 0, 0), credentials{"", ""}) ==
        "CONNECT 0.0.0.0:0 HTTP/1.1\r\nHost: 0.0.0.0:0\r\nProxy-Authorization: Basic Og==\r\n\r\n");
}

TEST_CASE("HTTP CONNECT: request never carries an injected name", "[proxy]") {
  const auto t = name_target("example.com\r\nX-Evil: 1\r\n", 443);
  CHECK(validate_connect_request(t, std::nullopt));
  CHECK(build_connect_request(t, std::nullopt) ==
        "CONNECT 203.0.113.10:443 HTTP/1.1\r\nHost: 203.0.113.10:443\r\n\r\n");
}

TEST_CASE("HTTP CONNECT: validate_connect_request checks the name and the user", "[proxy]") {
  CHECK(validate_connect_request(name_target("example.com", 443), credentials{"u", "p:with\x7f:colons"}));
  CHECK_FALSE(validate_connect_request(name_target("example.com", 443), credentials{"u", "p:with:colons"}));
  CHECK_FALSE(validate_connect_request(v6_target(1), std::nullopt));
  const auto colon = validate_connect_request(v6_target(1), credentials{"a:b", "p"});
  REQUIRE(colon);
  CHECK(colon->find("':'") != std::string::npos);
  CHECK(validate_connect_request(v6_target(1), credentials{"a\nb", "p"}));
  CHECK(validate_connect_request(name_target(std::string(300, 'x'), 1), std::nullopt));
}

TEST_CASE("HTTP CONNECT: 200 response in one piece", "[proxy]") {
  connect_response_parser p;
  CHECK(p.current() == st::need_more);
  REQUIRE(feed_all(p, "HTTP/1.1 200 Connection established\r\n\r\n") == st::done);
  CHECK(p.code() == 200);
  CHECK(p.reason() == "Connection established");
  CHECK(p.success());
  CHECK(p.leftover().empty());
  CHECK(p.error().empty());
  CHECK(p.describe() == "proxy answered 200 Connection established");
}

TEST_CASE("HTTP CONNECT: 200 response byte by byte, with headers, then tunnel data", "[proxy]") {
  const std::string resp = "HTTP/1.1 200 OK\r\nProxy-Agent: squid/6\r\nVia: 1.1 proxy\r\n\r\n";
  connect_response_parser p;
  REQUIRE(feed_bytewise(p, resp) == st::done);
  CHECK(p.success());
  CHECK(p.reason() == "OK");
  CHECK(p.leftover().empty());
  CHECK(p.feed(text("more")) == st::done);  // ignored after done
  CHECK(p.leftover().empty());
}

TEST_CASE("HTTP CONNECT: tunnel bytes in the same read are leftover", "[proxy]") {
  connect_response_parser p;
  const bytes tunnel = wire({0x16, 0x03, 0x01, 0x00, 0x00, '\r', '\n', '\r', '\n', 0x00});
  REQUIRE(p.feed(concat(text("HTTP/1.0 200 OK\r\n\r\n"), tunnel)) == st::done);
  CHECK(p.success());
  CHECK(to_bytes(p.leftover()) == tunnel);
}

TEST_CASE("HTTP CONNECT: tunnel bytes after a response split across reads", "[proxy]") {
  connect_response_parser p;
  CHECK(feed_all(p, "HTTP/1.1 200 OK\r") == st::need_more);
  CHECK(feed_all(p, "\nServer: x\r\n\r") == st::need_more);
  REQUIRE(feed_all(p, "\nSSH-2.0-OpenSSH_9.2\r\n") == st::done);
  CHECK(to_string(p.leftover()) == "SSH-2.0-OpenSSH_9.2\r\n");
}

TEST_CASE("HTTP CONNECT: HTTP/1.0, any 2xx, bare LF and no reason phrase", "[proxy]") {
  for (const char* resp : {"HTTP/1.0 200 Connection established\n\n", "HTTP/1.1 204 No Content\r\n\r\n",
                           "HTTP/1.1 299 Whatever\nA: b\n\n", "HTTP/1.1 200\r\n\r\n", "HTTP/1.1 200 \r\n\r\n",
                           "HTTP/1.1  200  OK\r\n\r\n", "HTTP/1.1 200 OK\r\nX: y\n\r\n"}) {
    INFO(resp);
    connect_response_parser p;
    REQUIRE(feed_all(p, resp) == st::done);
    CHECK(p.success());
  }
  connect_response_parser p;
  REQUIRE(feed_all(p, "HTTP/1.1 200\r\n\r\n") == st::done);
  CHECK(p.reason().empty());
  CHECK(p.describe() == "proxy answered 200");
}

TEST_CASE("HTTP CONNECT: header fields of any shape are tolerated", "[proxy]") {
  connect_response_parser p;
  REQUIRE(feed_all(p,
                   "HTTP/1.1 200 OK\r\n"
                   "no colon at all\r\n"
                   " folded: continuation\r\n"
                   ": empty name\r\n"
                   "X-Bin: \x01\x02\xff\xfe\r\n"
                   "X-CR: a\rb\r\n"
                   "\r\n") == st::done);
  CHECK(p.success());
}

TEST_CASE("HTTP CONNECT: 407 describes the refusal with a hint about credentials", "[proxy]") {
  connect_response_parser p;
  REQUIRE(feed_bytewise(p,
                        "HTTP/1.1 407 Proxy Authentication Required\r\n"
                        "Proxy-Authenticate: Basic realm=\"proxy\"\r\nContent-Length: 0\r\n\r\n") == st::done);
  CHECK(p.code() == 407);
  CHECK_FALSE(p.success());
  CHECK(p.describe() ==
        "proxy answered 407 Proxy Authentication Required (check --proxy-user/--proxy-password)");
}

TEST_CASE("HTTP CONNECT: other refusals are described with their code and reason", "[proxy]") {
  connect_response_parser forbidden;
  REQUIRE(feed_all(forbidden, "HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!") == st::done);
  CHECK_FALSE(forbidden.success());
  CHECK(forbidden.describe() == "proxy answered 403 Forbidden");
  CHECK(to_string(forbidden.leftover()) == "nope!");

  connect_response_parser bad_gateway;
  REQUIRE(feed_all(bad_gateway, "HTTP/1.0 502\n\n") == st::done);
  CHECK(bad_gateway.describe() == "proxy answered 502");

  connect_response_parser redirect;
  REQUIRE(feed_all(redirect, "HTTP/1.1 301 Moved\r\n\r\n") == st::done);
  CHECK_FALSE(redirect.success());
}

TEST_CASE("HTTP CONNECT: interim 1xx responses are skipped", "[proxy]") {
  const std::string resp = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: 1\r\n\r\nHTTP/1.1 200 OK\r\n\r\nT";
  connect_response_parser whole;
  REQUIRE(feed_all(whole, resp) == st::done);
  CHECK(whole.code() == 200);
  CHECK(whole.reason() == "OK");
  CHECK(to_string(whole.leftover()) == "T");

  connect_response_parser bytewise;
  REQUIRE(feed_bytewise(bytewise, std::string_view(resp).substr(0, resp.size() - 1)) == st::done);
  CHECK(bytewise.code() == 200);
  CHECK(bytewise.leftover().empty());

  connect_response_parser then_bad;
  CHECK(feed_all(then_bad, "HTTP/1.1 100 Continue\r\n\r\nSSH-2.0-x\r\n") == st::failed);
  CHECK(then_bad.error() == "not an HTTP response");
}

TEST_CASE("HTTP CONNECT: every truncation of a response needs more", "[proxy]") {
  const std::string resp = "HTTP/1.1 200 Connection established\r\nVia: 1.1 p\r\n\r\n";
  for (std::size_t n = 0; n < resp.size(); ++n) {
    connect_response_parser p;
    CHECK(feed_all(p, resp.substr(0, n)) == st::need_more);
    CHECK_FALSE(p.success());
    CHECK(p.leftover().empty());
  }
  connect_response_parser p;
  CHECK(feed_all(p, "HTTP/1.1 200 OK\r\n") == st::need_more);
  CHECK(p.describe() == "proxy closed the connection before completing its response");
}

TEST_CASE("HTTP CONNECT: a non-HTTP server fails on its first bytes", "[proxy]") {
  connect_response_parser ssh;
  CHECK(feed_all(ssh, "S") == st::failed);
  CHECK(ssh.error() == "not an HTTP response");
  CHECK(ssh.describe() == "bad proxy response: not an HTTP response");

  connect_response_parser socks;
  CHECK(socks.feed(wire({0x05, 0x00})) == st::failed);

  connect_response_parser lower;
  CHECK(feed_all(lower, "http/1.1 200 OK\r\n\r\n") == st::failed);

  connect_response_parser blank;
  CHECK(feed_all(blank, "\r\nHTTP/1.1 200 OK\r\n\r\n") == st::failed);

  connect_response_parser smtp;
  CHECK(feed_all(smtp, "HTTP") == st::need_more);
  CHECK(feed_all(smtp, "S") == st::failed);
  CHECK(feed_all(smtp, "HTTP/1.1 200 OK\r\n\r\n") == st::failed);  // stays failed
  CHECK(smtp.leftover().empty());
}

TEST_CASE("HTTP CONNECT: malformed and unsupported status lines fail", "[proxy]") {
  for (const char* line : {"HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 abc OK", "HTTP/1.1200 OK",
                           "HTTP/1.1 200OK", "HTTP/1.1 099 Low", "HTTP/1.1 -20 OK", "HTTP/1.1", "HTTP/1.1 ",
                           "HTTP/1.1 2", "HTTP/1.1\t200 OK"}) {
    INFO(line);
    connect_response_parser p;
    CHECK(feed_all(p, std::string(line) + "\r\n\r\n") == st::failed);
    CHECK(p.error() == "malformed status line");
    CHECK_FALSE(p.success());
  }
  for (const char* line : {"HTTP/2 200", "HTTP/2.0 200 OK", "HTTP/1.2 200 OK", "HTTP/0.9 200 OK", "HTTP/"}) {
    INFO(line);
    connect_response_parser p;
    CHECK(feed_all(p, std::string(line) + "\r\n\r\n") == st::failed);
    CHECK(p.error() == "unsupported HTTP version in status line");
  }
}

TEST_CASE("HTTP CONNECT: NUL bytes in the header block fail", "[proxy]") {
  connect_response_parser in_status;
  CHECK(in_status.feed(concat(text("HTTP/1.1 200 O"), wire({0x00, 'K', '\r', '\n', '\r', '\n'}))) == st::failed);
  CHECK(in_status.error() == "NUL byte in response header");

  connect_response_parser in_header;
  CHECK(feed_bytewise(in_header, std::string("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", 27), false) == st::failed);
  CHECK(in_header.error() == "NUL byte in response header");

  connect_response_parser all_nul;
  CHECK(all_nul.feed(bytes(64, std::byte{0})) == st::failed);
  CHECK(all_nul.error() == "not an HTTP response");
}

TEST_CASE("HTTP CONNECT: the reason phrase is sanitized and bounded", "[proxy]") {
  connect_response_parser p;
  REQUIRE(feed_all(p, "HTTP/1.1 403 \x1b[31mNo\tway\x7f \xc3\xa9t\xe9\r\r\n\r\n") == st::done);
  CHECK(p.reason() == "?[31mNo way? ??t??");
  for (char c : p.reason()) CHECK((c >= 0x20 && c <= 0x7e));

  connect_response_parser longer;
  REQUIRE(feed_all(longer, "HTTP/1.1 502 " + std::string(5000, 'x') + "\r\n\r\n") == st::done);
  CHECK(longer.reason() == std::string(max_reason_phrase, 'x'));
  CHECK(longer.describe() == "proxy answered 502 " + std::string(100, 'x'));
}

TEST_CASE("HTTP CONNECT: a header block of exactly 16384 bytes is accepted", "[proxy]") {
  const std::string resp = response_of_size(max_connect_response_header);
  REQUIRE(resp.size() == 16384);
  connect_response_parser whole;
  REQUIRE(feed_all(whole, resp + "tunnel") == st::done);
  CHECK(to_string(whole.leftover()) == "tunnel");
  connect_response_parser bytewise;
  CHECK(feed_bytewise(bytewise, resp) == st::done);
}

TEST_CASE("HTTP CONNECT: a header block over 16384 bytes fails", "[proxy]") {
  const std::string too_big = response_of_size(max_connect_response_header + 1);
  connect_response_parser whole;
  CHECK(feed_all(whole, too_big) == st::failed);
  CHECK(whole.error() == "response header larger than 16384 bytes");
  CHECK(whole.describe() == "bad proxy response: response header larger than 16384 bytes");

  connect_response_parser bytewise;
  CHECK(feed_bytewise(bytewise, too_big, false) == st::failed);

  // A header line that never ends fails as soon as the limit is passed.
  connect_response_parser endless;
  CHECK(feed_all(endless, "HTTP/1.1 200 OK\r\nX: ") == st::need_more);
  st s = st::need_more;
  std::size_t fed = 0;
  while (s == st::need_more && fed < 100000) {
    s = feed_all(endless, std::string(1000, 'a'));
    fed += 1000;
  }
  CHECK(s == st::failed);
  CHECK(fed <= 17000);

  // Many short header lines count too, as do interim responses.
  std::string many = "HTTP/1.1 200 OK\r\n";
  while (many.size() <= max_connect_response_header) many += "A: b\r\n";
  connect_response_parser lines;
  CHECK(feed_all(lines, many + "\r\n") == st::failed);

  std::string interim;
  while (interim.size() <= max_connect_response_header) interim += "HTTP/1.1 100 Continue\r\n\r\n";
  connect_response_parser continues;
  CHECK(feed_all(continues, interim + "HTTP/1.1 200 OK\r\n\r\n") == st::failed);
}

TEST_CASE("HTTP CONNECT: empty reads change nothing", "[proxy]") {
  connect_response_parser p;
  CHECK(p.feed({}) == st::need_more);
  CHECK(feed_all(p, "HTTP/1.1 200 OK\r\n\r\n") == st::done);
  CHECK(p.feed({}) == st::done);
}

TEST_CASE("HTTP CONNECT: random garbage never crashes the response parser", "[proxy]") {
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> byte(0, 255), len(0, 300);
  const std::string alphabet = "HTTP/1.0 2\r\n:x";
  for (int round = 0; round < 2000; ++round) {
    connect_response_parser p;
    // Half the rounds start like HTTP so the parser gets past the prefix check.
    bytes data = round % 2 ? text("HTTP/1.1 ") : bytes{};
    const int n = len(rng);
    for (int i = 0; i < n; ++i)
      data.push_back(round % 4 < 2 ? static_cast<std::byte>(byte(rng))
                                   : static_cast<std::byte>(alphabet[static_cast<std::size_t>(byte(rng)) %
                                                                     alphabet.size()]));
    std::size_t pos = 0;
    st s = st::need_more;
    while (pos < data.size() && s == st::need_more) {
      const std::size_t chunk = std::min<std::size_t>(data.size() - pos, static_cast<std::size_t>(len(rng) % 7));
      s = p.feed(std::span<const std::byte>(data).subspan(pos, chunk));
      pos += chunk;
    }
    if (s == st::done) {
      CHECK(p.code() >= 200);
      CHECK(p.leftover().size() <= data.size());
    }
    if (s == st::failed) CHECK_FALSE(p.error().empty());
    CHECK(p.reason().size() <= max_reason_phrase);
  }
}
