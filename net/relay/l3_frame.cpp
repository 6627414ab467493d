// An L3 packet parsed as a frame (see l3_frame.hpp).
#include "net/relay/l3_frame.hpp"

#include <cstring>

namespace netpen::relay {

std::optional<packet::frame> parse_l3(std::span<const std::byte> l3, std::uint16_t hw_protocol,
                                      std::vector<std::byte>& scratch) {
  scratch.assign(14 + l3.size(), std::byte{0});
  scratch[12] = static_cast<std::byte>(hw_protocol >> 8);
  scratch[13] = static_cast<std::byte>(hw_protocol & 0xff);
  if (!l3.empty()) std::memcpy(scratch.data() + 14, l3.data(), l3.size());  // an absent payload is a null span
  auto f = packet::parse_frame(scratch);
  if (!f || f->ip_packet.empty()) return std::nullopt;
  return *f;
}

}  // namespace netpen::relay
