// TCP endpoint, active open (published ports): our SYN and its options, the
// SYN-ACK that establishes, RST or ICMP refusal, bad ACKs, SYN
// retransmission with backoff and its bound.
#include "tcp_harness.hpp"

using namespace tcptest;

namespace {

// Plays the server in the child against an actively opening endpoint.
struct opener {
  config cfg = small_config();
  netpen::tcp::time_point now = netpen::tcp::time_point{} + 1000s;
  std::uint32_t our_isn = 7000;
  std::uint32_t server_isn = 90000;
  std::optional<endpoint> ep;

  explicit opener(config c = small_config()) : cfg(c) { ep.emplace(netpen::tcp::active_open, our_isn, cfg, now); }

  std::vector<captured> poll() { return poll_segments(*ep, now); }
  void segment(std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::uint16_t window = 65535,
               std::optional<std::uint16_t> mss = {}, std::optional<std::uint8_t> wscale = {},
               const std::vector<std::byte>& payload = {}) {
    segment_in s;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.window = window;
    s.mss = mss;
    s.wscale = wscale;
    s.payload = payload;
    ep->on_segment(s, now);
  }
  void syn_ack(std::optional<std::uint8_t> wscale = 7, std::uint16_t mss = 1200) {
    segment(server_isn, our_isn + 1, F::syn | F::ack, 29200, mss, wscale);
  }
};

}  // namespace

TEST_CASE("active open: the first poll emits a bare SYN with our MSS and window scale", "[tcp]") {
  auto c = small_config();
  c.rx_capacity = 1u << 20;
  opener o(c);
  CHECK(o.ep->current_state() == state::syn_sent);
  auto out = o.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::syn));
  CHECK(out[0].seq == 7000);
  CHECK(out[0].ack == 0);
  CHECK(out[0].mss == std::optional<std::uint16_t>(1000));
  CHECK(out[0].wscale == std::optional<std::uint8_t>(5));
  CHECK(out[0].window == 65535);  // a SYN's window is never scaled
  CHECK(o.poll().empty());
  REQUIRE(o.ep->next_deadline());
  CHECK(*o.ep->next_deadline() == o.now + 200ms);
}

TEST_CASE("active open: the SYN-ACK establishes and is acknowledged, then data flows both ways", "[tcp]") {
  opener o;
  o.poll();
  o.syn_ack();
  CHECK(o.ep->current_state() == state::established);
  CHECK(o.ep->peer_mss() == 1200);
  CHECK(o.ep->peer_wscale() == std::optional<std::uint8_t>(7));
  CHECK(o.ep->peer_window() == 29200);
  auto out = o.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::ack));
  CHECK(out[0].seq == 7001);
  CHECK(out[0].ack == 90001);
  CHECK_FALSE(o.ep->next_deadline());
  // The host client's bytes go to the server...
  CHECK(o.ep->tx_write(bytes("GET /")) == 5);
  out = o.poll();
  REQUIRE(out.size() == 1);
  CHECK(text(out[0].data) == "GET /");
  CHECK(out[0].seq == 7001);
  // ... and the server's answer comes back into rx.
  const auto reply = bytes("200");
  o.segment(90001, 7006, F::ack | F::psh, 229, {}, {}, reply);
  CHECK(o.ep->rx_size() == 3);
  out = o.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 90004);
}

TEST_CASE("active open: no window scaling when the SYN-ACK has none", "[tcp]") {
  auto c = small_config();
  c.rx_capacity = 1u << 20;
  opener o(c);
  o.poll();
  o.syn_ack(std::nullopt);
  CHECK(o.ep->current_state() == state::established);
  CHECK(o.ep->our_wscale() == 0);
  CHECK_FALSE(o.ep->peer_wscale());
  auto out = o.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].window == 65535);  // capped, not scaled
}

TEST_CASE("active open: a RST with an acceptable ACK refuses, other RSTs are ignored", "[tcp]") {
  opener o;
  o.poll();
  o.segment(0, 7001 + 5, F::rst | F::ack);  // ACK beyond what we sent
  o.segment(0, 0, F::rst);                   // no ACK
  CHECK(o.ep->current_state() == state::syn_sent);
  CHECK(o.poll().empty());
  o.segment(0, 7001, F::rst | F::ack);
  CHECK(o.ep->is_closed());
  CHECK(o.ep->was_refused());
  CHECK_FALSE(o.ep->timed_out());
  CHECK(o.poll().empty());  // never answer a RST
  CHECK_FALSE(o.ep->next_deadline());
}

TEST_CASE("active open: an ACK for something never sent gets <SEQ=SEG.ACK><CTL=RST>", "[tcp]") {
  opener o;
  o.poll();
  o.segment(90000, 12345, F::syn | F::ack);
  CHECK(o.ep->current_state() == state::syn_sent);
  auto out = o.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::rst));
  CHECK(out[0].seq == 12345);
  // A bare SYN (simultaneous open) is ignored; the right SYN-ACK still works.
  o.segment(90000, 0, F::syn);
  CHECK(o.poll().empty());
  o.syn_ack();
  CHECK(o.ep->current_state() == state::established);
}

TEST_CASE("active open: refuse() (an ICMP error) closes as refused without a segment", "[tcp]") {
  opener o;
  o.poll();
  o.ep->refuse();
  CHECK(o.ep->is_closed());
  CHECK(o.ep->was_refused());
  CHECK(o.poll().empty());
  opener late;
  late.poll();
  late.syn_ack();
  late.ep->refuse();  // only while the SYN is out
  CHECK(late.ep->current_state() == state::established);
}

TEST_CASE("active open: the SYN is retransmitted with backoff, then the open times out", "[tcp]") {
  auto c = small_config();
  c.max_syn_retransmissions = 3;
  opener o(c);
  REQUIRE(o.poll().size() == 1);
  netpen::tcp::duration wait = 200ms;
  for (int i = 0; i < 3; ++i) {
    INFO("retransmission " << i + 1);
    o.now += wait - 1ms;
    CHECK(o.poll().empty());
    o.now += 1ms;
    auto out = o.poll();
    REQUIRE(out.size() == 1);
    CHECK(out[0].only(F::syn));
    CHECK(out[0].seq == 7000);
    wait *= 2;
  }
  o.now += wait;
  CHECK(o.poll().empty());  // no RST for a connection that never was
  CHECK(o.ep->is_closed());
  CHECK(o.ep->timed_out());
  CHECK_FALSE(o.ep->was_refused());
}

TEST_CASE("active open: a SYN-ACK after a retransmission still establishes", "[tcp]") {
  opener o;
  o.poll();
  o.now += 200ms;
  REQUIRE(o.poll().size() == 1);
  o.syn_ack();
  CHECK(o.ep->current_state() == state::established);
  CHECK(o.ep->current_rto() == 200ms);  // progress ends the backoff
}

TEST_CASE("active open: abort() while the SYN is out sends nothing", "[tcp]") {
  opener o;
  o.poll();
  o.ep->abort();
  CHECK(o.ep->is_closed());
  CHECK(o.poll().empty());
}
