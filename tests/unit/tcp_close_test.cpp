// TCP endpoint, connection close: the child's FIN first, ours first,
// simultaneous close, FIN with data, FIN retransmission, TIME-WAIT re-ACK
// and expiry, half-close in both directions.
#include "tcp_harness.hpp"

using namespace tcptest;

TEST_CASE("child closes first: close_wait, our FIN, last_ack, closed", "[tcp]") {
  harness h;
  h.establish();
  h.send(bytes("bye"));
  h.fin();
  CHECK(h.ep->current_state() == state::close_wait);
  CHECK_FALSE(h.ep->rx_finished());  // data before the FIN not yet consumed
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::ack));
  CHECK(out[0].ack == 5005);  // 3 bytes + FIN
  CHECK(text(h.read_all()) == "bye");
  CHECK(h.ep->rx_finished());
  h.ep->tx_close();
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::fin | F::ack));
  CHECK(out[0].seq == 1001);
  CHECK(out[0].ack == 5005);
  CHECK(h.ep->current_state() == state::last_ack);
  CHECK_FALSE(h.ep->tx_drained());
  h.ack(1002);
  CHECK(h.ep->current_state() == state::closed);
  CHECK(h.ep->tx_drained());
  CHECK_FALSE(h.ep->was_reset());
  CHECK(h.poll().empty());
}

TEST_CASE("half-close: we keep sending after the child's FIN", "[tcp]") {
  harness h;
  h.establish();
  h.fin();
  REQUIRE(h.poll().size() == 1);
  CHECK(h.ep->rx_finished());
  h.write(pattern(2500));
  auto out = h.poll();
  REQUIRE(out.size() == 3);
  CHECK(out[0].ack == 5002);
  h.ack(3501);
  h.ep->tx_close();
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].has(F::fin));
  CHECK(out[0].seq == 3501);
}

TEST_CASE("FIN arriving with data in the same segment", "[tcp]") {
  harness h;
  h.establish();
  h.send(bytes("last words"), F::fin);
  CHECK(h.ep->current_state() == state::close_wait);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 5001 + 10 + 1);
  CHECK(text(h.read_all()) == "last words");
  CHECK(h.ep->rx_finished());
}

TEST_CASE("we close first: FIN rides on the last data segment", "[tcp]") {
  harness h;
  h.establish();
  h.write(pattern(1500));
  h.ep->tx_close();
  CHECK(h.ep->tx_free() == 0);
  CHECK(h.write(bytes("late")) == 0);
  auto out = h.poll();
  REQUIRE(out.size() == 2);
  CHECK_FALSE(out[0].has(F::fin));
  CHECK(out[1].has(F::fin | F::psh | F::ack));
  CHECK(out[1].seq == 2001);
  CHECK(out[1].data.size() == 500);
  CHECK(h.ep->current_state() == state::fin_wait_1);
  h.ack(2501);  // data, not the FIN
  CHECK(h.ep->current_state() == state::fin_wait_1);
  h.ack(2502);
  CHECK(h.ep->current_state() == state::fin_wait_2);
  CHECK(h.ep->tx_drained());
  h.send(bytes("reply"));  // the child may still send in fin_wait_2
  h.fin();
  CHECK(h.ep->current_state() == state::time_wait);
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::ack));
  CHECK(out[0].seq == 2502);
  CHECK(out[0].ack == 5001 + 5 + 1);
  CHECK(text(h.read_all()) == "reply");
  CHECK(h.ep->rx_finished());
}

TEST_CASE("tx_close with nothing queued sends a bare FIN", "[tcp]") {
  harness h;
  h.establish();
  h.ep->tx_close();
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::fin | F::ack));
  CHECK(out[0].seq == 1001);
  CHECK(out[0].data.empty());
}

TEST_CASE("tx_close before the handshake completes: FIN after establishment", "[tcp]") {
  harness h;
  h.ep->accept(h.now);
  h.write(bytes("early"));
  h.ep->tx_close();
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].has(F::syn));
  h.ack(1001);
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(text(out[0].data) == "early");
  CHECK(out[0].has(F::fin));
}

