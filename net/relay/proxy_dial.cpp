// The proxy dial shared by both data paths (see proxy_dial.hpp).
#include "net/relay/proxy_dial.hpp"

#include "net/proxy/handshake.hpp"
#include "net/relay/host_connect.hpp"

namespace netpen::relay {
namespace {

proxy::connect_target target_of(const flow_context& ctx, const flow_key& key) {
  proxy::connect_target target;
  target.name = ctx.name_for(key.dst);
  if (target.name && !proxy::valid_target_name(*target.name)) target.name.reset();  // ask by address
  target.address = key.dst.bytes;
  target.v6 = key.dst.v6;
  target.port = key.dst_port;
  return target;
}

}  // namespace

asio::awaitable<proxy_dial_outcome> dial_through_proxy(flow_context& ctx, host_io::host_stream& stream,
                                                       const flow_key& key, const asio::steady_timer& limit,
                                                       proxy_dial_hooks& hooks) {
  const proxy::proxy_config& px = *ctx.settings().proxy;
  const proxy::connect_target target = target_of(ctx, key);
  proxy_dial_outcome out;
  out.name = target.name;
  if (!target.name && ctx.is_synthetic(key.dst)) {
    out.failure = "this address stands for a name the run no longer knows";
    co_return out;
  }
  auto timed_out = [&limit] { return limit.expiry() <= asio::steady_timer::clock_type::now(); };

  asio::error_code ec = asio::error::host_not_found;
  for (const auto& proxy_ep : px.endpoints) {
    auto& socket = stream.socket();
    asio::error_code ignored;
    socket.close(ignored);
    socket.open(proxy_ep.protocol(), ec);
    if (ec) continue;
    hooks.opening(proxy_ep);
    ec = co_await connect_host(socket, proxy_ep);
    if (ec) hooks.connect_failed(ec);
    if (!ec || timed_out() || hooks.abandoned()) break;
  }
  if (hooks.abandoned()) {
    out.abandoned = true;
    co_return out;
  }
  if (ec) {
    out.failure = timed_out() ? "cannot reach the proxy: timed out" : "cannot reach the proxy: " + ec.message();
    co_return out;
  }
  hooks.connected();
  asio::error_code ignored;
  stream.socket().set_option(asio::ip::tcp::no_delay(true), ignored);

  auto tunnel = co_await proxy::handshake(stream, px, ctx.settings().proxy_tls, target);
  if (!tunnel) {
    out.failure = timed_out() ? "the proxy did not answer in time" : tunnel.error().message;
    co_return out;
  }
  if (hooks.abandoned()) {
    out.abandoned = true;
    co_return out;
  }
  out.tunnel = true;
  out.early = std::move(*tunnel);
  co_return out;
}

}  // namespace netpen::relay
