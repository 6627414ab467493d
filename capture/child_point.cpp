// The tap-boundary capture point (see child_point.hpp).
#include "capture/child_point.hpp"

#include <cstring>
#include <optional>

#include "net/packet/frame.hpp"  // ethertypes, protocol numbers, ip_address

namespace netpen::capture {
namespace {

// The flow a frame belongs to, as the child sees it (its own endpoint as
// src), or nullopt for frames that are not TCP/UDP over IPv4/IPv6 without
// extension headers. Reads only the headers (all in the frame's first
// piece) and checks nothing else: this runs for every captured frame, and a
// wrong key only means no comment.
std::optional<relay::flow_key> flow_of(std::span<const std::byte> head, relay::frame_direction d) {
  auto at = [&](std::size_t i) { return std::to_integer<std::uint8_t>(head[i]); };
  auto be16 = [&](std::size_t i) { return static_cast<std::uint16_t>(at(i) << 8 | at(i + 1)); };
  constexpr std::size_t eth = 14;
  if (head.size() < eth + 20) return std::nullopt;
  const std::uint16_t ethertype = be16(12);
  relay::flow_key k;
  packet::ip_address src, dst;
  std::size_t l4 = 0;
  if (ethertype == packet::ethertype_ipv4) {
    const std::size_t ihl = std::size_t{at(eth) & 0x0fu} * 4;
    k.protocol = at(eth + 9);
    std::memcpy(src.bytes.data(), head.data() + eth + 12, 4);
    std::memcpy(dst.bytes.data(), head.data() + eth + 16, 4);
    l4 = eth + ihl;
  } else if (ethertype == packet::ethertype_ipv6) {
    if (head.size() < eth + 40) return std::nullopt;
    src.v6 = dst.v6 = true;
    k.protocol = at(eth + 6);
    std::memcpy(src.bytes.data(), head.data() + eth + 8, 16);
    std::memcpy(dst.bytes.data(), head.data() + eth + 24, 16);
    l4 = eth + 40;
  } else {
    return std::nullopt;
  }
  if ((k.protocol != packet::proto_tcp && k.protocol != packet::proto_udp) || head.size() < l4 + 4)
    return std::nullopt;
  const bool out = d == relay::frame_direction::from_child;
  k.src = out ? src : dst;
  k.dst = out ? dst : src;
  k.src_port = be16(out ? l4 : l4 + 2);
  k.dst_port = be16(out ? l4 + 2 : l4);
  return k;
}

}  // namespace

interface_info child_point::interface() {
  interface_info tap;
  tap.link_type = linktype_ethernet;
  tap.name = "tap0";
  tap.description = "netpen sandbox link (the command tree's side of the relay)";
  return tap;
}

void child_point::frame(relay::frame_direction d, std::span<const std::byte> head, std::span<const std::byte> p0,
                        std::span<const std::byte> p1) {
  std::string comment;
  if (comments_.any()) {
    if (const auto key = flow_of(head, d)) comment = comments_.for_flow(*key);
  }
  const std::span<const std::byte> pieces[] = {head, p0, p1};
  const auto length = static_cast<std::uint32_t>(head.size() + p0.size() + p1.size());
  file_.packet(0, wall_clock_ns(), pieces, length, comment);
}

}  // namespace netpen::capture
