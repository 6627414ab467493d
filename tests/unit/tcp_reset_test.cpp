// TCP endpoint, resets: RST from the child in and out of the window, RST
// never answered, challenge ACK for a SYN, abort() in each phase.
#include "tcp_harness.hpp"

using namespace tcptest;

TEST_CASE("RST at exactly RCV.NXT resets the connection", "[tcp]") {
  harness h;
  h.establish();
  h.write(bytes("pending"));
  h.raw(5001, 0, F::rst, 0);
  CHECK(h.ep->is_closed());
  CHECK(h.ep->was_reset());
  CHECK(h.ep->reset_by_peer());
  CHECK(h.poll().empty());
  CHECK_FALSE(h.ep->next_deadline().has_value());
}

TEST_CASE("RST inside the receive window is accepted", "[tcp]") {
  harness h;
  h.establish();
  h.raw(5001 + 3999, 0, F::rst | F::ack, 0);
  CHECK(h.ep->reset_by_peer());
}

TEST_CASE("RST outside the receive window is ignored and not answered", "[tcp]") {
  harness h;
  h.establish();
  h.raw(5001 + 4000, 0, F::rst, 0);
  h.raw(5000, 0, F::rst, 0);
  h.raw(1, 77, F::rst | F::ack, 0);
  CHECK(h.ep->current_state() == state::established);
  CHECK_FALSE(h.ep->was_reset());
  CHECK(h.poll().empty());
}

TEST_CASE("RST with a zero window only at exactly RCV.NXT", "[tcp]") {
  harness h;
  h.establish();
  h.send(pattern(4000));
  REQUIRE(h.poll().size() == 1);
  h.raw(h.cseq + 1, 0, F::rst, 0);
  CHECK_FALSE(h.ep->is_closed());
  h.raw(h.cseq, 0, F::rst, 0);
  CHECK(h.ep->reset_by_peer());
}

TEST_CASE("RST in syn_received closes", "[tcp]") {
  harness h;
  h.ep->accept(h.now);
  REQUIRE(h.poll().size() == 1);
  h.raw(5001, 0, F::rst, 0);
  CHECK(h.ep->is_closed());
  CHECK(h.ep->reset_by_peer());
  CHECK(h.poll().empty());
}

TEST_CASE("RST in time_wait just closes", "[tcp]") {
  harness h;
  h.establish();
  h.ep->tx_close();
  REQUIRE(h.poll().size() == 1);
  h.cack = 1002;
  h.fin();
  REQUIRE(h.ep->current_state() == state::time_wait);
  h.raw(h.cseq, 0, F::rst, 0);
  CHECK(h.ep->is_closed());
  CHECK_FALSE(h.ep->reset_by_peer());
}

TEST_CASE("a SYN on an established connection gets a challenge ACK", "[tcp]") {
  harness h;
  h.establish();
  h.send(bytes("abc"));
  REQUIRE(h.poll().size() == 1);
  h.raw(5004, 0, F::syn, 65535);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::ack));
  CHECK(out[0].seq == 1001);
  CHECK(out[0].ack == 5004);
  CHECK(h.ep->current_state() == state::established);
  CHECK(h.ep->rx_size() == 3);
}

TEST_CASE("abort on an established connection sends RST|ACK at SND.MAX", "[tcp]") {
  harness h;
  h.establish();
  h.send(bytes("ab"));
  h.write(pattern(300));
  REQUIRE(h.poll().size() == 1);
  h.ep->abort();
  CHECK(h.ep->is_closed());
  CHECK(h.ep->was_reset());
  CHECK_FALSE(h.ep->reset_by_peer());
  CHECK(h.ep->tx_free() == 0);
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].only(F::rst | F::ack));
  CHECK(out[0].seq == 1301);
  CHECK(out[0].ack == 5003);
  CHECK(h.poll().empty());
}

TEST_CASE("nothing is processed after close", "[tcp]") {
  harness h;
  h.establish();
  h.ep->abort();
  REQUIRE(h.poll().size() == 1);
  h.send(bytes("ghost"));
  h.raw(1, 1, F::syn, 0);
  CHECK(h.ep->rx_size() == 0);
  CHECK(h.poll().empty());
  CHECK(std::string(netpen::tcp::to_string(h.ep->current_state())) == "closed");
}

TEST_CASE("abort in time_wait closes without a RST", "[tcp]") {
  harness h;
  h.establish();
  h.ep->tx_close();
  REQUIRE(h.poll().size() == 1);
  h.cack = 1002;
  h.fin();
  REQUIRE(h.poll().size() == 1);
  h.ep->abort();
  CHECK(h.ep->is_closed());
  CHECK(h.poll().empty());
}
