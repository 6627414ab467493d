// TCP endpoint, handshake: MSS/window-scale negotiation, the silent pending
// state, accept/reject, SYN-ACK retransmission and the SYN-RECEIVED timeout.
#include "tcp_harness.hpp"

using namespace tcptest;

TEST_CASE("pending endpoint emits nothing and absorbs SYN retransmissions", "[tcp]") {
  harness h;
  CHECK(h.ep->current_state() == state::syn_received_pending);
  CHECK(h.poll().empty());
  h.advance(1s);
  h.raw(h.child_isn, 0, F::syn, 65535);
  h.raw(h.child_isn, 0, F::syn, 65535);
  CHECK(h.poll().empty());
  CHECK(h.ep->current_state() == state::syn_received_pending);
  CHECK_FALSE(h.ep->next_deadline().has_value());
}

TEST_CASE("accept answers SYN-ACK with our MSS, no WS when the SYN had none", "[tcp]") {
  harness h(small_config(), syn_opts{1200, std::nullopt, 29200});
  h.ep->accept(h.now);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::syn | F::ack));
  CHECK(out[0].seq == 1000);
  CHECK(out[0].ack == 5001);
  CHECK(out[0].mss == std::optional<std::uint16_t>(1000));
  CHECK_FALSE(out[0].wscale.has_value());
  CHECK(out[0].window == 4000);
  CHECK(out[0].data.empty());
  CHECK(h.ep->peer_mss() == 1200);
  CHECK_FALSE(h.ep->peer_wscale().has_value());
  CHECK(h.ep->our_wscale() == 0);
  CHECK(h.ep->peer_window() == 29200);
  CHECK(h.ep->current_state() == state::syn_received);
  CHECK(h.poll().empty());
}

TEST_CASE("window scaling negotiated: our shift is the smallest that fits the rx ring", "[tcp]") {
  auto c = small_config();
  c.rx_capacity = 1u << 20;  // >>4 = 65536 does not fit, >>5 does
  harness h(c, syn_opts{1460, 7, 1000});
  h.ep->accept(h.now);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].wscale == std::optional<std::uint8_t>(5));
  CHECK(out[0].window == 65535);  // SYN-ACK window is never scaled
  CHECK(h.ep->our_wscale() == 5);
  CHECK(h.ep->peer_wscale() == std::optional<std::uint8_t>(7));
  // After the handshake the child's window is scaled by its shift.
  h.cwin = 100;
  h.ack(1001);
  CHECK(h.ep->peer_window() == 100u << 7);
  // And ours is scaled down by our shift: 1 MiB >> 5.
  h.send(bytes("x"));
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].window == ((1u << 20) - 1) >> 5);
}

TEST_CASE("window scaling: shift 0 when the ring fits in 16 bits, capped at 14", "[tcp]") {
  auto c = small_config();
  c.rx_capacity = 60000;
  harness a(c, syn_opts{1460, 2, 1000});
  CHECK(a.ep->our_wscale() == 0);
  CHECK(a.ep->peer_wscale() == std::optional<std::uint8_t>(2));
  c.rx_capacity = 65535;
  harness e(c, syn_opts{1460, 2, 1000});
  CHECK(e.ep->our_wscale() == 0);
  c.rx_capacity = 65536;
  harness b(c, syn_opts{1460, 0, 1000});
  CHECK(b.ep->our_wscale() == 1);
  harness d(small_config(), syn_opts{1460, 20, 1000});
  CHECK(d.ep->peer_wscale() == std::optional<std::uint8_t>(14));
}

TEST_CASE("without window scaling our advertised window is capped at 65535", "[tcp]") {
  auto c = small_config();
  c.rx_capacity = 1u << 20;
  harness h(c, syn_opts{1460, std::nullopt, 1000});
  h.establish();
  h.send(bytes("hello"));
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].window == 65535);
  CHECK(h.ep->our_wscale() == 0);
}

TEST_CASE("missing MSS option defaults the peer MSS to 536", "[tcp]") {
  harness h(small_config(), syn_opts{std::nullopt, std::nullopt, 65535});
  CHECK(h.ep->peer_mss() == 536);
  h.establish();
  h.write(pattern(1200));
  auto out = h.poll();
  REQUIRE(out.size() == 3);
  CHECK(out[0].data.size() == 536);
  CHECK(out[1].data.size() == 536);
  CHECK(out[2].data.size() == 128);
}

