// The capture point `wire-egress` (see wire_egress_point.hpp).
#include "capture/wire_egress_point.hpp"

namespace netpen::capture {

result<std::unique_ptr<wire_egress_point>> wire_egress_point::open(const flow_comments& comments) {
  std::unique_ptr<wire_egress_point> point(new wire_egress_point(comments));
  auto tap = wire_tap::open([p = point.get()](std::uint64_t ts_ns, std::span<const std::byte> ip_packet,
                                              std::uint32_t original_length,
                                              const relay::host_conn& c) { p->packet(ts_ns, ip_packet, original_length, c); });
  if (!tap) return unexpected<error>(tap.error());
  point->tap_ = std::move(*tap);
  return point;
}

interface_info wire_egress_point::interface() {
  interface_info itf;
  itf.link_type = linktype_raw;
  itf.snaplen = wire_tap::snap_length;
  itf.name = "wire-egress";
  itf.description =
      "the host's interfaces (AF_PACKET), kernel-filtered to this run's relay sockets: the tree's flows as they "
      "leave the host";
  return itf;
}

void wire_egress_point::packet(std::uint64_t ts_ns, std::span<const std::byte> ip_packet, std::uint32_t original_length,
                        const relay::host_conn& c) {
  if (capture_file* file = file_.load(std::memory_order_acquire))
    file->packet(0, ts_ns, ip_packet, original_length, comments_.for_flow(c.child));
}

}  // namespace netpen::capture
