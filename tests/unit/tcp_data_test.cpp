// TCP endpoint, data transfer: both directions with exact seq/ack/window,
// ACK batching, segmentation by MSS, out-of-order, duplicate and
// overlapping segments, trimming at the window, wraparound, ring wrap.
#include "tcp_harness.hpp"

using namespace tcptest;

TEST_CASE("child data lands in rx and is ACKed once per poll", "[tcp]") {
  harness h;
  h.establish();
  h.send(bytes("abc"));
  h.send(bytes("defg"));
  h.send(bytes("h"));
  CHECK(h.ep->rx_size() == 8);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::ack));
  CHECK(out[0].seq == 1001);
  CHECK(out[0].ack == 5009);
  CHECK(out[0].window == 4000 - 8);
  CHECK(out[0].data.empty());
  CHECK(h.poll().empty());
  CHECK(text(h.read_all()) == "abcdefgh");
  CHECK(h.ep->rx_size() == 0);
}

TEST_CASE("pure ACKs from the child need no answer", "[tcp]") {
  harness h;
  h.establish();
  h.ack(1001);
  h.ack(1001);
  CHECK(h.poll().empty());
}

TEST_CASE("host data is sent with seq, ack, window and PSH on the last segment", "[tcp]") {
  harness h;
  h.establish();
  h.send(bytes("req"));
  CHECK(h.write(pattern(2500)) == 2500);
  auto out = h.poll();
  REQUIRE(out.size() == 3);  // the ACK for "req" rides on the data
  CHECK(out[0].seq == 1001);
  CHECK(out[1].seq == 2001);
  CHECK(out[2].seq == 3001);
  for (auto& s : out) {
    CHECK(s.ack == 5004);
    CHECK(s.window == 3997);
    CHECK(s.has(F::ack));
  }
  CHECK(out[0].data.size() == 1000);
  CHECK(out[2].data.size() == 500);
  CHECK_FALSE(out[0].has(F::psh));
  CHECK_FALSE(out[1].has(F::psh));
  CHECK(out[2].has(F::psh));
  CHECK(joined(out) == pattern(2500));
  CHECK(h.ep->bytes_in_flight() == 2500);
  CHECK(h.ep->tx_free() == 8000 - 2500);
}

TEST_CASE("segments respect the smaller of the peer's MSS and ours", "[tcp]") {
  harness h(small_config(), syn_opts{300, std::nullopt, 65535});
  h.establish();
  h.write(pattern(1000));
  auto out = h.poll();
  REQUIRE(out.size() == 4);
  CHECK(out[0].data.size() == 300);
  CHECK(out[3].data.size() == 100);
  auto c = small_config();
  c.mss = 400;
  harness g(c, syn_opts{1460, std::nullopt, 65535});
  g.establish();
  g.write(pattern(1000));
  out = g.poll();
  REQUIRE(out.size() == 3);
  CHECK(out[0].data.size() == 400);
  CHECK(out[2].data.size() == 200);
}

TEST_CASE("ACKs free the tx ring and end in-flight accounting", "[tcp]") {
  harness h;
  h.establish();
  h.write(pattern(1500));
  REQUIRE(h.poll().size() == 2);
  h.ack(1001 + 1000);
  CHECK(h.ep->bytes_in_flight() == 500);
  CHECK(h.ep->tx_free() == 8000 - 500);
  h.ack(1001 + 1500);
  CHECK(h.ep->bytes_in_flight() == 0);
  CHECK(h.ep->tx_drained());
  CHECK_FALSE(h.ep->next_deadline().has_value());
}

TEST_CASE("ACK for data not yet sent is ignored and answered", "[tcp]") {
  harness h;
  h.establish();
  h.write(pattern(100));
  REQUIRE(h.poll().size() == 1);
  h.raw(5001, 1001 + 500, F::ack, 65535);
  CHECK(h.ep->bytes_in_flight() == 100);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::ack));
  CHECK(out[0].seq == 1101);
  CHECK(out[0].ack == 5001);
}

TEST_CASE("old duplicate ACK is ignored but its data is taken", "[tcp]") {
  harness h;
  h.establish();
  h.write(pattern(100));
  REQUIRE(h.poll().size() == 1);
  h.ack(1101);
  h.raw(h.cseq, 1001, F::ack, 65535, bytes("zz"));  // stale ack field
  CHECK(h.ep->bytes_in_flight() == 0);
  CHECK(text(h.read_all()) == "zz");
}

TEST_CASE("out-of-order segment is not queued and gets an immediate duplicate ACK", "[tcp]") {
  harness h;
  h.establish();
  h.raw(5001 + 10, 1001, F::ack, 65535, bytes("later"));
  CHECK(h.ep->rx_size() == 0);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::ack));
  CHECK(out[0].ack == 5001);
  CHECK(out[0].window == 4000);
}

TEST_CASE("several out-of-order segments yield one duplicate ACK each", "[tcp]") {
  harness h;
  h.establish();
  h.send(bytes("a"));
  h.raw(5010, 1001, F::ack, 65535, bytes("x"));
  h.raw(5020, 1001, F::ack, 65535, bytes("y"));
  h.raw(5030, 1001, F::ack, 65535, bytes("z"));
  auto out = h.poll();
  REQUIRE(out.size() == 3);
  for (auto& s : out) CHECK(s.ack == 5002);
  CHECK(h.ep->rx_size() == 1);
}

