// The relayed UDP flow's socket work (see udp_flow.hpp for the theory).
#include "net/relay/udp_flow.hpp"

#include <asio/post.hpp>

#include <algorithm>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::relay {
namespace {
constexpr std::size_t max_datagram = 65535;
constexpr std::size_t max_quote = 576;  // enough for any ICMP error's quote
}  // namespace

udp_flow::udp_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key,
                   const udp_idle_expiry& expiry, flow_record verdict, done_fn on_done, bool by_claim)
    : datagram_flow(ctx, std::move(strand), key, expiry, std::move(verdict), std::move(on_done), "udp"),
      socket_(strand_),
      pending_(by_claim),
      held_changed_(strand_, asio::steady_timer::time_point::max()) {
  if (by_claim || (key.dst_port == 443 && ctx.observing())) sniffer_.emplace();
}

bool udp_flow::open_socket() {
  const asio::ip::udp::endpoint target(to_asio(key_.dst), key_.dst_port);
  asio::error_code ec;
  socket_.open(target.protocol(), ec);
  if (!ec) socket_.non_blocking(true, ec);
  if (!ec) socket_.connect(target, ec);
  if (!ec) enable_error_queue(socket_.native_handle(), key_.dst.v6);
  if (!ec) egress_.open(ctx_.settings().egress, socket_.native_handle(), key_);
  if (ec) {
    log::debug("{}: cannot open host socket: {}", to_string(key_), ec.message());
    open_error_ = icmp_report_for_errno(ec.value(), key_.dst);  // e.g. the host has no route
  }
  return !ec;
}

void udp_flow::close_socket() {
  asio::error_code ignored;
  socket_.close(ignored);
}

void udp_flow::send(packet_buffer buf, std::span<const std::byte> payload, std::span<const std::byte> ip_packet,
                    std::uint8_t ttl) {
  auto self = std::static_pointer_cast<udp_flow>(shared_from_this());
  asio::post(strand_, [self = std::move(self), b = std::move(buf), payload, ip_packet, ttl]() {
    self->send_now(payload, ip_packet, ttl);
  });
}

void udp_flow::send_now(std::span<const std::byte> payload, std::span<const std::byte> ip_packet, std::uint8_t ttl) {
  if (held_or_refused(payload, ip_packet, ttl)) return;
  if (sniffer_) sniff(payload);
  transmit(payload, ip_packet, ttl);
}

void udp_flow::transmit(std::span<const std::byte> payload, std::span<const std::byte> ip_packet, std::uint8_t ttl) {
  if (answered_by_open_error(ip_packet)) return;
  if (closed_ || !socket_.is_open()) return;
  touch();
  const auto quote = ip_packet.first(std::min(ip_packet.size(), max_quote));
  last_packet_.assign(quote.begin(), quote.end());
  set_ttl(ttl);
  // A pending error (an ICMP error for an earlier datagram) fails the next
  // send and the kernel drops that datagram: pass it on, then send again.
  for (int attempt = 0; attempt < 2; ++attempt) {
    asio::error_code ec;
    socket_.send(asio::buffer(payload.data(), payload.size()), 0, ec);
    if (!ec) {
      record_.bytes_out += payload.size();
      egress_.data(host_direction::sent, payload);
    }
    if (!ec || ec == asio::error::would_block) break;
    report_errors(ec);
  }
}

// A send or receive failed because an ICMP error came back for this flow:
// pass each queued error on to the child (a router's Time Exceeded for a
// traceroute probe, the destination's Port Unreachable). True when the
// failure was such a report and the flow goes on.
bool udp_flow::report_errors(const asio::error_code& ec) {
  bool any = false;
  while (auto r = read_queued_error(socket_.native_handle(), key_.dst.v6)) {
    ctx_.icmp_error_to_child(key_, *r, last_packet_);
    any = true;
  }
  if (!any) {  // nothing queued: the host's own verdict (no route, refused)
    if (auto r = icmp_report_for_errno(ec.value(), key_.dst)) {
      ctx_.icmp_error_to_child(key_, *r, last_packet_);
      any = true;
    }
  }
  return any;
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
    ctx_.tap().send_udp(key_, datagram);
  }
}

}  // namespace netpen::relay
