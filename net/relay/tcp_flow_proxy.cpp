// A TCP flow's connect through the upstream proxy (see tcp_flow.hpp, step
// 2): connect to the proxy's addresses in order, then the handshake for the
// child's destination, all within the flow's connect timeout. The request
// names the destination as the tree looked it up when the name index (or
// the synthetic range) knows it, else by address.
#include <asio/steady_timer.hpp>

#include "net/proxy/handshake.hpp"
#include "net/relay/engine.hpp"
#include "net/relay/host_socket.hpp"
#include "net/relay/tcp_flow.hpp"

namespace netpen::relay {
namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
}  // namespace

asio::awaitable<tcp_flow::connect_result> tcp_flow::connect_via_proxy() {
  const proxy::proxy_config& px = *engine_.proxy();
  proxy::connect_target target;
  target.name = engine_.name_for(key_.dst);
  if (target.name && !proxy::valid_target_name(*target.name)) target.name.reset();  // ask by address
  target.address = key_.dst.bytes;
  target.v6 = key_.dst.v6;
  target.port = key_.dst_port;
  if (!target.name && engine_.is_synthetic(key_.dst)) {
    report_proxy_failure("this address stands for a name the run no longer knows", target.name);
    co_return connect_result::reset;
  }

  asio::steady_timer limit(strand_);
  arm_connect_limit(limit);
  auto timed_out = [&limit] { return limit.expiry() <= asio::steady_timer::clock_type::now(); };

  asio::error_code ec = asio::error::host_not_found;
  for (const auto& proxy_ep : px.endpoints) {
    auto& socket = stream_.socket();
    asio::error_code ignored;
    socket.close(ignored);
    socket.open(proxy_ep.protocol(), ec);
    if (ec) continue;
    egress_opening(proxy_ep);
    auto [cec] = co_await socket.async_connect(proxy_ep, use_tuple);
    ec = cec;
    if (ec) egress_connect_failed(ec);
    if (!ec || timed_out() || ep_.is_closed()) break;
  }
  if (ec || ep_.is_closed()) {
    limit.cancel();
    if (ep_.is_closed()) co_return connect_result::reset;  // the child gave up
    report_proxy_failure(timed_out() ? "cannot reach the proxy: timed out" : "cannot reach the proxy: " + ec.message(),
                         target.name);
    co_return connect_result::reset;
  }
  egress_connected();
  asio::error_code ignored;
  stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);

  auto tunnel = co_await proxy::handshake(stream_, px, engine_.proxy_tls(), target);
  limit.cancel();
  if (!tunnel) {
    report_proxy_failure(timed_out() ? "the proxy did not answer in time" : tunnel.error().message, target.name);
    co_return connect_result::reset;
  }
  if (ep_.is_closed()) co_return connect_result::reset;
  early_ = std::move(*tunnel);
  record_.via = proxy::display(px);
  log::debug("{}: tunnel to {} open through {}", to_string(key_), proxy::host_for_request(target), record_.via);
  co_return connect_result::connected;
}

void tcp_flow::report_proxy_failure(const std::string& reason, const std::optional<std::string>& name) {
  log::debug("{}: proxy failed: {}", to_string(key_), reason);
  auto e = engine_.flow_event(events::kind::proxy_failed, key_, record_);
  e.name = name;
  e.reason = reason;
  e.via = proxy::display(*engine_.proxy());
  e.end = "refused";
  engine_.emit_for(std::move(e), key_, true);
}

}  // namespace netpen::relay