TEST_CASE("fully duplicate segment is dropped and re-ACKed", "[tcp]") {
  harness h;
  h.establish();
  h.send(bytes("hello"));
  REQUIRE(h.poll().size() == 1);
  h.raw(5001, 1001, F::ack, 65535, bytes("hello"));
  CHECK(h.ep->rx_size() == 5);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 5006);
}

TEST_CASE("partially duplicate segment: only the new suffix is taken", "[tcp]") {
  harness h;
  h.establish();
  h.send(bytes("hello"));
  h.raw(5004, 1001, F::ack, 65535, bytes("lo world"));
  CHECK(text(h.read_all()) == "hello world");
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 5012);
}

TEST_CASE("data beyond our window is trimmed", "[tcp]") {
  harness h;
  h.establish();
  h.send(pattern(3000));
  h.raw(h.cseq, 1001, F::ack, 65535, pattern(1500, 3000));
  CHECK(h.ep->rx_size() == 4000);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 5001 + 4000);
  CHECK(out[0].window == 0);
  auto all = h.read_all();
  REQUIRE(all.size() == 4000);
  CHECK(all == pattern(4000));
}

TEST_CASE("segment entirely beyond the window is dropped with an ACK", "[tcp]") {
  harness h;
  h.establish();
  h.raw(5001 + 5000, 1001, F::ack, 65535, bytes("far"));
  CHECK(h.ep->rx_size() == 0);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 5001);
}

TEST_CASE("segments without ACK after the handshake are dropped", "[tcp]") {
  harness h;
  h.establish();
  h.raw(5001, 0, 0, 65535, bytes("noack"));
  CHECK(h.ep->rx_size() == 0);
  CHECK(h.poll().empty());
}

TEST_CASE("keep-alive (seq = rcv_nxt - 1) gets an ACK", "[tcp]") {
  harness h;
  h.establish();
  h.send(bytes("ab"));
  REQUIRE(h.poll().size() == 1);
  h.raw(5002, 1001, F::ack, 65535);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::ack));
  CHECK(out[0].ack == 5003);
  h.raw(5002, 1001, F::ack, 65535, bytes("b"));  // the one-garbage-byte variant
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 5003);
  CHECK(h.ep->rx_size() == 2);
}

TEST_CASE("sequence wraparound in both directions", "[tcp]") {
  harness h(small_config(), syn_opts{}, 0xfffffff0u, 0xfffffffau);
  h.establish();
  h.send(pattern(20));  // child seq crosses 2^32
  CHECK(h.ep->rx_size() == 20);
  h.write(pattern(40));  // our seq crosses 2^32
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == 0xfffffff1u);
  CHECK(out[0].ack == 0xfffffffbu + 20);  // == 15 after the wrap
  CHECK(out[0].ack == 15u);
  h.ack(0xfffffff1u + 40);
  CHECK(h.cack == 0x19u);
  CHECK(h.ep->bytes_in_flight() == 0);
  CHECK(h.ep->tx_drained());
  // A stale segment just below the wrap point is still recognised as old.
  h.raw(0xfffffffbu, 0x19u, F::ack, 65535, pattern(5));
  CHECK(h.ep->rx_size() == 20);
  REQUIRE(h.poll().size() == 1);
}

TEST_CASE("tx ring wrap: a payload split over two spans", "[tcp]") {
  auto c = small_config();
  c.tx_capacity = 1500;
  harness h(c);
  h.establish();
  REQUIRE(h.write(pattern(1200)) == 1200);
  REQUIRE(h.poll().size() == 2);
  h.ack(1001 + 1000);  // 200 stay unacked: the ring's head moves to 1000
  REQUIRE(h.ep->tx_free() == 1300);
  REQUIRE(h.write(pattern(900, 1200)) == 900);  // 300 before the end, 600 after
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].first_span == 300);
  CHECK(out[0].data.size() == 900);
  CHECK(out[0].data == pattern(900, 1200));
}

TEST_CASE("tx_free_spans and tx_commit write straight into the ring", "[tcp]") {
  auto c = small_config();
  c.tx_capacity = 1000;
  harness h(c);
  h.establish();
  h.write(pattern(700));
  REQUIRE(h.poll().size() == 1);
  h.ack(1601);  // 100 stay unacked at ring offsets 600..700
  auto spans = h.ep->tx_free_spans();
  CHECK(spans[0].size() == 300);
  CHECK(spans[1].size() == 600);
  auto data = pattern(500, 9);
  std::copy(data.begin(), data.begin() + 300, spans[0].begin());
  std::copy(data.begin() + 300, data.end(), spans[1].begin());
  h.ep->tx_commit(500);
  CHECK(h.ep->tx_free() == 400);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == 1701);
  CHECK(out[0].data == data);
}

TEST_CASE("rx ring wrap: rx_data returns two spans in order", "[tcp]") {
  auto c = small_config();
  c.rx_capacity = 1000;
  harness h(c);
  h.establish();
  h.send(pattern(800));
  h.ep->rx_consume(700);
  h.send(pattern(500, 800));
  auto d = h.ep->rx_data();
  CHECK(d[0].size() == 300);
  CHECK(d[1].size() == 300);
  CHECK(h.read_all() == pattern(600, 700));
}
