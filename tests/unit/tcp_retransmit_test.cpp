// TCP endpoint, retransmission: RTO timing and exponential backoff,
// go-back-N from SND.UNA, RFC 6298 estimation with Karn's rule, give-up
// with RST, fast retransmit on three duplicate ACKs.
#include "tcp_harness.hpp"

using namespace tcptest;

TEST_CASE("unacked data is retransmitted after the RTO, then with doubled RTO", "[tcp]") {
  harness h;
  h.establish();
  h.write(bytes("hello"));
  REQUIRE(h.poll().size() == 1);
  CHECK(h.ep->next_deadline() == h.now + 200ms);
  h.advance(199ms);
  CHECK(h.poll().empty());
  h.advance(1ms);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == 1001);
  CHECK(text(out[0].data) == "hello");
  CHECK(h.ep->current_rto() == 400ms);
  CHECK(h.ep->next_deadline() == h.now + 400ms);
  h.advance(399ms);
  CHECK(h.poll().empty());
  h.advance(1ms);
  REQUIRE(h.poll().size() == 1);
  CHECK(h.ep->current_rto() == 800ms);
}

TEST_CASE("RTO retransmits go-back-N from SND.UNA", "[tcp]") {
  harness h;
  h.establish();
  h.write(pattern(3000));
  REQUIRE(h.poll().size() == 3);
  h.advance(50ms);
  h.ack(2001);  // first segment arrived; timer restarts
  CHECK(h.ep->next_deadline() == h.now + 200ms);
  h.advance(200ms);
  auto out = h.poll();
  REQUIRE(out.size() == 2);
  CHECK(out[0].seq == 2001);
  CHECK(out[1].seq == 3001);
  CHECK(joined(out) == pattern(2000, 1000));
}

TEST_CASE("backoff is capped at rto_max", "[tcp]") {
  auto c = small_config();
  c.max_retransmissions = 20;
  c.rto_max = 1s;
  harness h(c);
  h.establish();
  h.write(bytes("x"));
  REQUIRE(h.poll().size() == 1);
  for (int i = 0; i < 6; ++i) {
    h.now = *h.ep->next_deadline();
    REQUIRE(h.poll().size() == 1);
  }
  CHECK(h.ep->current_rto() == 1s);
  CHECK(h.ep->next_deadline() == h.now + 1s);
}

TEST_CASE("after max_retransmissions timeouts the endpoint resets", "[tcp]") {
  harness h;  // max_retransmissions = 4
  h.establish();
  h.send(bytes("q"));
  h.write(bytes("data"));
  REQUIRE(h.poll().size() == 1);
  int retransmissions = 0;
  std::vector<captured> out;
  while (!h.ep->is_closed()) {
    REQUIRE(h.ep->next_deadline().has_value());
    h.now = *h.ep->next_deadline();
    out = h.poll();
    REQUIRE(out.size() == 1);
    if (!out[0].has(F::rst)) ++retransmissions;
  }
  CHECK(retransmissions == 4);
  CHECK(out[0].only(F::rst | F::ack));
  CHECK(out[0].seq == 1005);
  CHECK(out[0].ack == 5002);
  CHECK(h.ep->was_reset());
  CHECK_FALSE(h.ep->reset_by_peer());
  CHECK_FALSE(h.ep->next_deadline().has_value());
  CHECK(h.poll().empty());
}

TEST_CASE("an ACK in time resets the retransmission count", "[tcp]") {
  harness h;
  h.establish();
  h.write(pattern(2000));
  REQUIRE(h.poll().size() == 2);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 3; ++i) {
      h.now = *h.ep->next_deadline();
      REQUIRE_FALSE(h.poll().empty());
    }
    if (round == 0) h.ack(1501);
    if (round == 1) h.ack(2001);
  }
  CHECK_FALSE(h.ep->is_closed());
}

