// The relayed ping flow (see icmp_echo_flow.hpp for the theory).
#include "net/relay/icmp_echo_flow.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "net/common/log.hpp"
#include "net/common/sandbox_addresses.hpp"
#include "net/packet/icmp.hpp"
#include "net/packet/byte_writer.hpp"
#include "net/relay/engine.hpp"
#include "net/relay/host_socket.hpp"
#include "net/relay/socket_errors.hpp"

namespace netpen::relay {
namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
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

icmp_echo_flow::icmp_echo_flow(engine& eng, asio::strand<asio::any_io_executor> strand, const flow_key& key,
                               const udp_flow_policy& policy)
    : engine_(eng),
      strand_(std::move(strand)),
      key_(key),
      policy_(policy),
      socket_(strand_),
      idle_timer_(strand_),
      last_activity_(udp_flow_policy::clock::now()) {}

void icmp_echo_flow::start() {
  // Opened here, not in run(): co_spawn defers run()'s first step behind
  // send()s already posted, which would find no socket and drop the request.
  opened_ = open_socket();
  if (!opened_) record_.end = "unreachable";
  engine_.flow_opened(key_, record_);
  asio::co_spawn(strand_, [self = shared_from_this()]() { return self->run(); },
                 [self = shared_from_this()](std::exception_ptr e) {
                   log_flow_failure(e, "ping", self->key_);
                   self->engine_.flow_closed(self->key_, self->record_);
                   self->finished_.store(true, std::memory_order_release);
                   self->engine_.icmp_flow_finished(self->key_, self);
                 });
}

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
  if (!ec) egress_.open(engine_.egress(), fd, key_, raw_ ? std::optional(key_.src_port) : std::nullopt);
  return !ec;
}

void icmp_echo_flow::set_ttl(std::uint8_t ttl) {
  if (ttl == 0 || ttl == current_ttl_) return;
  if (set_socket_ttl(socket_.native_handle(), key_.dst.v6, ttl)) current_ttl_ = ttl;
}

void icmp_echo_flow::send(std::uint16_t seq, std::vector<std::byte> payload, std::vector<std::byte> ip_packet,
                          std::uint8_t ttl) {
  asio::post(strand_, [self = shared_from_this(), seq, p = std::move(payload), ip = std::move(ip_packet), ttl]() mutable {
    if (self->open_error_) {  // the host cannot reach the destination at all: say so at once
      self->engine_.icmp_error_to_child(self->key_, *self->open_error_, ip);
      return;
    }
    if (self->closed_ || !self->socket_.is_open()) return;
    self->recent_.emplace_back(seq, std::move(ip));
    if (self->recent_.size() > max_recent) self->recent_.pop_front();
    self->last_activity_ = udp_flow_policy::clock::now();
    self->set_ttl(ttl);
    // Echo request: type, code, checksum, identifier, sequence, data. The
    // kernel fills the checksum (ping sockets; ICMPv6 raw) or we do (IPv4 raw).
    std::vector<std::byte> msg(8 + p.size());
    const std::uint8_t type = self->key_.dst.v6 ? packet::icmp6::echo_request : packet::icmp4::echo_request;
    msg[0] = std::byte{type};
    msg[4] = std::byte{static_cast<std::uint8_t>(self->key_.src_port >> 8)};
    msg[5] = std::byte{static_cast<std::uint8_t>(self->key_.src_port)};
    msg[6] = std::byte{static_cast<std::uint8_t>(seq >> 8)};
    msg[7] = std::byte{static_cast<std::uint8_t>(seq)};
    std::memcpy(msg.data() + 8, p.data(), p.size());
    if (!self->key_.dst.v6) {
      const auto sum = packet::checksum_fold(packet::checksum_partial(msg));
      msg[2] = std::byte{static_cast<std::uint8_t>(sum >> 8)};
      msg[3] = std::byte{static_cast<std::uint8_t>(sum)};
    }
    // A pending error (an earlier request's ICMP error) fails the next send
    // and the kernel drops that request: pass the error on, then send again.
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (::send(self->socket_.native_handle(), msg.data(), msg.size(), MSG_DONTWAIT) >= 0) {
        self->record_.bytes_out += p.size();
        self->egress_.data(host_direction::sent, msg);
        break;
      }
      if (errno == EAGAIN) break;
      const int err = errno;
      if (!self->report_errors()) {  // nothing queued: the host's own verdict (no route)
        if (auto r = icmp_report_for_errno(err, self->key_.dst))
          self->engine_.icmp_error_to_child(self->key_, *r, self->recent_.back().second);
        break;
      }
    }
  });
}

void icmp_echo_flow::shutdown() {
  asio::post(strand_, [self = shared_from_this()]() {
    if (!self->closed_) self->record_.end = "shutdown";
    self->closed_ = true;
    asio::error_code ignored;
    self->socket_.close(ignored);
    self->idle_timer_.cancel();
  });
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
  last_activity_ = udp_flow_policy::clock::now();
  got_reply_ = true;
  record_.bytes_in += data.size() - 8;
  egress_.data(host_direction::received, data);
  const auto frame = packet::build_echo_reply(sandbox::gateway_mac, sandbox::child_mac, key_.dst, key_.src, 64,
                                              key_.src_port, packet::read_be16(data, 6), data.subspan(8));
  if (!frame.empty()) engine_.writer().send_frame(frame);
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
    if (it != recent_.rend()) engine_.icmp_error_to_child(key_, *r, it->second);
  }
  return any;
}

asio::awaitable<void> icmp_echo_flow::run() {
  if (!opened_) co_return;
  using namespace asio::experimental::awaitable_operators;
  co_await (receive_loop() || watchdog());
  closed_ = true;
  asio::error_code ignored;
  socket_.close(ignored);
  egress_.close();
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

asio::awaitable<void> icmp_echo_flow::watchdog() {
  for (;;) {
    idle_timer_.expires_at(policy_.expiry(last_activity_, got_reply_));
    co_await idle_timer_.async_wait(use_tuple);
    if (closed_) co_return;
    if (policy_.expired(udp_flow_policy::clock::now(), last_activity_, got_reply_)) {
      record_.end = "expired";
      co_return;
    }
  }
}

}  // namespace netpen::relay
