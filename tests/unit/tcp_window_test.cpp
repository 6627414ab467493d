// TCP endpoint, flow control: the child's window respected exactly (also
// scaled), zero window with persist probes and reopening, our own window
// shrinking to zero and the window update after rx_consume.
#include "tcp_harness.hpp"

using namespace tcptest;

TEST_CASE("sending stops exactly at the child's window and resumes as it slides", "[tcp]") {
  harness h(small_config(), syn_opts{1000, std::nullopt, 2500});
  h.ep->accept(h.now);
  REQUIRE(h.poll().size() == 1);
  h.cwin = 2500;
  h.ack(1001);
  h.write(pattern(5000));
  auto out = h.poll();
  REQUIRE(out.size() == 3);
  CHECK(out[2].seq == 3001);
  CHECK(out[2].data.size() == 500);
  CHECK(out[2].has(F::psh));  // window-limited burst ends with PSH
  CHECK(h.ep->bytes_in_flight() == 2500);
  CHECK(h.poll().empty());
  h.ack(2001);  // right edge moves to 2001 + 2500 = 4501
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == 3501);
  CHECK(out[0].data.size() == 1000);
  CHECK(joined(out) == pattern(1000, 2500));
}

TEST_CASE("a window update from the child without new ACK opens the window", "[tcp]") {
  harness h;
  h.establish();
  h.ack(1001, 100);
  h.write(pattern(500));
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].data.size() == 100);
  h.cseq += 0;  // same seq, same ack: only the window grows
  h.ack(1001, 1000);
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == 1101);
  CHECK(out[0].data.size() == 400);
}

TEST_CASE("an older segment does not change the window (SND.WL1/WL2)", "[tcp]") {
  harness h;
  h.establish();
  h.send(bytes("abcd"));
  h.ack(1001, 3000);
  CHECK(h.ep->peer_window() == 3000);
  // A reordered, partially overlapping segment: acceptable, but its seq is
  // older than the one that last set the window.
  h.raw(5003, 1001, F::ack, 10, bytes("cdef"));
  CHECK(h.ep->rx_size() == 6);
  CHECK(h.ep->peer_window() == 3000);
  h.cseq = 5007;
  h.ack(1001, 20);  // a current segment does update it
  CHECK(h.ep->peer_window() == 20);
}

TEST_CASE("the child's scaled window is respected", "[tcp]") {
  harness h(small_config(), syn_opts{1000, 3, 65535});
  h.ep->accept(h.now);
  REQUIRE(h.poll().size() == 1);
  h.ack(1001, 150);  // 150 << 3 = 1200 bytes
  CHECK(h.ep->peer_window() == 1200);
  h.write(pattern(3000));
  auto out = h.poll();
  REQUIRE(out.size() == 2);
  CHECK(out[0].data.size() == 1000);
  CHECK(out[1].data.size() == 200);
}

TEST_CASE("zero window: persist probes with backoff, then reopening", "[tcp]") {
  harness h;
  h.establish();
  h.ack(1001, 0);
  h.write(bytes("0123456789"));
  CHECK(h.poll().empty());
  CHECK(h.ep->next_deadline() == h.now + 200ms);
  h.advance(200ms);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == 1001);
  CHECK(text(out[0].data) == "0");
  CHECK(h.ep->next_deadline() == h.now + 400ms);
  // The child refuses the byte and keeps its window shut.
  h.ack(1001, 0);
  CHECK(h.poll().empty());
  h.advance(400ms);
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == 1001);
  CHECK(out[0].data.size() == 1);
  CHECK(h.ep->next_deadline() == h.now + 800ms);
  // Window opens: everything from SND.UNA goes out, probe byte included.
  h.ack(1001, 5000);
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == 1001);
  CHECK(text(out[0].data) == "0123456789");
  h.ack(1011);
  CHECK(h.ep->tx_drained());
  CHECK_FALSE(h.ep->next_deadline().has_value());
}

