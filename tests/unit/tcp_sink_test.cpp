// The TCP endpoint's direct path (rx_sink: in-order data handed on without a
// copy into rx) and its buffer release for idle connections.
#include "tests/unit/tcp_harness.hpp"

using namespace tcptest;

namespace {
// Takes at most `limit` bytes of each offer and keeps them.
struct test_sink final : netpen::tcp::rx_sink {
  std::size_t limit = SIZE_MAX;
  std::vector<std::byte> got;
  int offers = 0;
  std::size_t take(std::span<const std::byte> p) override {
    ++offers;
    const std::size_t n = std::min(limit, p.size());
    got.insert(got.end(), p.begin(), p.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
  }
};
}  // namespace

TEST_CASE("a sink that takes everything leaves rx empty, the ACK covers the data", "[tcp][sink]") {
  harness h;
  h.establish();
  test_sink sink;
  h.sink = &sink;
  h.send(bytes("hello"));
  h.send(bytes(" world"));
  CHECK(text(sink.got) == "hello world");
  CHECK(h.ep->rx_size() == 0);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 5000 + 1 + 11);
  CHECK(out[0].window == 4000);  // nothing queued: the whole window is open
}

TEST_CASE("what the sink leaves is queued, and later data queues behind it", "[tcp][sink]") {
  harness h;
  h.establish();
  test_sink sink;
  sink.limit = 2;
  h.sink = &sink;
  h.send(bytes("abcdef"));
  CHECK(text(sink.got) == "ab");
  CHECK(h.ep->rx_size() == 4);
  h.send(bytes("gh"));  // rx is not empty: not offered, so order is kept
  CHECK(sink.offers == 1);
  CHECK(h.ep->rx_size() == 6);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].ack == 5001 + 8);
  CHECK(out[0].window == 4000 - 6);
  CHECK(text(h.read_all()) == "cdefgh");
  h.send(bytes("ij"));  // rx drained: offered again
  CHECK(sink.offers == 2);
  CHECK(text(sink.got) == "abij");
}

TEST_CASE("a sink that takes nothing changes nothing", "[tcp][sink]") {
  harness h;
  h.establish();
  test_sink sink;
  sink.limit = 0;
  h.sink = &sink;
  h.send(bytes("xyz"));
  CHECK(h.ep->rx_size() == 3);
  CHECK(text(h.read_all()) == "xyz");
}

TEST_CASE("out-of-order and duplicate data is never offered, a FIN after taken data closes", "[tcp][sink]") {
  harness h;
  h.establish();
  test_sink sink;
  h.sink = &sink;
  h.raw(h.cseq + 10, h.cack, F::ack, h.cwin, bytes("later"));  // a hole before it
  CHECK(sink.offers == 0);
  h.send(bytes("abc"));
  h.raw(h.cseq - 3, h.cack, F::ack, h.cwin, bytes("abc"));  // a retransmission
  CHECK(text(sink.got) == "abc");
  CHECK(sink.offers == 1);
  h.send(bytes("d"), F::fin);
  CHECK(text(sink.got) == "abcd");
  CHECK(h.ep->current_state() == state::close_wait);
  CHECK(h.ep->rx_finished());
}

TEST_CASE("an idle connection gives its ring storage back and can use it again", "[tcp][sink]") {
  harness h;
  h.establish();
  CHECK_FALSE(h.ep->idle_with_buffers());  // nothing allocated yet
  h.send(bytes("ping"));
  CHECK_FALSE(h.ep->idle_with_buffers());  // data queued
  CHECK(text(h.read_all()) == "ping");
  h.poll();
  CHECK(h.ep->tx_write(bytes("pong")) == 4);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(text(out[0].data) == "pong");
  CHECK_FALSE(h.ep->idle_with_buffers());  // pong not acknowledged yet
  h.ack(out[0].seq + 4);
  CHECK(h.ep->idle_with_buffers());
  h.ep->release_buffers();
  CHECK_FALSE(h.ep->idle_with_buffers());
  CHECK_FALSE(h.ep->tx_has_storage());
  h.send(bytes("again"));
  CHECK(text(h.read_all()) == "again");
  CHECK(h.ep->tx_write(bytes("back")) == 4);
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(text(out[0].data) == "back");
  CHECK(out[0].seq == 1001 + 4);
}

TEST_CASE("the tx ring starts small, grows with data in flight, and retransmits it intact", "[tcp][sink]") {
  config c = small_config();
  c.tx_initial_capacity = 1000;
  c.tx_capacity = 8000;
  harness h(c);
  h.establish();
  const auto first = pattern(900);
  CHECK(h.ep->tx_write(first) == 900);
  CHECK(h.ep->tx_free() == 100);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].data == first);
  CHECK(h.ep->tx_grow());  // 2000
  CHECK(h.ep->tx_free() == 1100);
  const auto second = pattern(1000, 900);
  CHECK(h.ep->tx_write(second) == 1000);
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == 1001 + 900);
  CHECK(out[0].data == second);
  // Nothing acknowledged: the RTO resends the first segment from the moved ring.
  h.advance(250ms);
  out = h.poll();
  REQUIRE_FALSE(out.empty());
  CHECK(out[0].seq == 1001);
  CHECK(std::vector<std::byte>(out[0].data.begin(), out[0].data.begin() + 900) == first);
  CHECK(h.ep->tx_grow());  // 4000
  CHECK(h.ep->tx_grow());  // 8000
  CHECK_FALSE(h.ep->tx_grow());
  h.ack(1001 + 1900);
  CHECK(h.ep->idle_with_buffers());
  h.ep->release_buffers();  // back to the initial size
  CHECK(h.ep->tx_free() == 1000);
}