TEST_CASE("handshake ACK establishes and carries the child's window", "[tcp]") {
  harness h;
  h.ep->accept(h.now);
  REQUIRE(h.poll().size() == 1);
  CHECK(h.ep->next_deadline().has_value());
  h.cwin = 3000;
  h.ack(1001);
  CHECK(h.ep->current_state() == state::established);
  CHECK(h.ep->peer_window() == 3000);
  CHECK(h.ep->bytes_in_flight() == 0);
  CHECK_FALSE(h.ep->next_deadline().has_value());
  CHECK(h.poll().empty());
}

TEST_CASE("retransmitted SYN in syn_received re-triggers the SYN-ACK", "[tcp]") {
  harness h;
  h.ep->accept(h.now);
  REQUIRE(h.poll().size() == 1);
  h.advance(50ms);
  h.raw(h.child_isn, 0, F::syn, 65535);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::syn | F::ack));
  CHECK(out[0].seq == 1000);
  CHECK(out[0].ack == 5001);
}

TEST_CASE("SYN-ACK is retransmitted on RTO with backoff", "[tcp]") {
  harness h;
  h.ep->accept(h.now);
  REQUIRE(h.poll().size() == 1);
  auto t0 = h.now;
  CHECK(h.ep->next_deadline() == t0 + 200ms);
  h.advance(199ms);
  CHECK(h.poll().empty());
  h.advance(1ms);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].has(F::syn | F::ack));
  CHECK(h.ep->current_rto() == 400ms);
  CHECK(h.ep->next_deadline() == h.now + 400ms);
  h.advance(400ms);
  REQUIRE(h.poll().size() == 1);
  CHECK(h.ep->current_rto() == 800ms);
  // The late ACK still establishes.
  h.ack(1001);
  CHECK(h.ep->current_state() == state::established);
}

TEST_CASE("reject while pending sends RST|ACK seq=0 ack=IRS+1 and closes", "[tcp]") {
  harness h;
  h.ep->abort();
  CHECK(h.ep->is_closed());
  CHECK(h.ep->was_reset());
  CHECK_FALSE(h.ep->reset_by_peer());
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::rst | F::ack));
  CHECK(out[0].seq == 0);
  CHECK(out[0].ack == 5001);
  CHECK(out[0].window == 0);
  CHECK(h.poll().empty());
  h.ep->abort();  // idempotent
  CHECK(h.poll().empty());
}

TEST_CASE("abort in syn_received sends RST at our next sequence", "[tcp]") {
  harness h;
  h.ep->accept(h.now);
  REQUIRE(h.poll().size() == 1);
  h.ep->abort();
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].has(F::rst));
  CHECK(out[0].seq == 1001);
  CHECK(h.ep->is_closed());
}

TEST_CASE("syn_received times out without the child's ACK", "[tcp]") {
  auto c = small_config();
  c.max_retransmissions = 100;
  c.rto_max = 1s;
  c.syn_received_timeout = 3s;
  harness h(c);
  h.ep->accept(h.now);
  REQUIRE(h.poll().size() == 1);
  int synacks = 0;
  while (!h.ep->is_closed()) {
    auto d = h.ep->next_deadline();
    REQUIRE(d.has_value());
    h.now = *d;
    for (auto& s : h.poll()) synacks += s.has(F::syn) ? 1 : 0;
  }
  CHECK(h.ep->was_reset());
  CHECK(h.now == netpen::tcp::time_point{} + 1003s);
  CHECK(synacks >= 3);
}

TEST_CASE("unacceptable ACK in syn_received gets a RST and does not establish", "[tcp]") {
  harness h;
  h.ep->accept(h.now);
  REQUIRE(h.poll().size() == 1);
  h.raw(5001, 4242, F::ack, 65535);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::rst));
  CHECK(out[0].seq == 4242);
  CHECK(h.ep->current_state() == state::syn_received);
}

TEST_CASE("child RST while pending closes silently", "[tcp]") {
  harness h;
  h.raw(5001, 0, F::rst, 0);
  CHECK(h.ep->is_closed());
  CHECK(h.ep->reset_by_peer());
  CHECK(h.poll().empty());
}

TEST_CASE("handshake ACK carrying data delivers it", "[tcp]") {
  harness h;
  h.ep->accept(h.now);
  REQUIRE(h.poll().size() == 1);
  h.cack = 1001;
  h.send(bytes("GET /"));
  CHECK(h.ep->current_state() == state::established);
  CHECK(text(h.read_all()) == "GET /");
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 5006);
}
