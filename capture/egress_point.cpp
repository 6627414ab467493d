// The rebuilt host-side capture point (see egress_point.hpp).
#include "capture/egress_point.hpp"

namespace netpen::capture {

interface_info egress_point::interface() {
  interface_info itf;
  itf.link_type = linktype_ethernet;
  itf.name = "egress";
  itf.description =
      "netpen relay host sockets: the tree's flows with the host's addresses, rebuilt from what each socket "
      "sent and received (no kernel ACKs or retransmissions)";
  return itf;
}

void egress_point::opened(const relay::host_conn& c) {
  const std::lock_guard lock(mutex_);
  synth_.opened(c, wall_clock_ns());
}

void egress_point::connected(const relay::host_conn& c) {
  const std::lock_guard lock(mutex_);
  synth_.connected(c, wall_clock_ns());
}

void egress_point::data(const relay::host_conn& c, relay::host_direction d,
                        std::span<const asio::const_buffer> buffers, std::size_t n) {
  const std::lock_guard lock(mutex_);
  synth_.data(c, d, buffers, n, wall_clock_ns());
}

void egress_point::fin(const relay::host_conn& c, relay::host_direction d) {
  const std::lock_guard lock(mutex_);
  synth_.fin(c, d, wall_clock_ns());
}

void egress_point::closed(const relay::host_conn& c, relay::host_close how) {
  const std::lock_guard lock(mutex_);
  synth_.closed(c, how, wall_clock_ns());
}

// Called by synth_ with mutex_ held.
void egress_point::frame(const relay::host_conn& c, std::uint64_t timestamp_ns,
                         std::span<const std::span<const std::byte>> pieces) {
  std::size_t length = 0;
  for (const auto& p : pieces) length += p.size();
  file_.packet(0, timestamp_ns, pieces, static_cast<std::uint32_t>(length), comments_.for_flow(c.child));
}

}  // namespace netpen::capture
