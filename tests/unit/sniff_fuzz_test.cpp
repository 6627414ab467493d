// Deterministic mutation fuzzing of the sniffers (the libFuzzer targets in
// fuzz/ do the same for longer): random and mutated ClientHellos, HTTP
// heads, TCP streams in random chunks and QUIC Initials (mutated
// plaintext sealed by the builder, and mutated datagrams) must never
// crash, throw or read out of bounds (ASan in the debug preset), and a
// claim found must hold only normalised names.
#include <catch2/catch.hpp>

#include <random>

#include "net/sniff/http_request_head.hpp"
#include "net/sniff/quic_sniffer.hpp"
#include "net/sniff/stream_sniffer.hpp"
#include "net/sniff/tls_client_hello.hpp"
#include "tests/unit/quic_initial_builder.hpp"
#include "tests/unit/sniff_test_util.hpp"

using namespace netpen::sniff;
using namespace sniff_test;

namespace {

bool is_clean_name(std::string_view s) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  return s.empty() || (s.front() != '.' && s.back() != '.');
}

bool is_visible(std::string_view s) {
  for (char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

void check_claim(const claim& c) {
  REQUIRE(is_clean_name(c.sni));
  REQUIRE(is_clean_name(c.http_host));
  REQUIRE(is_visible(c.http_path));
  REQUIRE(c.http_path.find('?') == std::string::npos);
  for (const auto& a : c.alpn) REQUIRE(is_visible(a));
}

bytes mutate(bytes f, std::mt19937& rng) {
  if (f.empty()) return f;
  const int flips = 1 + static_cast<int>(rng() % 4);
  for (int k = 0; k < flips; ++k) {
    const std::size_t at = rng() % f.size();
    switch (rng() % 4) {
      case 0: f[at] = std::byte{static_cast<std::uint8_t>(rng())}; break;
      case 1: f[at] ^= std::byte{static_cast<std::uint8_t>(1u << (rng() % 8))}; break;
      case 2: f[at] = std::byte{static_cast<std::uint8_t>(rng() % 2 == 0 ? 0x00 : 0xff)}; break;
      default: f.insert(f.begin() + static_cast<std::ptrdiff_t>(at), std::byte{static_cast<std::uint8_t>(rng())}); break;
    }
  }
  if (rng() % 4 == 0) f.resize(rng() % (f.size() + 1));
  return f;
}

std::vector<bytes> hello_seeds() {
  return {openssl_client_hello("seed.example", {"h2", "http/1.1"}), openssl_client_hello("", {}),
          hand_built_client_hello({extension(0x1a1a, {}), sni_extension("g.example"), alpn_extension({"\x2a\x2a", "h3"}),
                                   extension(0xfe0d, from_hex("00000100"))})};
}

std::vector<bytes> http_seeds() {
  return {from_text("GET /a?b HTTP/1.1\r\nHost: h.example:80\r\nAccept: */*\r\n\r\n"),
          from_text("GET http://p.example:81/x?y HTTP/1.1\r\nHost: q\r\n\r\n"),
          from_text("CONNECT c.example:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n"), from_text("SSH-2.0-x\r\n")};
}

// Feeds `stream` to a stream_sniffer in random chunks.
void sniff_stream(const bytes& stream, std::mt19937& rng) {
  stream_sniffer s;
  for (std::size_t at = 0; at < stream.size() && s.current() == stream_sniffer::state::need_more;) {
    const std::size_t n = std::min<std::size_t>(stream.size() - at, 1 + rng() % 64);
    s.feed(std::span(stream).subspan(at, n));
    at += n;
  }
  check_claim(s.result());
}

}  // namespace

TEST_CASE("sniff fuzz: mutated ClientHellos never crash the parser", "[sniff][fuzz]") {
  std::mt19937 rng(19);
  const auto seeds = hello_seeds();
  std::size_t parsed = 0;
  for (int i = 0; i < 6000; ++i) {
    const bytes m = mutate(seeds[static_cast<std::size_t>(i) % seeds.size()], rng);
    if (auto c = parse_client_hello(m)) {
      check_claim(*c);
      ++parsed;
    }
  }
  CHECK(parsed > 0);
}

TEST_CASE("sniff fuzz: mutated HTTP heads never crash the parser", "[sniff][fuzz]") {
  std::mt19937 rng(1919);
  const auto seeds = http_seeds();
  for (int i = 0; i < 6000; ++i) {
    const bytes m = mutate(seeds[static_cast<std::size_t>(i) % seeds.size()], rng);
    const std::string_view text(reinterpret_cast<const char*>(m.data()), m.size());
    (void)could_start_request_line(text);
    if (auto c = parse_request_head(text)) check_claim(*c);
  }
}

TEST_CASE("sniff fuzz: mutated TCP streams in random chunks never crash the sniffer", "[sniff][fuzz]") {
  std::mt19937 rng(191919);
  std::vector<bytes> seeds = http_seeds();
  for (const auto& h : hello_seeds()) seeds.push_back(to_records(h, 1 + rng() % 300));
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 4000; ++i) {
    bytes m = mutate(seeds[static_cast<std::size_t>(i) % seeds.size()], rng);
    if (i % 10 == 0) {  // random bytes, some behind a handshake record header
      m.assign(rng() % 200, std::byte{0});
      for (auto& x : m) x = std::byte{static_cast<std::uint8_t>(byte(rng))};
      if (i % 20 == 0 && m.size() > 5) m[0] = std::byte{22};
    }
    sniff_stream(m, rng);
  }
}

TEST_CASE("sniff fuzz: mutated QUIC Initials never crash the sniffer", "[sniff][fuzz]") {
  std::mt19937 rng(9001);
  const auto hello = openssl_client_hello("q.example", {"h3"});
  const auto good = quic_test::initial_datagram(hello);
  for (int i = 0; i < 1500; ++i) {
    quic_sniffer s;
    if (i % 2 == 0) {  // mutated plaintext (frames and ClientHello), sealed properly
      s.feed(quic_test::initial_packet(mutate(quic_test::crypto_frame(0, hello), rng), {}));
    } else {  // a mutated datagram: mostly the header matters
      bytes d = good;
      d.resize(60);
      d = mutate(d, rng);
      d.insert(d.end(), good.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(d.size(), good.size())), good.end());
      s.feed(d);
    }
    check_claim(s.result());
  }
}
