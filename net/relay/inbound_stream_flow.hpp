// An inbound TCP flow (--publish) between two host sockets: the host client
// the publish server accepted, and a socket connected to the server in the
// sandbox (rootful: to the tree's veth address, so the server sees the
// gateway; either backend: to the sandbox's loopback through a socket made
// in its network namespace).
//
// Lifecycle, on its own strand: connect (bounded); refused or failed, the
// client goes back through `refused` and nothing is reported; connected,
// an inbound flow_open, then bytes both ways (an EOF becomes a shutdown of
// the other side's sending half; an error resets both), then flow_close
// with the bytes and how it ended. shutdown() ends it early ("shutdown").
#pragma once
#include <asio/ip/tcp.hpp>
#include <asio/strand.hpp>

#include <functional>
#include <memory>

#include "net/relay/flow_context.hpp"
#include "net/relay/flow_record.hpp"
#include "net/relay/inbound.hpp"

namespace netpen::relay {

class inbound_stream_flow : public std::enable_shared_from_this<inbound_stream_flow> {
 public:
  // `server` is open (made in the right network namespace) but not connected.
  inbound_stream_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, asio::ip::tcp::socket client,
                      int server_fd, asio::ip::tcp::endpoint target, std::string client_text,
                      inbound_connector::refused_fn refused, std::function<void()> done);
  void start();
  void shutdown();

 private:
  asio::awaitable<void> run();
  asio::awaitable<bool> connect();
  asio::awaitable<void> pump(asio::ip::tcp::socket& from, asio::ip::tcp::socket& to, std::uint64_t& counter);
  void reset_both();

  flow_context& ctx_;
  asio::strand<asio::any_io_executor> strand_;
  asio::ip::tcp::socket client_;
  asio::ip::tcp::socket server_;
  asio::ip::tcp::endpoint target_;
  inbound_connector::refused_fn refused_;
  std::function<void()> done_;
  flow_key key_;
  flow_record record_;
  bool reset_ = false;
};

}  // namespace netpen::relay
