// A datagram flow's host socket (UDP, or an ICMP echo socket) as the
// capture's egress points see it (egress_observer.hpp): opened once the
// socket is connected (its local port, or for ICMP its identifier, is then
// fixed), each datagram it sends or receives, closed. Does nothing without
// an egress observer. Use from the flow's strand.
#pragma once
#include <asio/buffer.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "net/relay/egress_observer.hpp"
#include "net/relay/flow_key.hpp"

namespace netpen::relay {

class datagram_egress {
 public:
  // `fd` is connected. `icmp_id`: the identifier a raw ICMP socket sends
  // as is (a ping socket's is its local port, read from the socket).
  void open(egress_observer* observer, int fd, const flow_key& child, std::optional<std::uint16_t> icmp_id = {});
  void data(host_direction d, std::span<const std::byte> bytes);
  void close();

 private:
  egress_observer* observer_ = nullptr;  // set while open
  host_conn conn_;
};

}  // namespace netpen::relay