TEST_CASE("RTT sample sets the RTO per RFC 6298", "[tcp]") {
  auto c = small_config();
  c.rto_min = 10ms;
  c.rto_initial = 1s;
  harness h(c);
  h.establish();  // the SYN-ACK was ACKed after 0 ms: first sample 0
  CHECK(h.ep->current_rto() == 10ms);
  h.write(bytes("a"));
  REQUIRE(h.poll().size() == 1);
  h.advance(100ms);
  h.ack(1002);
  // SRTT = 100*1/8 = 12.5ms, RTTVAR = 3/4*0 + 1/4*100 = 25ms -> RTO = 112.5ms
  CHECK(h.ep->current_rto() == std::chrono::microseconds(112500));
}

TEST_CASE("first RTT sample: RTO = R + 4*R/2", "[tcp]") {
  auto c = small_config();
  c.rto_min = 10ms;
  c.rto_initial = 1s;
  harness h(c);
  h.ep->accept(h.now);
  REQUIRE(h.poll().size() == 1);
  h.advance(40ms);
  h.ack(1001);
  CHECK(h.ep->current_rto() == 120ms);
}

TEST_CASE("Karn: an ACK for retransmitted data gives no RTT sample", "[tcp]") {
  auto c = small_config();
  c.rto_min = 10ms;
  c.rto_initial = 1s;
  harness h(c);
  h.ep->accept(h.now);
  REQUIRE(h.poll().size() == 1);
  h.advance(1s);
  REQUIRE(h.poll().size() == 1);  // SYN-ACK retransmitted
  CHECK(h.ep->current_rto() == 2s);
  h.advance(30ms);
  h.ack(1001);
  CHECK(h.ep->current_rto() == 1s);  // backoff ends, still no estimate
  h.write(bytes("z"));
  REQUIRE(h.poll().size() == 1);
  h.advance(20ms);
  h.ack(1002);
  CHECK(h.ep->current_rto() == 60ms);  // the first real sample
}

TEST_CASE("RTO is clamped at rto_min", "[tcp]") {
  harness h;  // rto_min 200ms
  h.establish();
  h.write(bytes("a"));
  REQUIRE(h.poll().size() == 1);
  h.advance(1ms);
  h.ack(1002);
  CHECK(h.ep->current_rto() == 200ms);
}

TEST_CASE("three duplicate ACKs trigger one fast retransmission", "[tcp]") {
  harness h;
  h.establish();
  h.write(pattern(4000));
  REQUIRE(h.poll().size() == 4);
  h.ack(2001);
  h.ack(2001);
  h.ack(2001);
  CHECK(h.poll().empty());
  h.ack(2001);  // third duplicate
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == 2001);
  CHECK(out[0].data == pattern(1000, 1000));
  h.ack(2001);
  CHECK(h.poll().empty());  // no second fast retransmit for the same hole
  h.ack(5001);
  CHECK(h.ep->tx_drained());
}

TEST_CASE("ACKs that carry data or change the window are not duplicates", "[tcp]") {
  harness h;
  h.establish();
  h.write(pattern(3000));
  REQUIRE(h.poll().size() == 3);
  h.send(bytes("a"));
  h.send(bytes("b"));
  h.send(bytes("c"));
  h.ack(1001, 60000);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::ack));  // only the ACK for the child's data
}

TEST_CASE("RTO with a zero window still pushes one segment", "[tcp]") {
  harness h;
  h.establish();
  h.write(pattern(3000));
  REQUIRE(h.poll().size() == 3);
  h.ack(1001, 0);  // shut the window with everything in flight
  h.now = *h.ep->next_deadline();
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == 1001);
  CHECK(out[0].data.size() == 1000);
}

TEST_CASE("the RTO timer stops when everything is acknowledged", "[tcp]") {
  harness h;
  h.establish();
  h.write(pattern(10));
  REQUIRE(h.poll().size() == 1);
  REQUIRE(h.ep->next_deadline().has_value());
  h.ack(1011);
  CHECK_FALSE(h.ep->next_deadline().has_value());
  h.advance(10s);
  CHECK(h.poll().empty());
}
