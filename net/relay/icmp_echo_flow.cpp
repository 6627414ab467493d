// The relayed ping flow (see icmp_echo_flow.hpp for the theory).
#include "net/relay/icmp_echo_flow.hpp"

#include <asio/post.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/common/sandbox_addresses.hpp"
#include "net/packet/icmp.hpp"
#include "net/packet/byte_writer.hpp"
#include "net/relay/host_socket.hpp"
#include "net/relay/failure_answer.hpp"

namespace netpen::relay {
namespace {
constexpr std::size_t max_message = 65535;
constexpr std::size_t max_recent = 64;


// sockaddr for the destination (port 0: ICMP has none).
socklen_t to_sockaddr(const packet::ip_address& a, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    std::memcpy(&s6->sin6_addr, a.bytes.data(), 16);
    return sizeof(sockaddr_in6);
  }
  auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
  s4->sin_family = AF_INET;
  std::memcpy(&s4->sin_addr, a.bytes.data(), 4);
  return sizeof(sockaddr_in);
}
}  // namespace

icmp_echo_flow::icmp_echo_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key,
                               const udp_idle_expiry& expiry, flow_record verdict, done_fn on_done)
    : datagram_flow(ctx, std::move(strand), key, expiry, std::move(verdict), std::move(on_done), "ping"),
      socket_(strand_) {}

bool icmp_echo_flow::open_socket() {
  const int family = key_.dst.v6 ? AF_INET6 : AF_INET;
  const int proto = key_.dst.v6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
  int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
  raw_ = false;
  if (fd < 0) {
    fd = ::socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    raw_ = true;
  }
  if (fd < 0) {
    log::debug("{}: no ICMP socket (ping sockets not allowed by net.ipv4.ping_group_range, no raw "
               "sockets without root): {}",
               to_string(key_), std::strerror(errno));
    return false;
  }
  sockaddr_storage ss;
  const socklen_t len = to_sockaddr(key_.dst, ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const int err = errno;
    log::debug("{}: connect: {}", to_string(key_), std::strerror(err));
    open_error_ = icmp_report_for_errno(err, key_.dst);  // e.g. the host has no route
    ::close(fd);
    return false;
  }
  enable_error_queue(fd, key_.dst.v6);
  asio::error_code ec;
  socket_.assign(fd, ec);
  if (!ec) egress_.open(ctx_.settings().egress, fd, key_, raw_ ? std::optional(key_.src_port) : std::nullopt);
  return !ec;
}

void icmp_echo_flow::close_socket() {
  asio::error_code ignored;
  socket_.close(ignored);
}

void icmp_echo_flow::send(std::uint16_t seq, std::vector<std::byte> payload, std::vector<std::byte> ip_packet,
                          std::uint8_t ttl) {
  auto self = std::static_pointer_cast<icmp_echo_flow>(shared_from_this());
  asio::post(strand_, [self = std::move(self), seq, p = std::move(payload), ip = std::move(ip_packet), ttl]() mutable {
    self->send_now(seq, p, std::move(ip), ttl);
  });
}

