// One UDP flow of --host-port: a client in the tree (behind a listener
// inside the tree or on the gateway, or through the tap to the gateway)
// talking to the host's loopback at one listed port. A datagram_flow (open,
// receive loop against the idle expiry, events "via host-port"); its host
// socket is connected to the client's loopback family first and, if the
// host answers the first datagrams with "port unreachable" before any
// reply, to the other family (the datagram is sent again), as TCP falls
// back on a refused connect. Replies go to the client through `reply`,
// called on the flow's strand.
#pragma once
#include <asio/ip/udp.hpp>

#include <functional>
#include <span>
#include <vector>

#include "net/relay/datagram_flow.hpp"

namespace netpen::relay {

class host_port_udp_flow final : public datagram_flow {
 public:
  using reply_fn = std::function<void(std::span<const std::byte>)>;

  host_port_udp_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key,
                     const udp_idle_expiry& expiry, done_fn on_done, reply_fn reply);

  // A datagram from the client.
  void send(std::vector<std::byte> payload);

 private:
  bool open_socket() override;
  asio::awaitable<void> receive_loop() override;
  void close_socket() override;
  int socket_fd() override { return socket_.native_handle(); }
  bool connect_to(bool v6);
  void send_now(const std::vector<std::byte>& payload);

  asio::ip::udp::socket socket_;
  reply_fn reply_;
  bool v6_ = false;         // the loopback family in use
  bool switched_ = false;   // fell back to the other family once
  std::vector<std::byte> last_;  // the last datagram sent (re-sent after a fallback)
};

}  // namespace netpen::relay
