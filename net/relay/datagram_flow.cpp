// The datagram flows' shared lifecycle (see datagram_flow.hpp).
#include "net/relay/datagram_flow.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::relay {

datagram_flow::datagram_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key,
                             const udp_idle_expiry& expiry, flow_record verdict, done_fn on_done, const char* kind)
    : ctx_(ctx),
      strand_(std::move(strand)),
      key_(key),
      record_(std::move(verdict)),
      expiry_(expiry),
      idle_timer_(strand_),
      on_done_(std::move(on_done)),
      kind_(kind) {
  touch();
}

// The socket is opened here, not in run(): co_spawn defers run()'s first
// step behind the first packet's send(), which would find no socket.
void datagram_flow::start() {
  open_and_announce();
  spawn_run();
}

void datagram_flow::start_deferred() {
  deferred_ = true;
  spawn_run();
}

void datagram_flow::open_and_announce() {
  opened_ = open_socket();
  if (!opened_) record_.end = "unreachable";
  ctx_.opened(key_, record_);
}

void datagram_flow::spawn_run() {
  asio::co_spawn(strand_, [self = shared_from_this()]() { return self->run(); },
                 [self = shared_from_this()](std::exception_ptr e) {
                   log_flow_failure(e, self->kind_, self->key_);
                   self->ctx_.closed(self->key_, self->record_);
                   self->finished_.store(true, std::memory_order_release);
                   auto done = std::move(self->on_done_);
                   if (done) done(self->key_, self);
                 });
}

void datagram_flow::shutdown() {
  asio::post(strand_, [self = shared_from_this()]() {
    if (!self->closed_) self->record_.end = "shutdown";
    self->closed_ = true;
    self->close_socket();
    self->idle_timer_.cancel();
  });
}

void datagram_flow::touch() {
  last_activity_.store(clock::now().time_since_epoch().count(), std::memory_order_relaxed);
}

void datagram_flow::set_ttl(std::uint8_t ttl) {
  if (ttl == 0 || ttl == current_ttl_) return;
  if (set_socket_ttl(socket_fd(), key_.dst.v6, ttl)) current_ttl_ = ttl;
}

bool datagram_flow::answered_by_open_error(std::span<const std::byte> ip_packet) {
  if (!open_error_) return false;
  ctx_.icmp_error_to_child(key_, *open_error_, ip_packet);
  return true;
}

asio::awaitable<void> datagram_flow::run() {
  if (deferred_) {
    const bool admitted = co_await admit();
    if (closed_) co_return;  // shut down meanwhile
    if (!admitted) {
      co_await watchdog();  // refusing its datagrams until it goes idle
      closed_ = true;
      co_return;
    }
    open_and_announce();
    if (opened_) after_open();
  }
  if (!opened_) co_return;
  using namespace asio::experimental::awaitable_operators;
  co_await (receive_loop() || watchdog());
  closed_ = true;
  close_socket();
  egress_.close();
}

asio::awaitable<void> datagram_flow::watchdog() {
  for (;;) {
    idle_timer_.expires_at(expiry_.expiry(last_activity(), got_reply_));
    co_await idle_timer_.async_wait(use_tuple);
    if (closed_) co_return;
    if (expiry_.expired(clock::now(), last_activity(), got_reply_)) {
      log::debug("{}: idle, expired", to_string(key_));
      record_.end = "expired";
      co_return;
    }
  }
}

}  // namespace netpen::relay