TEST_CASE("zero window: an accepted probe byte advances and probing continues", "[tcp]") {
  harness h;
  h.establish();
  h.ack(1001, 0);
  h.write(bytes("abc"));
  CHECK(h.poll().empty());  // discovers the zero window: persist timer armed
  h.advance(200ms);
  REQUIRE(h.poll().size() == 1);
  h.ack(1002, 0);  // took the byte, window still zero
  CHECK(h.ep->bytes_in_flight() == 0);
  h.advance(400ms);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == 1002);
  CHECK(text(out[0].data) == "b");
}

TEST_CASE("zero window: probes the child answers never give up", "[tcp]") {
  harness h;  // max_retransmissions = 4
  h.establish();
  h.ack(1001, 0);
  h.write(bytes("x"));
  CHECK(h.poll().empty());
  for (int i = 0; i < 10; ++i) {
    REQUIRE(h.ep->next_deadline().has_value());
    h.now = *h.ep->next_deadline();
    REQUIRE(h.poll().size() == 1);
    h.ack(1001, 0);
  }
  CHECK_FALSE(h.ep->is_closed());
  CHECK(h.ep->next_deadline() == h.now + 5s);  // backoff capped at rto_max
}

TEST_CASE("zero window: unanswered probes eventually reset", "[tcp]") {
  harness h;
  h.establish();
  h.ack(1001, 0);
  h.write(bytes("x"));
  CHECK(h.poll().empty());
  int probes = 0;
  std::vector<captured> last;
  while (!h.ep->is_closed()) {
    REQUIRE(h.ep->next_deadline().has_value());
    h.now = *h.ep->next_deadline();
    last = h.poll();
    REQUIRE(last.size() == 1);
    if (!last[0].has(F::rst)) ++probes;
  }
  CHECK(probes == 4);
  CHECK(last[0].has(F::rst));
  CHECK(h.ep->was_reset());
}

TEST_CASE("our window shrinks with buffered data and reaches zero", "[tcp]") {
  harness h;
  h.establish();
  h.send(pattern(1500));
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].window == 2500);
  h.send(pattern(2500, 1500));
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].window == 0);
  // Data into a zero window is refused and ACKed with window 0.
  h.raw(h.cseq, 1001, F::ack, 65535, bytes("z"));
  CHECK(h.ep->rx_size() == 4000);
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 5001 + 4000);
  CHECK(out[0].window == 0);
}

TEST_CASE("rx_consume opening the window from zero sends a window update", "[tcp]") {
  harness h;
  h.establish();
  h.send(pattern(4000));
  REQUIRE(h.poll().size() == 1);
  h.ep->rx_consume(500);
  CHECK(h.poll().empty());  // 500 < one MSS (1000) and < a quarter (1000)
  h.ep->rx_consume(500);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::ack));
  CHECK(out[0].ack == 5001 + 4000);
  CHECK(out[0].window == 1000);
  h.ep->rx_consume(1000);
  CHECK(h.poll().empty());  // the child already knows a usable window
}

TEST_CASE("window update with scaling uses the scaled field", "[tcp]") {
  auto c = small_config();
  c.rx_capacity = 1u << 17;  // shift 2
  c.mss = 8000;
  harness h(c, syn_opts{8000, 0, 65535});
  h.establish();
  REQUIRE(h.ep->our_wscale() == 2);
  for (int i = 0; i < 16; ++i) h.send(pattern(8192));
  REQUIRE(h.ep->rx_size() == (1u << 17));
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].window == 0);
  h.ep->rx_consume(8000);
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].window == 2000);
}

TEST_CASE("the child's zero-window probe is ACKed without taking data", "[tcp]") {
  harness h;
  h.establish();
  h.send(pattern(4000));
  REQUIRE(h.poll().size() == 1);
  h.raw(h.cseq, 1001, F::ack, 65535, bytes("p"));
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == h.cseq);
  CHECK(out[0].window == 0);
  CHECK(h.ep->rx_size() == 4000);
}
