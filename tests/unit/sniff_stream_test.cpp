// The incremental TCP sniffer (net/sniff/stream_sniffer): OpenSSL's
// ClientHello and HTTP heads fed whole, split at every byte boundary,
// byte by byte and re-framed across many records; done as early as the
// bytes allow (SSH banners, binary), and the max_bytes bound.
#include <catch2/catch.hpp>

#include "net/sniff/stream_sniffer.hpp"
#include "tests/unit/sniff_test_util.hpp"

using namespace netpen::sniff;
using namespace sniff_test;

namespace {

// Feeds `stream` as two chunks split at `at`; the state after each feed.
std::pair<stream_sniffer::state, stream_sniffer> feed_split(const bytes& stream, std::size_t at) {
  stream_sniffer s;
  s.feed(std::span(stream).first(at));
  auto state = s.feed(std::span(stream).subspan(at));
  return {state, s};
}

void check_tls(const claim& c) {
  CHECK(c.protocol == claim_protocol::tls);
  CHECK(c.sni == "split.example");
  CHECK(c.alpn == std::vector<std::string>{"h2", "http/1.1"});
}

}  // namespace

TEST_CASE("sniff stream: a ClientHello is read whole and split at every byte boundary") {
  const auto records = openssl_client_hello_records("split.example", {"h2", "http/1.1"});
  for (std::size_t at = 0; at <= records.size(); ++at) {
    auto [state, s] = feed_split(records, at);
    REQUIRE(state == stream_sniffer::state::done);
    check_tls(s.result());
  }
}

TEST_CASE("sniff stream: a ClientHello across records, fed byte by byte") {
  const auto hello = handshake_of(openssl_client_hello_records("split.example", {"h2", "http/1.1"}));
  for (std::size_t record_size : {1u, 2u, 3u, 5u, 64u, 200u}) {
    const auto stream = to_records(hello, record_size);
    stream_sniffer s;
    for (std::size_t i = 0; i < stream.size(); ++i) {
      const auto state = s.feed(std::span(stream).subspan(i, 1));
      REQUIRE((state == stream_sniffer::state::done) == (i + 1 == stream.size()));
    }
    check_tls(s.result());
  }
}

TEST_CASE("sniff stream: bytes after the ClientHello are not needed") {
  auto stream = openssl_client_hello_records("split.example", {"h2", "http/1.1"});
  append(stream, from_hex("1703030010"));
  stream_sniffer s;
  CHECK(s.feed(stream) == stream_sniffer::state::done);
  check_tls(s.result());
  CHECK(s.feed(from_text("more")) == stream_sniffer::state::done);
}

TEST_CASE("sniff stream: an HTTP head split at every byte boundary") {
  const auto head = from_text("POST /api/v1?token=abc HTTP/1.1\r\nHost: Api.Example:8080\r\nContent-Length: 2\r\n\r\n{}");
  for (std::size_t at = 0; at <= head.size(); ++at) {
    auto [state, s] = feed_split(head, at);
    REQUIRE(state == stream_sniffer::state::done);
    CHECK(s.result().protocol == claim_protocol::http);
    CHECK(s.result().http_method == "POST");
    CHECK(s.result().http_host == "api.example");
    CHECK(s.result().http_path == "/api/v1");
  }
}

TEST_CASE("sniff stream: SSH and binary are done quickly with no claim") {
  stream_sniffer ssh;
  const auto banner = from_text("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u1\r\n");
  CHECK(ssh.feed(std::span(banner).first(4)) == stream_sniffer::state::need_more);
  CHECK(ssh.feed(std::span(banner).subspan(4, 1)) == stream_sniffer::state::done);
  CHECK(ssh.result().empty());
  for (const char* hex : {"00", "ff0102", "1703030010", "1602", "15030300020228", "160303000002"}) {
    stream_sniffer s;
    CHECK(s.feed(from_hex(hex)) == stream_sniffer::state::done);
    CHECK(s.result().empty());
  }
}

TEST_CASE("sniff stream: a malformed ClientHello is done with no claim") {
  auto stream = openssl_client_hello_records("split.example", {});
  stream[5] = std::byte{2};  // a ServerHello
  stream_sniffer s;
  CHECK(s.feed(stream) == stream_sniffer::state::done);
  CHECK(s.result().empty());
}

TEST_CASE("sniff stream: past max_bytes without an answer the sniffer gives up") {
  SECTION("an endless header") {
    stream_sniffer s;
    s.feed(from_text("GET / HTTP/1.1\r\nX: "));
    const bytes filler(1000, std::byte{'a'});
    auto state = stream_sniffer::state::need_more;
    for (int i = 0; i < 20 && state == stream_sniffer::state::need_more; ++i) state = s.feed(filler);
    CHECK(state == stream_sniffer::state::done);
    CHECK(s.result().empty());
  }
  SECTION("a ClientHello longer than max_bytes") {
    bytes stream = from_hex("16030100040100ffff");
    stream_sniffer s;
    CHECK(s.feed(stream) == stream_sniffer::state::done);
    CHECK(s.result().empty());
  }
}
