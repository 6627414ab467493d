// Two host sockets relayed for a published port (see inbound_stream_flow.hpp).
#include "net/relay/inbound_stream_flow.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <array>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::relay {
namespace {

constexpr auto connect_limit = std::chrono::seconds(5);
constexpr std::size_t chunk = 64 * 1024;

}  // namespace

inbound_stream_flow::inbound_stream_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand,
                                         asio::ip::tcp::socket client, int server_fd, asio::ip::tcp::endpoint target,
                                         std::string client_text, inbound_connector::refused_fn refused,
                                         std::function<void()> done)
    : ctx_(ctx),
      strand_(std::move(strand)),
      client_(strand_),
      server_(strand_),
      target_(target),
      refused_(std::move(refused)),
      done_(std::move(done)) {
  asio::error_code ec;
  const auto protocol = client.local_endpoint(ec).protocol();
  client_.assign(protocol, client.release(), ec);
  server_.assign(target.protocol(), server_fd, ec);
  record_.inbound_client = std::move(client_text);
  if (target.address().is_loopback()) record_.via = "loopback";  // the sandbox's own
  key_.protocol = packet::proto_tcp;
  key_.src = from_asio(target.address());
  key_.src_port = target.port();
}

void inbound_stream_flow::start() {
  asio::co_spawn(strand_, [self = shared_from_this()] { return self->run(); },
                 [self = shared_from_this()](std::exception_ptr e) {
                   log_coroutine_failure(e, "an inbound flow");
                   auto done = std::move(self->done_);
                   if (done) done();
                 });
}

void inbound_stream_flow::shutdown() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->record_.announced && self->record_.end == "closed") self->record_.end = "shutdown";
    self->reset_both();
  });
}

void inbound_stream_flow::reset_both() {
  asio::error_code ignored;
  for (auto* s : {&client_, &server_}) {
    if (!s->is_open()) continue;
    s->set_option(asio::socket_base::linger(true, 0), ignored);
    s->close(ignored);
  }
}

asio::awaitable<bool> inbound_stream_flow::connect() {
  asio::steady_timer limit(strand_);
  limit.expires_after(connect_limit);
  limit.async_wait([this](const asio::error_code& ec) {
    asio::error_code ignored;
    if (!ec) server_.cancel(ignored);
  });
  auto [ec] = co_await server_.async_connect(target_, use_tuple);
  limit.cancel();
  if (ec) log::debug("inbound {} -> {}: {}", record_.inbound_client, target_.address().to_string(), ec.message());
  co_return !ec;
}

asio::awaitable<void> inbound_stream_flow::run() {
  if (!co_await connect()) {
    asio::error_code ignored;
    server_.close(ignored);
    if (refused_) {
      auto back = std::move(client_);
      auto refused = std::move(refused_);
      refused(std::move(back));
    }
    co_return;
  }
  asio::error_code ec;
  const auto local = server_.local_endpoint(ec);
  key_.dst = from_asio(local.address());
  key_.dst_port = local.port();
  server_.set_option(asio::ip::tcp::no_delay(true), ec);
  client_.set_option(asio::ip::tcp::no_delay(true), ec);
  ctx_.opened(key_, record_);
  using namespace asio::experimental::awaitable_operators;
  co_await (pump(client_, server_, record_.bytes_in) && pump(server_, client_, record_.bytes_out));
  if (reset_ && record_.end == "closed") record_.end = "reset";
  asio::error_code ignored;
  client_.close(ignored);
  server_.close(ignored);
  ctx_.closed(key_, record_);
}

// One direction. As for every flow, bytes_in counts what went into the
// sandbox (the host client's bytes), bytes_out what came from it.
asio::awaitable<void> inbound_stream_flow::pump(asio::ip::tcp::socket& from, asio::ip::tcp::socket& to,
                                                std::uint64_t& counter) {
  std::vector<std::byte> buf(chunk);
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), use_tuple);
    if (n > 0) {
      auto [wec, w] = co_await asio::async_write(to, asio::buffer(buf.data(), n), use_tuple);
      counter += w;
      if (wec) {
        reset_ = true;
        reset_both();
        co_return;
      }
    }
    if (ec == asio::error::eof) {
      asio::error_code ignored;
      to.shutdown(asio::socket_base::shutdown_send, ignored);
      co_return;
    }
    if (ec) {
      if (ec != asio::error::operation_aborted && ec != asio::error::bad_descriptor) reset_ = true;
      reset_both();
      co_return;
    }
  }
}

}  // namespace netpen::relay
