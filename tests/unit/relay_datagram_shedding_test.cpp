// Unit tests for where datagrams are dropped under the tree's own flood.
#include <catch2/catch.hpp>

#include "net/relay/datagram_shedding.hpp"

using netpen::relay::datagram_shedding;
using netpen::relay::shed_slot;

namespace {
unsigned admitted(datagram_shedding& s, shed_slot& slot, unsigned offered) {
  unsigned n = 0;
  for (unsigned i = 0; i < offered; ++i) n += s.admit(slot) ? 1U : 0U;
  return n;
}
}  // namespace

TEST_CASE("nothing is shed while the tap runs dry", "[relay]") {
  datagram_shedding s;
  shed_slot flow;
  CHECK_FALSE(s.overloaded());
  CHECK(admitted(s, flow, 1000) == 1000);
  s.end_round(true);
  CHECK(admitted(s, flow, 1000) == 1000);
}

TEST_CASE("each round that leaves the tap full halves a flow's share, down to a floor", "[relay]") {
  datagram_shedding s;
  shed_slot flood;
  CHECK(admitted(s, flood, 64) == 64);  // the round that found the tap full
  unsigned expected = datagram_shedding::full_share;
  for (int round = 0; round < 10; ++round) {
    s.end_round(false);
    CHECK(s.overloaded());
    expected = std::max(datagram_shedding::min_share, expected / 2);
    CHECK(admitted(s, flood, 100) == expected);  // a fresh share each round
  }
  CHECK(expected == datagram_shedding::min_share);
}

TEST_CASE("a quiet flow keeps its datagrams while another floods", "[relay]") {
  datagram_shedding s;
  shed_slot flood, quiet;
  s.end_round(false);
  s.end_round(false);
  CHECK(admitted(s, flood, 60) == s.share());
  CHECK(admitted(s, quiet, 3) == 3);
}

TEST_CASE("the first round that empties the tap lifts the cap", "[relay]") {
  datagram_shedding s;
  shed_slot flood;
  for (int round = 0; round < 5; ++round) s.end_round(false);
  CHECK(admitted(s, flood, 40) == datagram_shedding::min_share);
  s.end_round(true);
  CHECK_FALSE(s.overloaded());
  CHECK(admitted(s, flood, 400) == 400);
  s.end_round(false);  // a new overload starts again from half a round
  CHECK(admitted(s, flood, 400) == 32);
}

TEST_CASE("a flow new in an overloaded round gets the round's share", "[relay]") {
  datagram_shedding s;
  s.end_round(false);
  s.end_round(false);
  shed_slot fresh;
  CHECK(admitted(s, fresh, 100) == s.share());
}
