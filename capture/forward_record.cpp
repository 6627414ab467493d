// One NFLOG packet as the rootful egress point writes it (see forward_record.hpp).
#include "capture/forward_record.hpp"

#include <algorithm>

#include <linux/netfilter.h>

#include "capture/wire_filter.hpp"

namespace netpen::capture {

std::uint32_t ip_packet_length(std::span<const std::byte> ip_packet) {
  const auto size = static_cast<std::uint32_t>(ip_packet.size());
  if (ip_packet.empty()) return size;
  const auto byte = [&](std::size_t i) { return std::to_integer<std::uint32_t>(ip_packet[i]); };
  const auto version = byte(0) >> 4;
  std::uint32_t said = size;
  if (version == 4 && size >= 20) said = byte(2) << 8 | byte(3);
  if (version == 6 && size >= 40) said = 40 + (byte(4) << 8 | byte(5));
  return std::max(said, size);
}

std::optional<forward_record> record_of(const netfilter::logged_packet& p) {
  if (p.payload.empty()) return std::nullopt;
  forward_record r;
  r.ip_packet = p.payload;
  r.original_length = ip_packet_length(p.payload);
  r.outgoing = p.hook == NF_INET_POST_ROUTING;
  r.host_side = wire_socket_of(p.payload, r.outgoing);
  return r;
}

}  // namespace netpen::capture
