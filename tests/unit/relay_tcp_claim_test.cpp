// [relay] The deferred connect of a tcp_flow judged by claim (tcp_flow.hpp,
// "Judged by claim"): SYN-ACK first, the child's first bytes sniffed in the
// rx ring, judge_claim, and only then the host side (here the test's
// CONNECT proxy on 127.0.0.1, so the flow's own destination is never
// dialled). Also the passive sniffing of flows not judged by claim.
#include "tests/unit/relay_tcp_rig.hpp"

using namespace relay_test;

namespace {

std::string u16(std::size_t v) { return {static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)}; }
std::string u24(std::size_t v) { return static_cast<char>((v >> 16) & 0xff) + u16(v); }

// A TLS 1.2-framed ClientHello asking for `sni`, offering ALPN h2.
std::string client_hello(std::string_view sni) {
  const std::string entry = std::string(1, '\0') + u16(sni.size()) + std::string(sni);
  const std::string server_name = u16(0x0000) + u16(entry.size() + 2) + u16(entry.size()) + entry;
  const std::string protocols = std::string(1, '\x02') + "h2";
  const std::string alpn = u16(0x0010) + u16(protocols.size() + 2) + u16(protocols.size()) + protocols;
  const std::string extensions = server_name + alpn;
  const std::string body = std::string("\x03\x03", 2) + std::string(32, '\x2a') + std::string(1, '\0') + u16(2) +
                           std::string("\x13\x01", 2) + std::string("\x01\x00", 2) + u16(extensions.size()) +
                           extensions;
  const std::string handshake = std::string(1, '\x01') + u24(body.size()) + body;
  return std::string("\x16\x03\x01", 3) + u16(handshake.size()) + handshake;
}

constexpr std::uint32_t data_seq = child_isn + 1;
constexpr std::uint32_t data_ack = our_isn + 1;

// A rig whose flow goes to 203.0.113.10:443 through the test's proxy and is
// judged by claim; returns once the child's handshake is complete.
struct claim_rig {
  rig r;
  fake_connect_proxy proxy;
  claim_rig() {
    r.ctx->by_claim = true;
    r.ctx->settings_.proxy = &proxy.config;
    r.flow_key_dst_port = 443;
  }
  void start_and_handshake() {
    r.start(r.key_to(v4({203, 0, 113, 10}), 443), cfg_);
    const auto syn_ack = r.next_frame();
    REQUIRE(syn_ack);
    CHECK(syn_ack->flags == (flag::syn | flag::ack));
    CHECK_FALSE(connection_pending(proxy.listener, 0ms));  // answered before any connect
    r.send(data_seq, data_ack, flag::ack);
  }
  tcp::config cfg_;
};