TEST_CASE("time_wait re-ACKs a retransmitted FIN and expires after time_wait", "[tcp]") {
  harness h;
  h.establish();
  h.ep->tx_close();
  REQUIRE(h.poll().size() == 1);
  h.ack(1002);
  h.fin();
  REQUIRE(h.ep->current_state() == state::time_wait);
  REQUIRE(h.poll().size() == 1);
  auto entered = h.now;
  CHECK(h.ep->next_deadline() == entered + 2s);
  h.advance(1s);
  h.raw(5001, 1002, F::fin | F::ack, 65535);  // our ACK was lost
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::ack));
  CHECK(out[0].ack == 5002);
  h.now = entered + 2s - 1ms;
  CHECK(h.poll().empty());
  CHECK(h.ep->current_state() == state::time_wait);
  h.now = entered + 2s;
  CHECK(h.poll().empty());
  CHECK(h.ep->is_closed());
  CHECK_FALSE(h.ep->was_reset());
  CHECK_FALSE(h.ep->next_deadline().has_value());
}

TEST_CASE("time_wait gives the rings' storage back at once", "[tcp]") {
  harness h;
  h.establish();
  h.write(bytes("response"));
  h.send(bytes("request"));
  REQUIRE(h.poll().size() == 1);
  CHECK(text(h.read_all()) == "request");
  CHECK(h.ep->tx_has_storage());
  h.ep->tx_close();
  h.poll();
  h.ack(1010);  // the data and our FIN
  h.fin();
  REQUIRE(h.ep->current_state() == state::time_wait);
  CHECK_FALSE(h.ep->tx_has_storage());
  CHECK_FALSE(h.ep->rx_has_storage());
}

TEST_CASE("time_wait keeps an rx ring that still holds data for the host", "[tcp]") {
  harness h;
  h.establish();
  h.ep->tx_close();
  REQUIRE(h.poll().size() == 1);
  h.ack(1002);
  h.send(bytes("late"), F::fin);  // data and FIN: not yet consumed
  REQUIRE(h.ep->current_state() == state::time_wait);
  CHECK(h.ep->rx_has_storage());
  CHECK(text(h.read_all()) == "late");
}

TEST_CASE("simultaneous close goes through closing to time_wait", "[tcp]") {
  harness h;
  h.establish();
  h.ep->tx_close();
  REQUIRE(h.poll().size() == 1);
  h.raw(5001, 1001, F::fin | F::ack, 65535);  // child's FIN crossed ours
  h.cseq = 5002;
  CHECK(h.ep->current_state() == state::closing);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 5002);
  h.ack(1002);
  CHECK(h.ep->current_state() == state::time_wait);
}

TEST_CASE("FIN that also ACKs our FIN goes straight to time_wait", "[tcp]") {
  harness h;
  h.establish();
  h.ep->tx_close();
  REQUIRE(h.poll().size() == 1);
  h.cack = 1002;
  h.fin();
  CHECK(h.ep->current_state() == state::time_wait);
}

TEST_CASE("our FIN is retransmitted on RTO", "[tcp]") {
  harness h;
  h.establish();
  h.write(bytes("abc"));
  h.ep->tx_close();
  REQUIRE(h.poll().size() == 1);
  h.ack(1004);  // data acked, FIN lost
  CHECK(h.ep->next_deadline().has_value());
  h.now = *h.ep->next_deadline();
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::fin | F::ack));
  CHECK(out[0].seq == 1004);
  h.ack(1005);
  CHECK(h.ep->current_state() == state::fin_wait_2);
  CHECK_FALSE(h.ep->next_deadline().has_value());
}

