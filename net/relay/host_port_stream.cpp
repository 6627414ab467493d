// A --host-port TCP connection from a listener (see host_port_stream.hpp).
#include "net/relay/host_port_stream.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <vector>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/host_port_connect.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::relay {
namespace {

constexpr std::size_t pump_buffer = 64 * 1024;

// Closing with SO_LINGER 0 sends a reset instead of a FIN.
void close_with_reset(asio::ip::tcp::socket& s) {
  asio::error_code ignored;
  if (!s.is_open()) return;
  s.set_option(asio::socket_base::linger(true, 0), ignored);
  s.close(ignored);
}

}  // namespace

host_port_stream::host_port_stream(flow_context& ctx, asio::ip::tcp::socket client, const flow_key& key,
                                   std::function<void()> on_done)
    : ctx_(ctx), client_(std::move(client)), host_(client_.get_executor()), key_(key), on_done_(std::move(on_done)) {
  record_.via = "host-port";
}

void host_port_stream::start() {
  asio::co_spawn(client_.get_executor(), [self = shared_from_this()]() { return self->run(); },
                 [self = shared_from_this()](std::exception_ptr e) {
                   log_flow_failure(e, "host-port tcp", self->key_);
                   self->ctx_.closed(self->key_, self->record_);
                   self->finished_.store(true, std::memory_order_release);
                   if (auto done = std::move(self->on_done_)) done();
                 });
}

void host_port_stream::shutdown() {
  asio::post(client_.get_executor(), [self = shared_from_this()]() {
    if (!self->ended_) self->record_.end = "shutdown";
    self->ended_ = true;
    close_with_reset(self->client_);
    close_with_reset(self->host_);
  });
}

void host_port_stream::reset_both() {
  if (!ended_) record_.end = "reset";
  ended_ = true;
  close_with_reset(client_);
  close_with_reset(host_);
}

asio::awaitable<void> host_port_stream::run() {
  asio::steady_timer limit(client_.get_executor());
  limit.expires_after(ctx_.settings().connect_timeout);
  limit.async_wait([this](const asio::error_code& ec) {
    asio::error_code ignored;
    if (!ec) host_.cancel(ignored);
  });
  const asio::error_code ec = co_await connect_host_loopback(host_, key_.dst.v6, key_.dst_port);
  limit.cancel();
  if (ec || ended_) {
    log::debug("{}: host port: connect failed: {}", to_string(key_), ec ? ec.message() : "shut down");
    if (!ended_) record_.end = ec == asio::error::operation_aborted ? "timeout" : "refused";
    ended_ = true;
    ctx_.opened(key_, record_);
    close_with_reset(client_);
    close_with_reset(host_);
    co_return;
  }
  asio::error_code ignored;
  host_.set_option(asio::ip::tcp::no_delay(true), ignored);
  client_.set_option(asio::ip::tcp::no_delay(true), ignored);
  ctx_.opened(key_, record_);
  using namespace asio::experimental::awaitable_operators;
  co_await (pump(client_, host_, record_.bytes_out) && pump(host_, client_, record_.bytes_in));
  ended_ = true;
  client_.close(ignored);
  host_.close(ignored);
}

asio::awaitable<void> host_port_stream::pump(asio::ip::tcp::socket& from, asio::ip::tcp::socket& to,
                                             std::uint64_t& bytes) {
  std::vector<std::byte> buf(pump_buffer);
  for (;;) {
    auto [rec, n] = co_await from.async_read_some(asio::buffer(buf), use_tuple);
    if (rec == asio::error::eof) {  // FIN: pass it on
      asio::error_code ignored;
      to.shutdown(asio::socket_base::shutdown_send, ignored);
      co_return;
    }
    if (rec) {
      if (!ended_) reset_both();
      co_return;
    }
    auto [wec, written] = co_await asio::async_write(to, asio::buffer(buf.data(), n), use_tuple);
    bytes += written;
    if (wec) {
      if (!ended_) reset_both();
      co_return;
    }
  }
}

}  // namespace netpen::relay
