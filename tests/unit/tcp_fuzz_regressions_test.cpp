// TCP endpoint cases found by fuzz/fuzz_tcp_endpoint.cpp, one per crash,
// each with the input file that found it (in fuzz/corpus/tcp_endpoint/,
// replayed by every fuzz run) and the scenario it scripted, written out.
#include "tcp_harness.hpp"

using namespace tcptest;

// regress-synrecv-unacceptable-ack: in syn_received the child's handshake
// ACK came with a sequence number outside our window (and a FIN). The
// endpoint went to established, then dropped the segment as unacceptable,
// so SND.UNA stayed at our SYN: the RTO's go-back-N resent our FIN (and
// would have resent data) from the SYN's sequence number, one too low.
TEST_CASE("fuzz: a handshake ACK outside the window does not establish", "[tcp][fuzz]") {
  harness h;
  h.ep->accept(h.now);
  REQUIRE(h.poll().size() == 1);
  h.raw(h.cseq + 100000, h.our_isn + 1, F::ack | F::fin, 65535);
  CHECK(h.ep->current_state() == state::syn_received);
  CHECK(h.poll().empty());
  h.ack(h.our_isn + 1);
  REQUIRE(h.ep->current_state() == state::established);
  REQUIRE(h.write(bytes("abc")) == 3);
  h.ep->tx_close();
  auto out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == h.our_isn + 1);
  CHECK(text(out[0].data) == "abc");
  h.advance(h.ep->current_rto());
  out = h.poll();
  REQUIRE(out.size() == 1);
  CHECK(out[0].seq == h.our_isn + 1);  // the retransmission starts at SND.UNA, after the SYN
  CHECK(text(out[0].data) == "abc");
  CHECK(out[0].has(F::fin));
}
