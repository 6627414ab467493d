// The reset for a segment of no connection (see closed_reset.hpp).
#include "net/tcp/closed_reset.hpp"

#include "net/packet/frame.hpp"

namespace netpen::tcp {

std::optional<closed_reset> reset_for_closed(const segment_in& seg) {
  if ((seg.flags & packet::tcp_flag::rst) != 0) return std::nullopt;
  if ((seg.flags & packet::tcp_flag::ack) != 0) return closed_reset{seg.ack, 0, false};
  const auto len = static_cast<std::uint32_t>(seg.payload.size() + ((seg.flags & packet::tcp_flag::syn) ? 1 : 0) +
                                              ((seg.flags & packet::tcp_flag::fin) ? 1 : 0));
  return closed_reset{0, seg.seq + len, true};
}

}  // namespace netpen::tcp
