// One TCP connection of the tree that the host's TPROXY rule handed to
// netpen's transparent listener (rootful backend), spliced to where it was
// going: through the upstream proxy (proxy mode), or straight to the
// original destination from the host (claim mode without a proxy: the
// tree's first bytes were read and judged first, claim_flow.hpp).
//
// Proxy mode: the tree's SYN is held in the flow gate (NFQUEUE) while
// netpen opens the tunnel through the upstream proxy (the shared proxy
// client, proxy_dial.hpp); only then is the SYN let go, and the accepted
// socket (local address: where the tree meant to go) is spliced to the
// tunnel. So a proxy that fails refuses the tree's connect (an RST to the
// SYN), as in the rootless relay.
//
// Lifecycle: dial() (on the gate's judgement; failure: a proxy_failed event
// and the SYN denied) -> waiting for the tree's connection (attach(); not
// within the connect timeout: closed) -> splicing: first the bytes the tree
// sent before (attach()'s `first`, read while its claim was judged), then
// each direction on its own until EOF, which is passed on as a half-close
// (a FIN to the tree; to the proxy too unless over TLS) -> both directions
// done: both sockets closed. An error on either side resets both. A
// connection the gate did not see dialed (attach() first) dials (or
// connects) then, and a failure resets it (a direct connect's failure is
// told to `connect_failed`, so the flow's end can say why).
// Flow open/close events and byte counts come from the gate and the tree's
// conntrack, as for every kernel-forwarded flow (kernel_gate.hpp).
// Everything runs on the flow's strand.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "net/host_io/host_stream.hpp"
#include "net/relay/flow_context.hpp"
#include "net/relay/flow_key.hpp"
#include "net/relay/proxy_dial.hpp"

namespace netpen::relay {

class transparent_flow final : public std::enable_shared_from_this<transparent_flow>, private proxy_dial_hooks {
 public:
  transparent_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key);
  // Opens the tunnel (from any executor); false: it failed (event emitted).
  asio::awaitable<bool> dial();
  // The tree's connection arrived: splice it (dialing first if dial() was
  // not called), after sending on `first`, the bytes the tree sent already.
  void attach(asio::ip::tcp::socket tree, std::vector<std::byte> first = {});
  // Told how a direct connect failed ("refused", "unreachable", "timeout");
  // set before attach().
  void on_connect_failed(std::function<void(std::string_view end)> told) { connect_failed_ = std::move(told); }
  // Ends the flow now (the run ends, or its conntrack entry is gone): both
  // sockets closed, with a reset if still open.
  void shutdown();

 private:
  asio::awaitable<bool> open_tunnel();
  asio::awaitable<bool> connect_direct();
  asio::awaitable<void> splice(bool dialed);
  asio::awaitable<void> tree_to_proxy();
  asio::awaitable<void> proxy_to_tree();
  void reset_both();
  bool abandoned() const override { return closed_; }

  flow_context& ctx_;
  asio::strand<asio::any_io_executor> strand_;
  asio::ip::tcp::socket tree_;
  host_io::host_stream stream_;
  asio::steady_timer waiting_;  // dialed, the tree's connection not here yet
  flow_key key_;
  std::vector<std::byte> early_;  // tunnel bytes the proxy sent with its answer
  std::vector<std::byte> first_;  // the tree's bytes read before the splice (claim mode)
  std::function<void(std::string_view)> connect_failed_;
  bool dialed_ = false;
  bool closed_ = false;
};

}  // namespace netpen::relay
