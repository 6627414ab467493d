// The answer to a segment that belongs to no connection (RFC 9293 3.10.7.1,
// the CLOSED state): a reset, unless the segment is itself a reset. Pure
// logic; the engine sends what it says.
//   ACK set:  <SEQ=SEG.ACK><CTL=RST>
//   else:     <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>  (SYN and FIN count in SEG.LEN)
#pragma once
#include <cstdint>
#include <optional>

#include "net/tcp/tcp_endpoint.hpp"

namespace netpen::tcp {

struct closed_reset {
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  bool with_ack = false;  // RST|ACK (the segment had no ACK), else a bare RST
  friend bool operator==(const closed_reset&, const closed_reset&) = default;
};

// nullopt: never answer a reset.
std::optional<closed_reset> reset_for_closed(const segment_in& seg);

}  // namespace netpen::tcp
