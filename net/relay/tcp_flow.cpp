// The relayed TCP flow's coroutines (see tcp_flow.hpp for the theory).
#include "net/relay/tcp_flow.hpp"

#include <asio/co_spawn.hpp>
#include <asio/dispatch.hpp>
#include <asio/post.hpp>

#include <netinet/in.h>

#include <algorithm>
#include <array>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/destination.hpp"
#include "net/packet/icmp.hpp"
#include "net/relay/host_connect.hpp"
#include "net/relay/host_socket.hpp"
#include "net/relay/failure_answer.hpp"

namespace netpen::relay {
namespace {
constexpr std::size_t min_read_room = 16 * 1024;
constexpr std::size_t max_quote = 576;
constexpr std::uint8_t default_ttl = 64;


}  // namespace

tcp_flow::tcp_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key,
                   const tcp::segment_in& syn, std::span<const std::byte> syn_packet, std::uint8_t syn_ttl,
                   std::uint32_t isn, const tcp::config& cfg, done_fn on_done)
    : ctx_(ctx),
      tap_(ctx.tap()),
      on_done_(std::move(on_done)),
      strand_(std::move(strand)),
      key_(key),
      syn_packet_(syn_packet.begin(), syn_packet.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(
                                                                syn_packet.size(), max_quote))),
      syn_ttl_(syn_ttl),
      ep_(syn, isn, cfg, tcp::clock::now()),
      stream_(strand_),
      deadline_timer_(strand_),
      changed_(strand_) {}

void tcp_flow::start() {
  asio::co_spawn(strand_, [self = shared_from_this()]() { return self->run(); },
                 [self = shared_from_this()](std::exception_ptr e) {
                   log_flow_failure(e, "tcp", self->key_);
                   if (log::debug_enabled())  // the arguments cost a formatting each: every connection ends here
                     log::debug("{}: flow ended in {}{}", to_string(self->key_),
                              tcp::to_string(self->ep_.current_state()), self->ep_.was_reset() ? (self->ep_.reset_by_peer() ? " (reset by child)" : " (reset by us)") : "");
                   self->report_close();
                   self->finished_.store(true, std::memory_order_release);
                   auto done = std::move(self->on_done_);
                   if (done) done(self->key_, self);
                 });
}

void tcp_flow::deliver(packet_buffer buf, const tcp::segment_in& seg) {
  // dispatch: when the flow's strand is idle the segment is handled right
  // here on the tap reader's thread, without a wake-up of another thread.
  asio::dispatch(strand_, [self = shared_from_this(), b = std::move(buf), seg]() { self->on_segment(seg); });
}

void tcp_flow::shutdown() {
  asio::post(strand_, [self = shared_from_this()]() {
    if (self->record_.announced && self->ep_.finished_at())
      self->report_close();  // closed normally; only time_wait or our FIN's ACK was left
    else if (!self->ep_.is_closed())
      self->record_.end = "shutdown";
    self->ep_.abort();
    self->flush();
    self->after_change();
  });
}

void tcp_flow::on_segment(const tcp::segment_in& seg) {
  ep_.on_segment(seg, tcp::clock::now(), this);
  write_now();
}

void tcp_flow::end_of_batch() {
  asio::dispatch(strand_, [self = shared_from_this()]() {
    self->flush();
    self->after_change();
  });
}

// The child's data goes to the host socket at once when no write is pending
// (the common case): straight from the frame (take), or what is queued in
// the rx ring (write_now), so a request leaves without waking child_to_host
// and bulk data is not copied into the ring first. What the socket does not
// take now (would_block, errors) is child_to_host's.
bool tcp_flow::can_write_now() const {
  return connected_ && !writing_ && !host_closed_ && !stream_.is_tls();
}

std::size_t tcp_flow::take(std::span<const std::byte> payload) {
  if (!can_write_now()) return 0;
  const auto [ec, n] = stream_.write_now(asio::buffer(payload.data(), payload.size()));
  if (sniffer_) sniff(record_.bytes_out, payload.first(n));
  record_.bytes_out += n;
  return n;
}

