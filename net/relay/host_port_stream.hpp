// One TCP connection of --host-port accepted on a listener (inside the
// tree at 127.0.0.1/[::1], or on the gateway under --root): netpen connects
// to the host's loopback at the listener's own port (host_port_connect) and
// copies bytes both ways until both sides finished.
//
// Lifecycle (on its strand): connect (bounded by the connect timeout); if
// that fails the client gets a reset, and flow_open (end "refused") and
// flow_close are still published; else flow_open, then two pumps, each
// reading one socket and writing the other, passing a FIN on as a shutdown
// of the write side; a reset or error on either side resets the other
// (end "reset"). shutdown() (the run ends) closes both (end "shutdown").
// Events carry via "host-port" and no policy: none was asked.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <functional>
#include <memory>

#include "net/relay/flow_context.hpp"
#include "net/relay/flow_key.hpp"
#include "net/relay/flow_record.hpp"

namespace netpen::relay {

class host_port_stream : public std::enable_shared_from_this<host_port_stream> {
 public:
  // `client` was accepted on a strand's executor; `key`: its source and the
  // listener's address (the port the host side connects to).
  // `on_done` runs once it has ended (flow_close published).
  host_port_stream(flow_context& ctx, asio::ip::tcp::socket client, const flow_key& key,
                   std::function<void()> on_done);

  void start();
  void shutdown();
  bool finished() const { return finished_.load(std::memory_order_acquire); }

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> pump(asio::ip::tcp::socket& from, asio::ip::tcp::socket& to, std::uint64_t& bytes);
  void reset_both();

  flow_context& ctx_;
  asio::ip::tcp::socket client_, host_;
  flow_key key_;
  flow_record record_;
  std::function<void()> on_done_;
  bool ended_ = false;
  std::atomic<bool> finished_{false};
};

}  // namespace netpen::relay
