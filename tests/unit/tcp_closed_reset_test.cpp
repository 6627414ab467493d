// Unit tests for the reset a segment of no connection gets (RFC 9293
// 3.10.7.1, tcp/closed_reset.hpp).
#include <catch2/catch.hpp>

#include <array>

#include "net/packet/frame.hpp"
#include "net/tcp/closed_reset.hpp"

using netpen::tcp::closed_reset;
using netpen::tcp::reset_for_closed;
using netpen::tcp::segment_in;
namespace flag = netpen::packet::tcp_flag;

namespace {
segment_in seg(std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::span<const std::byte> payload = {}) {
  segment_in s;
  s.seq = seq;
  s.ack = ack;
  s.flags = flags;
  s.payload = payload;
  return s;
}
}  // namespace

TEST_CASE("closed: a reset is never answered", "[tcp][closed]") {
  CHECK_FALSE(reset_for_closed(seg(100, 0, flag::rst)));
  CHECK_FALSE(reset_for_closed(seg(100, 7, flag::rst | flag::ack)));
  CHECK_FALSE(reset_for_closed(seg(100, 0, flag::rst | flag::syn)));
}

TEST_CASE("closed: a segment with ACK gets <SEQ=SEG.ACK><CTL=RST>", "[tcp][closed]") {
  const std::array<std::byte, 5> data{};
  CHECK(reset_for_closed(seg(1000, 777, flag::ack)) == closed_reset{777, 0, false});
  CHECK(reset_for_closed(seg(1000, 777, flag::ack | flag::psh, data)) == closed_reset{777, 0, false});
  CHECK(reset_for_closed(seg(1000, 0xffffffff, flag::ack | flag::fin)) == closed_reset{0xffffffff, 0, false});
  CHECK(reset_for_closed(seg(1000, 5, flag::syn | flag::ack)) == closed_reset{5, 0, false});
}

TEST_CASE("closed: a segment without ACK gets RST|ACK acknowledging SEG.SEQ+SEG.LEN", "[tcp][closed]") {
  const std::array<std::byte, 10> data{};
  CHECK(reset_for_closed(seg(1000, 0, flag::syn)) == closed_reset{0, 1001, true});               // SYN counts one
  CHECK(reset_for_closed(seg(1000, 0, flag::psh, data)) == closed_reset{0, 1010, true});         // the payload
  CHECK(reset_for_closed(seg(1000, 0, flag::fin, data)) == closed_reset{0, 1011, true});         // FIN counts one
  CHECK(reset_for_closed(seg(1000, 0, flag::syn | flag::fin)) == closed_reset{0, 1002, true});
  CHECK(reset_for_closed(seg(0xfffffffe, 0, flag::syn, data)) == closed_reset{0, 9, true});      // wraps
  CHECK(reset_for_closed(seg(42, 0, 0)) == closed_reset{0, 42, true});                          // a bare segment
}