void tcp_flow::write_now() {
  if (!can_write_now() || ep_.rx_size() == 0) return;
  const auto [ec, n] = stream_.write_now(rx_buffers());
  if (n > 0) {
    if (sniffer_) sniff_consumed(n);
    ep_.rx_consume(n);
    record_.bytes_out += n;
  }
}

// Emits everything the endpoint has due and re-arms the deadline timer.
void tcp_flow::flush() {
  ep_.poll(tcp::clock::now(), [this](const tcp::segment_out& s) { tap_.send_tcp(key_, s); });
  const auto next = ep_.next_deadline().value_or(tcp::time_point::max());
  if (next == armed_deadline_) return;
  if (timers_on_)
    arm_timer();
  else
    deadline_timer_.cancel();  // open_inbound waits on it itself
}

void tcp_flow::after_change() {
  // In time_wait both directions are shut down and the host socket has done
  // its job: release it now rather than hold an fd per flow for 2 s.
  const bool done = ep_.is_closed() || ep_.current_state() == tcp::state::time_wait;
  // An inbound flow whose open failed hands its client back (run_inbound).
  const bool client_goes_back = inbound_ && !connected_;
  if (done && !host_closed_ && !client_goes_back) {
    host_closed_ = true;
    stream_.close(ep_.was_reset());  // cancels pending connect/read/write
    egress_closed();
  }
  if (done && record_.announced) report_close();
  if (ep_.is_closed()) {
    deadline_timer_.cancel();
    timer_expiry_ = tcp::time_point::max();
  }
  start_child_to_host_if_needed();
  changed_.notify();
}

void tcp_flow::report_close() {
  if (close_reported_) return;
  close_reported_ = true;
  if (ep_.was_reset() && record_.end == "closed") record_.end = "reset";
  if (auto t = ep_.finished_at()) record_.ended = *t;
  ctx_.closed(key_, record_);
}

asio::awaitable<void> tcp_flow::run() {
  if (inbound_) co_return co_await run_inbound();
  const bool by_claim = judged_by_claim();
  if (by_claim || ctx_.observing()) sniffer_.emplace();
  if (by_claim) co_return co_await run_claimed();
  const auto connected = co_await connect();
  if (connected != connect_result::connected) {
    record_.end = connected == connect_result::icmp_sent ? "unreachable" : "refused";
    if (connected != connect_result::denied) ctx_.opened(key_, record_);
    ep_.abort();
    if (connected != connect_result::icmp_sent) flush();  // else the ICMP error was the answer
    after_change();
    co_return;
  }
  connected_ = true;
  // A TLS read always holds the ring's free space: give it its full size now.
  if (stream_.is_tls()) ep_.tx_grow_to_max();
  co_await ctx_.owner_looked_up();
  ctx_.opened(key_, record_);
  ep_.accept(tcp::clock::now());
  deliver_early_bytes();
  flush();
  after_change();
  co_await relay_data();
}

// host_to_child runs in this coroutine; child_to_host only when the child's
// data or FIN needs it, the deadlines by a timer callback (tcp_flow_lazy.cpp).
asio::awaitable<void> tcp_flow::relay_data() {
  start_timers();
  relaying_ = true;
  start_child_to_host_if_needed();
  co_await host_to_child();
  co_await wait_until_over();
  after_change();
}

// What the proxy sent past its answer is the remote's first data.
void tcp_flow::deliver_early_bytes() {
  if (early_.empty()) return;
  while (ep_.tx_free() < early_.size() && ep_.tx_grow()) {
  }
  std::size_t done = 0;
  for (const auto span : ep_.tx_free_spans()) {
    const std::size_t n = std::min(span.size(), early_.size() - done);
    std::copy_n(early_.begin() + static_cast<std::ptrdiff_t>(done), n, span.begin());
    done += n;
  }
  ep_.tx_commit(done);
  record_.bytes_in += done;
  early_.clear();
}

