// A TPROXY'd TCP connection's direct connect under --root, in claim mode
// without a proxy (see transparent_flow.hpp).
#include <asio/steady_timer.hpp>

#include "net/common/log.hpp"
#include "net/relay/host_connect.hpp"
#include "net/relay/host_socket.hpp"
#include "net/relay/transparent_flow.hpp"

namespace netpen::relay {
namespace {

// How a direct connect's failure ends the flow (as the rootless relay's
// flow_close says it).
std::string_view end_of_connect_error(const asio::error_code& ec) {
  if (ec == asio::error::connection_refused) return "refused";
  if (ec == asio::error::operation_aborted || ec == asio::error::timed_out) return "timeout";
  if (ec == asio::error::host_unreachable || ec == asio::error::network_unreachable) return "unreachable";
  return "reset";
}

}  // namespace

// Claim mode without a proxy: straight to the original destination, from
// the host (as the kernel would have forwarded it), within the connect
// timeout. A failure resets the tree's connection.
asio::awaitable<bool> transparent_flow::connect_direct() {
  const asio::ip::tcp::endpoint target(to_asio(key_.dst), key_.dst_port);
  asio::steady_timer limit(strand_);
  cancel_after(limit, stream_.socket(), ctx_.settings().connect_timeout);
  asio::error_code ec;
  stream_.socket().open(target.protocol(), ec);
  if (!ec) ec = co_await connect_host(stream_.socket(), target);
  limit.cancel();
  if (closed_) co_return false;
  if (ec) {
    log::debug("{}: connect failed: {}", to_string(key_), ec.message());
    if (connect_failed_) connect_failed_(end_of_connect_error(ec));
    reset_both();
    co_return false;
  }
  asio::error_code ignored;
  stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  log::debug("{}: connected", to_string(key_));
  dialed_ = true;
  co_return true;
}

}  // namespace netpen::relay