TEST_CASE("data and FIN retransmitted together after a total loss", "[tcp]") {
  harness h;
  h.establish();
  h.write(bytes("abc"));
  h.ep->tx_close();
  REQUIRE(h.poll().size() == 1);
  h.now = *h.ep->next_deadline();
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].has(F::fin));
  CHECK(text(out[0].data) == "abc");
  CHECK(h.ep->current_state() == state::fin_wait_1);
}

TEST_CASE("out-of-order FIN is not accepted", "[tcp]") {
  harness h;
  h.establish();
  h.raw(5010, 1001, F::fin | F::ack, 65535);
  CHECK(h.ep->current_state() == state::established);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 5001);
}

TEST_CASE("FIN beyond our window (data trimmed) is not accepted", "[tcp]") {
  harness h;
  h.establish();
  h.raw(5001, 1001, F::fin | F::ack, 65535, pattern(4500));
  CHECK(h.ep->current_state() == state::established);
  CHECK(h.ep->rx_size() == 4000);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 9001);
}

TEST_CASE("FIN into a zero window is accepted at exactly RCV.NXT", "[tcp]") {
  harness h;
  h.establish();
  h.send(pattern(4000));
  h.fin();
  CHECK(h.ep->current_state() == state::close_wait);
  CHECK_FALSE(h.ep->rx_finished());
  h.read_all();
  CHECK(h.ep->rx_finished());
}

TEST_CASE("last_ack re-ACKs a retransmitted FIN from the child", "[tcp]") {
  harness h;
  h.establish();
  h.fin();
  h.ep->tx_close();
  REQUIRE(h.poll().size() == 1);  // ACK piggybacked on our FIN
  REQUIRE(h.ep->current_state() == state::last_ack);
  h.raw(5001, 1001, F::fin | F::ack, 65535);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 5002);
  CHECK(h.ep->current_state() == state::last_ack);
}

// finished_at(): when both FINs had gone by, the connection's real end for
// its events (time_wait and our FIN's ACK are bookkeeping after it).
TEST_CASE("finished_at: we close first, the child's FIN ends it (not time_wait's end)", "[tcp]") {
  harness h;
  h.establish();
  h.ep->tx_close();
  REQUIRE(h.poll().size() == 1);
  CHECK_FALSE(h.ep->finished_at());
  h.advance(3ms);
  h.ack(1002);
  CHECK_FALSE(h.ep->finished_at());  // fin_wait_2: the child may still send
  h.advance(2ms);
  const auto fin_time = h.now;
  h.fin();
  REQUIRE(h.ep->current_state() == state::time_wait);
  CHECK(h.ep->finished_at() == fin_time);
  h.advance(2s);
  h.poll();
  REQUIRE(h.ep->is_closed());
  CHECK(h.ep->finished_at() == fin_time);  // unchanged by time_wait's expiry
}

TEST_CASE("finished_at: the child closes first, our FIN ends it", "[tcp]") {
  harness h;
  h.establish();
  h.fin();
  h.poll();
  CHECK_FALSE(h.ep->finished_at());  // close_wait: we may still send
  h.advance(4ms);
  h.ep->tx_close();
  const auto our_fin = h.now;
  REQUIRE(h.poll().size() == 1);
  REQUIRE(h.ep->current_state() == state::last_ack);
  CHECK(h.ep->finished_at() == our_fin);
  h.advance(1ms);
  h.ack(1002);
  CHECK(h.ep->is_closed());
  CHECK(h.ep->finished_at() == our_fin);
}

TEST_CASE("finished_at: simultaneous close, and none for a reset", "[tcp]") {
  harness h;
  h.establish();
  h.ep->tx_close();
  REQUIRE(h.poll().size() == 1);
  h.advance(1ms);
  h.raw(5001, 1001, F::fin | F::ack, 65535);
  REQUIRE(h.ep->current_state() == state::closing);
  CHECK(h.ep->finished_at() == h.now);

  harness r;
  r.establish();
  r.raw(5001, 1001, F::rst, 0);
  REQUIRE(r.ep->is_closed());
  CHECK(r.ep->was_reset());
  CHECK_FALSE(r.ep->finished_at());
}