asio::awaitable<tcp_flow::connect_result> tcp_flow::connect() {
  const auto dest = classify(key_.dst, key_.dst_port, false, ctx_.settings().host_ports);
  switch (dest.kind) {
    case destination_kind::host_port:
      co_return co_await connect_host_port();
    case destination_kind::forbidden:
      log::debug("{}: refused ({})", to_string(key_), dest.reason);
      co_return connect_result::reset;
    case destination_kind::dns_forwarder:
      co_return co_await connect_socket(ctx_.settings().dns_tcp, false);
    case destination_kind::relay:
      break;
  }
  // Named before the if: GCC 12 mishandles co_await in conditions.
  const policy::decision verdict = co_await ctx_.judge(key_);
  if (verdict.what != policy::verdict::allow) {
    log::debug("{}: denied by policy ({})", to_string(key_), verdict.reason);
    ctx_.denied(key_, verdict);
    co_return connect_result::denied;
  }
  record_.policy = verdict.reason;  // the verdict travels with the flow
  record_.rule = verdict.rule;
  if (ep_.is_closed()) co_return connect_result::reset;  // the child gave up while we asked
  co_return co_await connect_remote();
}

asio::awaitable<tcp_flow::connect_result> tcp_flow::connect_remote() {
  if (ctx_.settings().proxy != nullptr) co_return co_await connect_via_proxy();
  co_return co_await connect_socket(asio::ip::tcp::endpoint(to_asio(key_.dst), key_.dst_port), true);
}

// to_remote: the flow's own destination (the egress capture sees it), not
// the DNS forwarder's local service.
asio::awaitable<tcp_flow::connect_result> tcp_flow::connect_socket(asio::ip::tcp::endpoint target,
                                                                    bool to_remote) {
  asio::steady_timer limit(strand_);
  arm_connect_limit(limit);
  open_with_ttl(target);
  if (to_remote) egress_opening(target);
  auto& socket = stream_.socket();
  const asio::error_code ec = co_await connect_host(socket, target);
  limit.cancel();
  if (ec || ep_.is_closed()) {
    log::debug("{}: connect failed: {}", to_string(key_), ec ? ec.message() : "child gave up");
    if (ec) egress_connect_failed(ec);
    co_return ec ? report_connect_failure(ec) : connect_result::reset;
  }
  egress_connected();
  asio::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (socket.is_open()) {
    // Connected: back to the host's defaults. On an established socket the
    // error queue would turn transient ICMP errors into resets.
    enable_error_queue(socket.native_handle(), key_.dst.v6, false);
    if (syn_ttl_ < default_ttl) set_socket_ttl(socket.native_handle(), key_.dst.v6, -1);
  }
  if (log::debug_enabled()) log::debug("{}: connected", to_string(key_));
  co_return connect_result::connected;
}

// The connect (or proxy handshake) may take connect_timeout at most: then
// the socket's pending operation is cancelled.
void tcp_flow::arm_connect_limit(asio::steady_timer& limit) {
  cancel_after(limit, stream_.socket(), ctx_.settings().connect_timeout);
}

// Opens the host socket with the error queue on and, when the child lowered
// its SYN's TTL (traceroute -T), that TTL.
void tcp_flow::open_with_ttl(const asio::ip::tcp::endpoint& target) {
  asio::error_code ec;
  auto& socket = stream_.socket();
  socket.open(target.protocol(), ec);
  if (ec) return;  // connect_host reports it (the socket is not open)
  enable_error_queue(socket.native_handle(), key_.dst.v6, true);
  if (syn_ttl_ != 0 && syn_ttl_ < default_ttl) set_socket_ttl(socket.native_handle(), key_.dst.v6, syn_ttl_);
}

