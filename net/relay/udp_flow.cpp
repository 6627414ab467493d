// The relayed UDP flow's coroutines (see udp_flow.hpp for the theory).
#include "net/relay/udp_flow.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <netinet/in.h>

#include <algorithm>

#include "net/common/log.hpp"
#include "net/relay/engine.hpp"
#include "net/relay/host_socket.hpp"
#include "net/relay/socket_errors.hpp"

namespace netpen::relay {
namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t max_datagram = 65535;
constexpr std::size_t max_quote = 576;  // enough for any ICMP error's quote

}  // namespace

udp_flow::udp_flow(engine& eng, asio::strand<asio::any_io_executor> strand, const flow_key& key,
                   const udp_flow_policy& policy)
    : engine_(eng), strand_(std::move(strand)), key_(key), policy_(policy), socket_(strand_), idle_timer_(strand_) {
  touch();
}

// Opened here, not in run(): co_spawn defers run()'s first step behind the
// first datagram's send(), which would find no socket and drop it.
bool udp_flow::open_socket() {
  const asio::ip::udp::endpoint target(to_asio(key_.dst), key_.dst_port);
  asio::error_code ec;
  socket_.open(target.protocol(), ec);
  if (!ec) socket_.non_blocking(true, ec);
  if (!ec) socket_.connect(target, ec);
  if (!ec) enable_error_queue(socket_.native_handle(), key_.dst.v6);
  if (!ec) egress_.open(engine_.egress(), socket_.native_handle(), key_);
  if (ec) {
    log::debug("{}: cannot open host socket: {}", to_string(key_), ec.message());
    open_error_ = icmp_report_for_errno(ec.value(), key_.dst);  // e.g. the host has no route
  }
  return !ec;
}

void udp_flow::start() {
  opened_ = open_socket();
  if (!opened_) record_.end = "unreachable";
  engine_.flow_opened(key_, record_);
  asio::co_spawn(strand_, [self = shared_from_this()]() { return self->run(); },
                 [self = shared_from_this()](std::exception_ptr e) {
                   log_flow_failure(e, "udp", self->key_);
                   self->engine_.flow_closed(self->key_, self->record_);
                   self->finished_.store(true, std::memory_order_release);
                   self->engine_.udp_flow_finished(self->key_, self);
                 });
}

void udp_flow::touch() {
  last_activity_.store(udp_flow_policy::clock::now().time_since_epoch().count(), std::memory_order_relaxed);
}

void udp_flow::send(packet_buffer buf, std::span<const std::byte> payload, std::span<const std::byte> ip_packet,
                    std::uint8_t ttl) {
  asio::post(strand_, [self = shared_from_this(), b = std::move(buf), payload, ip_packet, ttl]() {
    if (self->open_error_) {  // the host cannot reach the destination at all: say so at once
      self->engine_.icmp_error_to_child(self->key_, *self->open_error_, ip_packet);
      return;
    }
    if (self->closed_ || !self->socket_.is_open()) return;
    self->touch();
    const auto quote = ip_packet.first(std::min(ip_packet.size(), max_quote));
    self->last_packet_.assign(quote.begin(), quote.end());
    self->set_ttl(ttl);
    // A pending error (an ICMP error for an earlier datagram) fails the next
    // send and the kernel drops that datagram: pass it on, then send again.
    for (int attempt = 0; attempt < 2; ++attempt) {
      asio::error_code ec;
      self->socket_.send(asio::buffer(payload.data(), payload.size()), 0, ec);
      if (!ec) {
        self->record_.bytes_out += payload.size();
        self->egress_.data(host_direction::sent, payload);
      }
      if (!ec || ec == asio::error::would_block) break;
      self->report_errors(ec);
    }
  });
}

// A send or receive failed because an ICMP error came back for this flow:
// pass each queued error on to the child (a router's Time Exceeded for a
// traceroute probe, the destination's Port Unreachable). True when the
// failure was such a report and the flow goes on.
bool udp_flow::report_errors(const asio::error_code& ec) {
  bool any = false;
  while (auto r = read_queued_error(socket_.native_handle(), key_.dst.v6)) {
    engine_.icmp_error_to_child(key_, *r, last_packet_);
    any = true;
  }
  if (!any) {  // nothing queued: the host's own verdict (no route, refused)
    if (auto r = icmp_report_for_errno(ec.value(), key_.dst)) {
      engine_.icmp_error_to_child(key_, *r, last_packet_);
      any = true;
    }
  }
  return any;
}

void udp_flow::shutdown() {
  asio::post(strand_, [self = shared_from_this()]() {
    if (!self->closed_) self->record_.end = "shutdown";
    self->closed_ = true;
    asio::error_code ignored;
    self->socket_.close(ignored);
    self->idle_timer_.cancel();
  });
}

void udp_flow::set_ttl(std::uint8_t ttl) {
  if (ttl == 0 || ttl == current_ttl_) return;
  if (set_socket_ttl(socket_.native_handle(), key_.dst.v6, ttl)) current_ttl_ = ttl;
}

asio::awaitable<void> udp_flow::run() {
  if (!opened_) co_return;
  using namespace asio::experimental::awaitable_operators;
  co_await (receive_loop() || watchdog());
  closed_ = true;
  asio::error_code ignored;
  socket_.close(ignored);
  egress_.close();
}

asio::awaitable<void> udp_flow::receive_loop() {
  std::vector<std::byte> buf(max_datagram);
  for (;;) {
    auto [ec, n] = co_await socket_.async_receive(asio::buffer(buf), use_tuple);
    if (closed_) co_return;
    if (ec && report_errors(ec)) continue;
    if (ec) {
      log::debug("{}: receive: {}", to_string(key_), ec.message());
      co_return;
    }
    touch();
    got_reply_ = true;
    record_.bytes_in += n;
    const std::span<const std::byte> datagram(buf.data(), n);
    egress_.data(host_direction::received, datagram);
    engine_.writer().send_udp(key_, datagram);
  }
}

asio::awaitable<void> udp_flow::watchdog() {
  for (;;) {
    idle_timer_.expires_at(policy_.expiry(last_activity(), got_reply_));
    co_await idle_timer_.async_wait(use_tuple);
    if (closed_) co_return;
    if (policy_.expired(udp_flow_policy::clock::now(), last_activity(), got_reply_)) {
      log::debug("{}: idle, expired", to_string(key_));
      record_.end = "expired";
      co_return;
    }
  }
}

}  // namespace netpen::relay
