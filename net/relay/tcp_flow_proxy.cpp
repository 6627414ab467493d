// A TCP flow's connect through the upstream proxy (see tcp_flow.hpp, step
// 2): the shared proxy dial (proxy_dial.hpp) within the flow's connect
// timeout, and the proxy_failed event when it fails.
#include <asio/steady_timer.hpp>

#include "net/relay/host_socket.hpp"
#include "net/relay/tcp_flow.hpp"

namespace netpen::relay {

asio::awaitable<tcp_flow::connect_result> tcp_flow::connect_via_proxy() {
  asio::steady_timer limit(strand_);
  arm_connect_limit(limit);
  proxy_dial_outcome dialed = co_await dial_through_proxy(ctx_, stream_, key_, limit, *this);
  limit.cancel();
  if (dialed.abandoned) co_return connect_result::reset;  // the child gave up
  if (!dialed.tunnel) {
    report_proxy_failure(dialed.failure, dialed.name);
    co_return connect_result::reset;
  }
  early_ = std::move(dialed.early);
  record_.via = proxy::display(*ctx_.settings().proxy);
  log::debug("{}: tunnel to {} open through {}", to_string(key_), dialed.name.value_or(to_string(key_.dst)),
             record_.via);
  co_return connect_result::connected;
}

void tcp_flow::report_proxy_failure(const std::string& reason, const std::optional<std::string>& name) {
  log::debug("{}: proxy failed: {}", to_string(key_), reason);
  auto e = ctx_.flow_event(events::kind::proxy_failed, key_, record_);
  e.name = name;
  e.reason = reason;
  e.via = proxy::display(*ctx_.settings().proxy);
  e.end = "refused";
  ctx_.report(std::move(e), key_, true);
}

}  // namespace netpen::relay