// Frames until one has all of `flags`, bounded.
std::optional<rig::seen> frame_with(rig& r, std::uint8_t flags) {
  for (int i = 0; i < 10; ++i) {
    auto s = r.next_frame();
    if (!s || (s->flags & flags) == flags) return s;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("tcp_flow by claim: SYN-ACK first, then the ClientHello decides and reaches the host intact",
          "[relay][tcp_flow][claim]") {
  claim_rig c;
  c.start_and_handshake();
  const auto hello = client_hello("example.com");
  c.r.send(data_seq, data_ack, flag::ack | flag::psh, hello);
  REQUIRE(c.proxy.accept_tunnel());
  CHECK(c.proxy.read_exactly(hello.size()) == hello);
  asio::write(c.proxy.tunnel, asio::buffer(std::string_view("server hello")));
  const auto back = c.r.next_data_frame();
  REQUIRE(back);
  CHECK(back->payload == "server hello");
  std::lock_guard lock(c.r.ctx->mu);
  CHECK(c.r.ctx->judged == 0);  // never judged by address alone
  REQUIRE(c.r.ctx->claims.size() == 1);
  CHECK(c.r.ctx->claims[0].protocol == sniff::claim_protocol::tls);
  CHECK(c.r.ctx->claims[0].sni == "example.com");
  REQUIRE(c.r.ctx->opened_records.size() == 1);  // flow_open after the decision, with the claim
  CHECK(c.r.ctx->opened_records[0].claim.sni == "example.com");
  CHECK(c.r.ctx->opened_records[0].policy == "allowed-name");
}

TEST_CASE("tcp_flow by claim: a ClientHello split across segments is judged once, when complete",
          "[relay][tcp_flow][claim]") {
  claim_rig c;
  c.start_and_handshake();
  const auto hello = client_hello("split.example");
  const std::size_t cut1 = 3, cut2 = hello.size() / 2;  // inside the record header, then mid-handshake
  c.r.send(data_seq, data_ack, flag::ack, std::string_view(hello).substr(0, cut1));
  c.r.send(data_seq + cut1, data_ack, flag::ack, std::string_view(hello).substr(cut1, cut2 - cut1));
  CHECK_FALSE(connection_pending(c.proxy.listener, 150ms));  // still waiting for the rest
  c.r.send(static_cast<std::uint32_t>(data_seq + cut2), data_ack, flag::ack | flag::psh,
           std::string_view(hello).substr(cut2));
  REQUIRE(c.proxy.accept_tunnel());
  CHECK(c.proxy.read_exactly(hello.size()) == hello);
  std::lock_guard lock(c.r.ctx->mu);
  REQUIRE(c.r.ctx->claims.size() == 1);
  CHECK(c.r.ctx->claims[0].sni == "split.example");
}

TEST_CASE("tcp_flow by claim: a refused claim is an RST, a denied event, and no connection at all",
          "[relay][tcp_flow][claim]") {
  claim_rig c;
  c.r.ctx->claim_verdict = policy::decision{policy::verdict::deny, "sni-not-allowed", {}, "evil.example"};
  c.start_and_handshake();
  c.r.send(data_seq, data_ack, flag::ack | flag::psh, client_hello("evil.example"));
  const auto rst = frame_with(c.r, flag::rst);
  REQUIRE(rst);
  REQUIRE(c.r.finished_within(2s));
  CHECK_FALSE(connection_pending(c.proxy.listener, 300ms));  // the host side never saw anything
  std::lock_guard lock(c.r.ctx->mu);
  REQUIRE(c.r.ctx->denials.size() == 1);
  CHECK(c.r.ctx->denials[0].reason == "sni-not-allowed");
  REQUIRE(c.r.ctx->denied_claims.size() == 1);  // the denial carries what was claimed
  CHECK(c.r.ctx->denied_claims[0].sni == "evil.example");
  CHECK(c.r.ctx->opened_records.empty());
  REQUIRE(c.r.ctx->closed_records.size() == 1);
  CHECK_FALSE(c.r.ctx->closed_records[0].announced);
}

TEST_CASE("tcp_flow by claim: no bytes within the wait -> judged by address, and a server that speaks first works",
          "[relay][tcp_flow][claim]") {
  claim_rig c;
  c.start_and_handshake();
  const auto waited_from = std::chrono::steady_clock::now();
  REQUIRE(c.proxy.accept_tunnel(3s));
  const auto waited = std::chrono::steady_clock::now() - waited_from;
  CHECK(waited >= 200ms);   // the first-byte wait (250 ms) ...
  CHECK(waited < 1500ms);   // ... not the whole claim wait
  asio::write(c.proxy.tunnel, asio::buffer(std::string_view("SSH-2.0-netpen-test\r\n")));
  const auto banner = c.r.next_data_frame();
  REQUIRE(banner);
  CHECK(banner->payload == "SSH-2.0-netpen-test\r\n");
  // The child answers after the banner: its bytes flow as usual.
  c.r.send(data_seq, data_ack + 21, flag::ack | flag::psh, "SSH-2.0-client\r\n");
  CHECK(c.proxy.read_exactly(16) == "SSH-2.0-client\r\n");
  std::lock_guard lock(c.r.ctx->mu);
  REQUIRE(c.r.ctx->claims.size() == 1);
  CHECK(c.r.ctx->claims[0].empty());
  REQUIRE(c.r.ctx->opened_records.size() == 1);
}

TEST_CASE("tcp_flow by claim: the child's FIN during the wait is kept and relayed after its data",
          "[relay][tcp_flow][claim]") {
  claim_rig c;
  c.start_and_handshake();
  c.r.send(data_seq, data_ack, flag::ack, "GET /a HT");  // an incomplete request head
  c.r.send(data_seq + 9, data_ack, flag::ack | flag::fin);
  const auto sent_at = std::chrono::steady_clock::now();
  REQUIRE(c.proxy.accept_tunnel(3s));
  CHECK(std::chrono::steady_clock::now() - sent_at < 1500ms);  // the FIN ended the wait
  CHECK(c.proxy.read_exactly(9) == "GET /a HT");
  CHECK(c.proxy.sees_eof());  // then the half-close
  std::lock_guard lock(c.r.ctx->mu);
  REQUIRE(c.r.ctx->claims.size() == 1);
  CHECK(c.r.ctx->claims[0].empty());
}

TEST_CASE("tcp_flow by claim: the child's RST during the wait ends the flow without any connect",
          "[relay][tcp_flow][claim]") {
  claim_rig c;
  c.start_and_handshake();
  c.r.send(data_seq, data_ack, flag::ack, "\x16\x03\x01");
  c.r.send(data_seq + 3, data_ack, flag::rst);
  REQUIRE(c.r.finished_within(2s));
  CHECK_FALSE(connection_pending(c.proxy.listener, 300ms));
  std::lock_guard lock(c.r.ctx->mu);
  CHECK(c.r.ctx->claims.empty());  // nothing was decided
  CHECK(c.r.ctx->judged == 0);
  CHECK(c.r.ctx->denials.empty());
  CHECK(c.r.ctx->opened_records.empty());
}

TEST_CASE("tcp_flow by claim: a connect failure after the handshake is an RST, not an ICMP error",
          "[relay][tcp_flow][claim]") {
  claim_rig c;
  {
    asio::ip::tcp::acceptor probe(c.proxy.io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    c.proxy.config.endpoints = {probe.local_endpoint()};  // bound, then closed without listening
  }
  c.start_and_handshake();
  c.r.send(data_seq, data_ack, flag::ack | flag::psh, client_hello("example.com"));
  REQUIRE(frame_with(c.r, flag::rst));
  REQUIRE(c.r.finished_within(2s));
  std::lock_guard lock(c.r.ctx->mu);
  CHECK(c.r.ctx->icmp_errors == 0);
  REQUIRE(c.r.ctx->closed_records.size() == 1);
  CHECK(c.r.ctx->closed_records[0].end == "refused");
}

TEST_CASE("tcp_flow by claim: more bytes than the rx ring before the decision close the window, none is lost",
          "[relay][tcp_flow][claim]") {
  claim_rig c;
  c.cfg_.rx_capacity = 4096;
  c.r.ctx->claim_delay = 600ms;  // a slow verdict (a user being asked)
  c.start_and_handshake();
  const std::string head = "POST /up HTTP/1.1\r\nHost: example.com\r\nContent-Length: 8000\r\n\r\n";
  std::string all = head;
  for (int i = 0; i < 8000; ++i) all.push_back(static_cast<char>('a' + i % 26));
  // Sends from `from` in 1000-byte segments until the window closes (or all is sent).
  auto send_until_closed = [&](std::size_t from) {
    std::size_t acked = from;
    while (from < all.size()) {
      const std::size_t n = std::min<std::size_t>(1000, all.size() - from);
      c.r.send(static_cast<std::uint32_t>(data_seq + from), data_ack, flag::ack,
               std::string_view(all).substr(from, n));
      const auto ack = c.r.next_frame();
      REQUIRE(ack);
      acked = ack->ack - data_seq;
      if (ack->window == 0) return std::pair{acked, true};
      from = acked;
    }
    return std::pair{acked, false};
  };
  const auto [accepted, closed] = send_until_closed(0);
  CHECK(closed);
  CHECK(accepted == 4096);  // the ring's size, nothing consumed yet
  CHECK_FALSE(connection_pending(c.proxy.listener, 0ms));
  REQUIRE(c.proxy.accept_tunnel(3s));
  std::string got = c.proxy.read_exactly(accepted);
  const auto update = c.r.next_frame();  // the window opens again once the ring drained
  REQUIRE(update);
  CHECK(update->window > 0);
  std::size_t from = accepted;
  while (from < all.size()) {
    const auto [acked, closed_again] = send_until_closed(from);
    got += c.proxy.read_exactly(acked - from);
    from = acked;
    if (closed_again) {
      const auto reopened = c.r.next_frame();
      REQUIRE(reopened);
    }
  }
  CHECK(got == all);
  std::lock_guard lock(c.r.ctx->mu);
  REQUIRE(c.r.ctx->claims.size() == 1);
  CHECK(c.r.ctx->claims[0].http_host == "example.com");
}

TEST_CASE("tcp_flow: a flow not judged by claim keeps its connect-first path and, observed, records its claim",
          "[relay][tcp_flow][claim]") {
  rig r;
  r.ctx->observe = true;
  asio::io_context server_io;
  asio::ip::tcp::acceptor listener(server_io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  r.ctx->settings_.dns_tcp = listener.local_endpoint();
  r.flow_key_dst_port = 53;
  r.start(r.key_to(v4({10, 248, 0, 1}), 53));
  asio::ip::tcp::socket server(server_io);
  listener.accept(server);  // connect before SYN-ACK, as before
  const auto syn_ack = r.next_frame();
  REQUIRE(syn_ack);
  CHECK(syn_ack->flags == (flag::syn | flag::ack));
  const std::string part1 = "GET /index.html?secret=1 HTTP/1.1\r\nHo", part2 = "st: Web.Example\r\n\r\n";
  r.send(data_seq, data_ack, flag::ack | flag::psh, part1);
  r.send(static_cast<std::uint32_t>(data_seq + part1.size()), data_ack, flag::ack | flag::psh, part2);
  CHECK(read_bounded(server.native_handle(), part1.size() + part2.size(), 3s) == part1 + part2);
  r.flow->shutdown();
  REQUIRE(r.finished_within(2s));
  std::lock_guard lock(r.ctx->mu);
  CHECK(r.ctx->claims.empty());
  REQUIRE(r.ctx->closed_records.size() == 1);
  const auto& claim = r.ctx->closed_records[0].claim;
  CHECK(claim.protocol == sniff::claim_protocol::http);
  CHECK(claim.http_method == "GET");
  CHECK(claim.http_host == "web.example");
  CHECK(claim.http_path == "/index.html");
  REQUIRE(r.ctx->claimed_records.size() == 1);  // learned after flow_open: the capture is told
  CHECK(r.ctx->claimed_records[0].claim.http_host == "web.example");
}
