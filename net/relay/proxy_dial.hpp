// The one proxy client of both data paths: a TCP connection from the tree
// to `key.dst` opened through the upstream proxy. The rootless relay's
// tcp_flow and the rootful backend's transparent flows (TPROXY) both call
// it. It names the destination as the tree looked it up (the name index or
// the synthetic range), else by address; connects to the proxy's addresses
// in order; then runs the handshake (TLS, CONNECT or SOCKS5). The caller
// bounds the time: a timer that cancels stream.socket() when it fires.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "net/host_io/host_stream.hpp"
#include "net/relay/flow_context.hpp"
#include "net/relay/flow_key.hpp"

namespace netpen::relay {

// What the caller wants to know while the dial runs (the egress capture).
class proxy_dial_hooks {
 public:
  virtual void opening(const asio::ip::tcp::endpoint& /*proxy*/) {}
  virtual void connect_failed(const asio::error_code& /*ec*/) {}
  virtual void connected() {}
  // True when the tree's side gave up meanwhile: the dial stops.
  virtual bool abandoned() const { return false; }

 protected:
  ~proxy_dial_hooks() = default;
};

struct proxy_dial_outcome {
  bool tunnel = false;      // open: `stream` carries the tree's bytes from here
  bool abandoned = false;   // the tree gave up: nothing to report
  std::string failure;      // why not, for the proxy_failed event (never the password)
  std::optional<std::string> name;  // the name the request used, if any
  std::vector<std::byte> early;     // tunnel bytes the proxy sent with its answer
};

// `limit` is the caller's armed timer (its expiry tells a timeout apart).
asio::awaitable<proxy_dial_outcome> dial_through_proxy(flow_context& ctx, host_io::host_stream& stream,
                                                       const flow_key& key, const asio::steady_timer& limit,
                                                       proxy_dial_hooks& hooks);

}  // namespace netpen::relay
