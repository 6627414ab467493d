// An inbound UDP flow (--publish) over one connected host socket: rootful,
// toward the tree's veth address; either backend, toward the sandbox's
// loopback through a socket made in its network namespace. The server's
// datagrams go to `reply`; an ICMP port unreachable for the flow (the
// socket's ECONNREFUSED: nothing listens on that address) goes to `refused`.
// All socket work runs on the flow's strand, except send() (non-blocking,
// from the publish server's strand).
#pragma once
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>
#include <asio/strand.hpp>

#include <functional>
#include <memory>

#include "net/relay/inbound.hpp"

namespace netpen::relay {

class socket_datagrams final : public inbound_datagrams, public std::enable_shared_from_this<socket_datagrams> {
 public:
  socket_datagrams(asio::io_context& ctx, asio::ip::udp::endpoint target, inbound_connector::reply_fn reply,
                   std::function<void()> refused);

  // Connects `fd` (an unconnected UDP socket of the target's family; -1: a
  // new one in netpen's own namespace) and starts receiving; false when the
  // socket cannot be made or connected (the fd is closed then).
  bool open(int fd = -1);
  void send(std::span<const std::byte> payload) override;
  void close() override;
  const flow_key& key() const override { return key_; }

 private:
  asio::awaitable<void> receive();

  asio::strand<asio::any_io_executor> strand_;
  asio::ip::udp::socket socket_;
  asio::ip::udp::endpoint target_;
  inbound_connector::reply_fn reply_;
  std::function<void()> refused_;
  flow_key key_;
};

}  // namespace netpen::relay
