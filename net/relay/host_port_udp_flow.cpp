// A --host-port UDP flow (see host_port_udp_flow.hpp).
#include "net/relay/host_port_udp_flow.hpp"

#include <asio/post.hpp>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/host_port_connect.hpp"

namespace netpen::relay {
namespace {
constexpr std::size_t max_datagram = 65535;

flow_record host_port_record() {
  flow_record r;
  r.via = "host-port";
  return r;
}
}  // namespace

host_port_udp_flow::host_port_udp_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand,
                                       const flow_key& key, const udp_idle_expiry& expiry, done_fn on_done,
                                       reply_fn reply)
    : datagram_flow(ctx, std::move(strand), key, expiry, host_port_record(), std::move(on_done), "udp"),
      socket_(strand_),
      reply_(std::move(reply)),
      v6_(key.dst.v6) {}

bool host_port_udp_flow::connect_to(bool v6) {
  asio::error_code ec;
  socket_.close(ec);
  const asio::ip::udp::endpoint target(host_loopback(v6), key_.dst_port);
  socket_.open(target.protocol(), ec);
  if (!ec) socket_.non_blocking(true, ec);
  if (!ec) socket_.connect(target, ec);
  if (ec) log::debug("{}: host port: cannot open [{}]:{}: {}", to_string(key_), target.address().to_string(),
                     target.port(), ec.message());
  v6_ = v6;
  return !ec;
}

bool host_port_udp_flow::open_socket() {
  if (connect_to(v6_)) return true;
  switched_ = true;
  return connect_to(!v6_);
}

void host_port_udp_flow::close_socket() {
  asio::error_code ignored;
  socket_.close(ignored);
}

void host_port_udp_flow::send(std::vector<std::byte> payload) {
  auto self = std::static_pointer_cast<host_port_udp_flow>(shared_from_this());
  asio::post(strand_, [self = std::move(self), p = std::move(payload)]() { self->send_now(p); });
}

void host_port_udp_flow::send_now(const std::vector<std::byte>& payload) {
  if (closed_ || !socket_.is_open()) return;
  touch();
  if (!got_reply_ && !switched_) last_ = payload;
  for (int attempt = 0; attempt < 2; ++attempt) {  // a pending "refused" fails one send
    asio::error_code ec;
    socket_.send(asio::buffer(payload), 0, ec);
    if (!ec) {
      record_.bytes_out += payload.size();
      return;
    }
    if (ec != asio::error::connection_refused) return;
  }
}

asio::awaitable<void> host_port_udp_flow::receive_loop() {
  std::vector<std::byte> buf(max_datagram);
  for (;;) {
    auto [ec, n] = co_await socket_.async_receive(asio::buffer(buf), use_tuple);
    if (closed_) co_return;
    if (ec == asio::error::connection_refused) {
      // Nothing listens on this loopback family: once, before any reply,
      // the other family gets the last datagram again.
      if (!got_reply_ && !switched_) {
        switched_ = true;
        if (!connect_to(!v6_)) co_return;
        if (!last_.empty()) send_now(last_);
      }
      continue;
    }
    if (ec) co_return;
    got_reply_ = true;
    last_.clear();
    touch();
    record_.bytes_in += n;
    reply_(std::span<const std::byte>(buf.data(), n));
  }
}

}  // namespace netpen::relay