void icmp_echo_flow::send_now(std::uint16_t seq, const std::vector<std::byte>& payload,
                              std::vector<std::byte> ip_packet, std::uint8_t ttl) {
  if (answered_by_open_error(ip_packet)) return;
  if (closed_ || !socket_.is_open()) return;
  recent_.emplace_back(seq, std::move(ip_packet));
  if (recent_.size() > max_recent) recent_.pop_front();
  touch();
  set_ttl(ttl);
  // Echo request: type, code, checksum, identifier, sequence, data. The
  // kernel fills the checksum (ping sockets; ICMPv6 raw) or we do (IPv4 raw).
  std::vector<std::byte> msg(8 + payload.size());
  const std::uint8_t type = key_.dst.v6 ? packet::icmp6::echo_request : packet::icmp4::echo_request;
  msg[0] = std::byte{type};
  msg[4] = std::byte{static_cast<std::uint8_t>(key_.src_port >> 8)};
  msg[5] = std::byte{static_cast<std::uint8_t>(key_.src_port)};
  msg[6] = std::byte{static_cast<std::uint8_t>(seq >> 8)};
  msg[7] = std::byte{static_cast<std::uint8_t>(seq)};
  std::memcpy(msg.data() + 8, payload.data(), payload.size());
  if (!key_.dst.v6) {
    const auto sum = packet::checksum_fold(packet::checksum_partial(msg));
    msg[2] = std::byte{static_cast<std::uint8_t>(sum >> 8)};
    msg[3] = std::byte{static_cast<std::uint8_t>(sum)};
  }
  // A pending error (an earlier request's ICMP error) fails the next send
  // and the kernel drops that request: pass the error on, then send again.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (::send(socket_.native_handle(), msg.data(), msg.size(), MSG_DONTWAIT) >= 0) {
      record_.bytes_out += payload.size();
      egress_.data(host_direction::sent, msg);
      break;
    }
    if (errno == EAGAIN) break;
    const int err = errno;
    if (!report_errors()) {  // nothing queued: the host's own verdict (no route)
      if (auto r = icmp_report_for_errno(err, key_.dst)) ctx_.icmp_error_to_child(key_, *r, recent_.back().second);
      break;
    }
  }
}

void icmp_echo_flow::on_datagram(std::span<const std::byte> data) {
  if (raw_ && !key_.dst.v6) {  // IPv4 raw sockets deliver the IP header too
    if (data.empty()) return;
    const std::size_t ihl = (std::to_integer<unsigned>(data[0]) & 0x0fu) * 4u;
    if (data.size() < ihl) return;
    data = data.subspan(ihl);
  }
  if (data.size() < 8) return;
  const auto type = std::to_integer<std::uint8_t>(data[0]);
  const std::uint8_t reply = key_.dst.v6 ? packet::icmp6::echo_reply : packet::icmp4::echo_reply;
  if (type != reply) return;
  if (raw_ && packet::read_be16(data, 4) != key_.src_port) return;  // someone else's reply
  touch();
  got_reply_ = true;
  record_.bytes_in += data.size() - 8;
  egress_.data(host_direction::received, data);
  const auto frame = packet::build_echo_reply(sandbox::gateway_mac, sandbox::child_mac, key_.dst, key_.src, 64,
                                              key_.src_port, packet::read_be16(data, 6), data.subspan(8));
  if (!frame.empty()) ctx_.tap().send_frame(frame);
}

// Hands every queued ICMP error (Time Exceeded from a router for
// traceroute -I, Unreachable) to the child from the hop that sent it.
bool icmp_echo_flow::report_errors() {
  bool any = false;
  while (auto r = read_queued_error(socket_.native_handle(), key_.dst.v6)) {
    any = true;
    // The original is the echo request as sent: its sequence is at bytes 6-7.
    if (r->original.size() < 8) continue;
    const auto seq = packet::read_be16(r->original, 6);
    const auto it = std::find_if(recent_.rbegin(), recent_.rend(), [&](const auto& e) { return e.first == seq; });
    if (it != recent_.rend()) ctx_.icmp_error_to_child(key_, *r, it->second);
  }
  return any;
}

asio::awaitable<void> icmp_echo_flow::receive_loop() {
  // async_read_some, not async_wait: it reads speculatively before waiting.
  // The reactor watches the fd edge-triggered, so an error that arrived
  // before a plain wait was registered would never wake it.
  std::vector<std::byte> buf(max_message);
  for (;;) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(buf), use_tuple);
    if (closed_ || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
    if (ec) {
      report_errors();  // an ICMP error for a request (Time Exceeded, Unreachable)
      continue;
    }
    on_datagram(std::span<const std::byte>(buf.data(), n));
  }
}

}  // namespace netpen::relay
