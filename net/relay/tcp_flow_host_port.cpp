// A TCP flow of the child to a gateway port listed in --host-port (see
// destination.hpp): no policy is asked (the user opened the port), the host
// side connects to the host's loopback at the same port (host_port_connect),
// and the flow's events say "via host-port".
#include <asio/steady_timer.hpp>

#include "net/common/log.hpp"
#include "net/relay/host_port_connect.hpp"
#include "net/relay/tcp_flow.hpp"

namespace netpen::relay {

asio::awaitable<tcp_flow::connect_result> tcp_flow::connect_host_port() {
  record_.via = "host-port";
  asio::steady_timer limit(strand_);
  arm_connect_limit(limit);
  auto& socket = stream_.socket();
  const asio::error_code ec = co_await connect_host_loopback(socket, key_.dst.v6, key_.dst_port);
  limit.cancel();
  if (ec || ep_.is_closed()) {
    log::debug("{}: host port: connect failed: {}", to_string(key_), ec ? ec.message() : "child gave up");
    co_return connect_result::reset;
  }
  asio::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  log::debug("{}: connected to the host's loopback", to_string(key_));
  co_return connect_result::connected;
}

}  // namespace netpen::relay