// The connect failed: an ICMP error the host got (a router's Time Exceeded,
// an Unreachable) is passed on to the child as such; so are unreachable
// errors without one. Anything else (refused, timed out) is answered by RST.
tcp_flow::connect_result tcp_flow::report_connect_failure(const asio::error_code& ec) {
  if (syn_answered_) return connect_result::reset;  // the child's connection exists: only an RST fits now
  std::optional<icmp_report> queued;
  if (stream_.socket().is_open()) queued = read_queued_error(stream_.socket().native_handle(), key_.dst.v6);
  const auto icmp = icmp_for_failed_connect(ec.value(), std::move(queued), key_.dst);
  if (!icmp) return connect_result::reset;
  ctx_.icmp_error_to_child(key_, *icmp, syn_packet_);
  return connect_result::icmp_sent;
}

// Reads the host socket into the tx ring. A plain socket is read only once
// it is readable, so while an idle flow waits its ring holds no storage (the
// timers give it back); under TLS the read is handed the ring's free space.
asio::awaitable<void> tcp_flow::host_to_child() {
  for (;;) {
    while (!ep_.is_closed() && ep_.tx_free() < min_read_room) {
      if (!stream_.is_tls() && ep_.tx_grow()) continue;  // nothing is reading into it now
      co_await changed_.wait();
    }
    if (ep_.is_closed()) co_return;
    asio::error_code ec;
    std::size_t n = 0;
    if (stream_.is_tls()) {
      std::tie(ec, n) = co_await stream_.read_some(tx_buffers());
    } else {
      if (!ep_.tx_has_storage()) ec = co_await stream_.wait_readable();
      if (!ec && !ep_.is_closed()) std::tie(ec, n) = stream_.read_now(tx_buffers());
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        ec = co_await stream_.wait_readable();
        if (!ec) continue;
      }
    }
    if (ep_.is_closed()) co_return;
    if (n > 0) {
      ep_.tx_commit(n);
      record_.bytes_in += n;
    }
    if (ec == asio::error::eof) {
      egress_fin(false);
      ep_.tx_close();
      flush();
      after_change();
      co_return;
    }
    if (ec) {
      log::debug("{}: host read: {}", to_string(key_), ec.message());
      host_reset_ = ec == asio::error::connection_reset;
      ep_.abort();
      flush();
      after_change();
      co_return;
    }
    flush();
    after_change();
  }
}

std::array<asio::const_buffer, 2> tcp_flow::rx_buffers() const {
  const auto spans = ep_.rx_data();
  return {asio::buffer(spans[0].data(), spans[0].size()), asio::buffer(spans[1].data(), spans[1].size())};
}

std::array<asio::mutable_buffer, 2> tcp_flow::tx_buffers() {
  const auto spans = ep_.tx_free_spans();
  return {asio::buffer(spans[0].data(), spans[0].size()), asio::buffer(spans[1].data(), spans[1].size())};
}

asio::awaitable<void> tcp_flow::child_to_host() {
  for (;;) {
    while (!ep_.is_closed() && ep_.rx_size() == 0 && !ep_.rx_finished()) co_await changed_.wait();
    if (ep_.rx_size() == 0) {
      if (ep_.rx_finished() && !ep_.is_closed()) {
        stream_.shutdown_send();
        if (!stream_.is_tls()) egress_fin(true);
      }
      co_return;
    }
    if (ep_.is_closed()) co_return;
    writing_ = true;
    auto [ec, n] = co_await stream_.write_some(rx_buffers());
    writing_ = false;
    if (ep_.is_closed()) co_return;
    if (ec) {
      log::debug("{}: host write: {}", to_string(key_), ec.message());
      host_reset_ = ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
      ep_.abort();
      flush();
      after_change();
      co_return;
    }
    if (sniffer_) sniff_consumed(n);
    ep_.rx_consume(n);
    record_.bytes_out += n;
    flush();
    after_change();
  }
}

}  // namespace netpen::relay
