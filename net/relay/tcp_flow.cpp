// The relayed TCP flow's coroutines (see tcp_flow.hpp for the theory).
#include "net/relay/tcp_flow.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <array>

#include "net/common/log.hpp"
#include "net/relay/destination.hpp"
#include "net/relay/engine.hpp"

namespace netpen::relay {
namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t min_read_room = 16 * 1024;

asio::ip::address to_asio(const packet::ip_address& a) {
  if (a.v6) return asio::ip::address_v6(a.bytes);
  return asio::ip::address_v4({a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]});
}
}  // namespace

tcp_flow::tcp_flow(engine& eng, asio::strand<asio::any_io_executor> strand, const flow_key& key,
                   const tcp::segment_in& syn, std::uint32_t isn, const tcp::config& cfg)
    : engine_(eng),
      strand_(std::move(strand)),
      key_(key),
      ep_(syn, isn, cfg, tcp::clock::now()),
      socket_(strand_),
      deadline_timer_(strand_),
      changed_(strand_) {}

void tcp_flow::start() {
  asio::co_spawn(strand_, [self = shared_from_this()]() { return self->run(); },
                 [self = shared_from_this()](std::exception_ptr e) {
                   if (e) {
                     try {
                       std::rethrow_exception(e);
                     } catch (const std::exception& ex) {
                       log::warn("tcp flow {} failed: {}", to_string(self->key_), ex.what());
                     }
                   }
                   log::debug("{}: flow ended in {}{}", to_string(self->key_),
                              tcp::to_string(self->ep_.current_state()), self->ep_.was_reset() ? (self->ep_.reset_by_peer() ? " (reset by child)" : " (reset by us)") : "");
                   self->finished_.store(true, std::memory_order_release);
                   self->engine_.flow_finished(self->key_, self);
                 });
}

void tcp_flow::deliver(packet_buffer buf, const tcp::segment_in& seg) {
  asio::post(strand_, [self = shared_from_this(), b = std::move(buf), seg]() { self->on_segment(seg); });
}

void tcp_flow::shutdown() {
  asio::post(strand_, [self = shared_from_this()]() {
    self->ep_.abort();
    self->flush();
    self->after_change();
  });
}

void tcp_flow::on_segment(const tcp::segment_in& seg) {
  ep_.on_segment(seg, tcp::clock::now());
  flush();
  after_change();
}

// Emits everything the endpoint has due and re-arms the deadline timer.
void tcp_flow::flush() {
  ep_.poll(tcp::clock::now(), [this](const tcp::segment_out& s) { engine_.writer().send_tcp(key_, s); });
  const auto next = ep_.next_deadline().value_or(tcp::time_point::max());
  if (next != armed_deadline_) deadline_timer_.cancel();
}

void tcp_flow::after_change() {
  // In time_wait both directions are shut down and the host socket has done
  // its job: release it now rather than hold an fd per flow for 2 s.
  const bool done = ep_.is_closed() || ep_.current_state() == tcp::state::time_wait;
  if (done && !host_closed_) {
    host_closed_ = true;
    asio::error_code ignored;
    if (ep_.was_reset() && socket_.is_open()) socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    socket_.close(ignored);  // cancels pending connect/read/write
  }
  if (ep_.is_closed()) deadline_timer_.cancel();
  changed_.notify();
}

asio::awaitable<void> tcp_flow::run() {
  if (!co_await connect()) {
    ep_.abort();
    flush();
    after_change();
    co_return;
  }
  connected_ = true;
  ep_.accept(tcp::clock::now());
  flush();
  after_change();
  using namespace asio::experimental::awaitable_operators;
  co_await (host_to_child() && child_to_host() && timers());
  after_change();
}

asio::awaitable<bool> tcp_flow::connect() {
  const auto dest = classify(key_.dst, key_.dst_port);
  asio::ip::tcp::endpoint target;
  switch (dest.kind) {
    case destination_kind::forbidden:
      log::debug("{}: refused ({})", to_string(key_), dest.reason);
      co_return false;
    case destination_kind::dns_forwarder:
      target = engine_.dns_tcp_endpoint();
      break;
    case destination_kind::relay:
      target = asio::ip::tcp::endpoint(to_asio(key_.dst), key_.dst_port);
      break;
  }
  asio::steady_timer limit(strand_);
  limit.expires_after(engine_.connect_timeout());
  limit.async_wait([this](const asio::error_code& ec) {
    if (!ec) {
      asio::error_code ignored;
      socket_.cancel(ignored);
    }
  });
  auto [ec] = co_await socket_.async_connect(target, use_tuple);
  limit.cancel();
  if (ec || ep_.is_closed()) {
    log::debug("{}: connect failed: {}", to_string(key_), ec ? ec.message() : "child gave up");
    co_return false;
  }
  asio::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  log::debug("{}: connected", to_string(key_));
  co_return true;
}

asio::awaitable<void> tcp_flow::host_to_child() {
  for (;;) {
    while (!ep_.is_closed() && ep_.tx_free() < min_read_room) co_await changed_.wait();
    if (ep_.is_closed()) co_return;
    const auto spans = ep_.tx_free_spans();
    const std::array<asio::mutable_buffer, 2> bufs{asio::buffer(spans[0].data(), spans[0].size()),
                                                  asio::buffer(spans[1].data(), spans[1].size())};
    auto [ec, n] = co_await socket_.async_read_some(bufs, use_tuple);
    if (ep_.is_closed()) co_return;
    if (n > 0) ep_.tx_commit(n);
    if (ec == asio::error::eof) {
      ep_.tx_close();
      flush();
      after_change();
      co_return;
    }
    if (ec) {
      log::debug("{}: host read: {}", to_string(key_), ec.message());
      ep_.abort();
      flush();
      after_change();
      co_return;
    }
    flush();
    after_change();
  }
}

asio::awaitable<void> tcp_flow::child_to_host() {
  for (;;) {
    while (!ep_.is_closed() && ep_.rx_size() == 0 && !ep_.rx_finished()) co_await changed_.wait();
    if (ep_.rx_size() == 0) {
      if (ep_.rx_finished() && !ep_.is_closed()) {
        asio::error_code ignored;
        socket_.shutdown(asio::socket_base::shutdown_send, ignored);
      }
      co_return;
    }
    if (ep_.is_closed()) co_return;
    const auto spans = ep_.rx_data();
    const std::array<asio::const_buffer, 2> bufs{asio::buffer(spans[0].data(), spans[0].size()),
                                                asio::buffer(spans[1].data(), spans[1].size())};
    auto [ec, n] = co_await socket_.async_write_some(bufs, use_tuple);
    if (ep_.is_closed()) co_return;
    if (ec) {
      log::debug("{}: host write: {}", to_string(key_), ec.message());
      ep_.abort();
      flush();
      after_change();
      co_return;
    }
    ep_.rx_consume(n);
    flush();
    after_change();
  }
}

asio::awaitable<void> tcp_flow::timers() {
  while (!ep_.is_closed()) {
    armed_deadline_ = ep_.next_deadline().value_or(tcp::time_point::max());
    deadline_timer_.expires_at(armed_deadline_);
    co_await deadline_timer_.async_wait(use_tuple);
    flush();
    after_change();
  }
}

}  // namespace netpen::relay
