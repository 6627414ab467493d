// Datagram host sockets reported to the egress points (see datagram_egress.hpp).
#include "net/relay/datagram_egress.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace netpen::relay {
namespace {

// Address and port of a sockaddr from getsockname / getpeername.
bool read_sockaddr(const sockaddr_storage& ss, packet::ip_address& a, std::uint16_t& port) {
  if (ss.ss_family == AF_INET) {
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
    a = {};
    std::memcpy(a.bytes.data(), &s4->sin_addr, 4);
    port = ntohs(s4->sin_port);
    return true;
  }
  if (ss.ss_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    a = {};
    a.v6 = true;
    std::memcpy(a.bytes.data(), &s6->sin6_addr, 16);
    port = ntohs(s6->sin6_port);
    return true;
  }
  return false;
}

}  // namespace

void datagram_egress::open(egress_observer* observer, int fd, const flow_key& child,
                           std::optional<std::uint16_t> icmp_id) {
  if (observer == nullptr) return;
  // The socket is connected to the child's destination (ping sockets do
  // not answer getpeername).
  sockaddr_storage local{};
  socklen_t local_len = sizeof local;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) return;
  conn_ = host_conn{};
  conn_.protocol = child.protocol;
  conn_.child = child;
  conn_.remote = child.dst;
  if (!read_sockaddr(local, conn_.local, conn_.local_port)) return;
  if (child.protocol == packet::proto_udp) {
    conn_.remote_port = child.dst_port;
  } else {  // ICMP echo: identifier, no remote port
    if (icmp_id) conn_.local_port = *icmp_id;
    conn_.remote_port = 0;
  }
  observer_ = observer;
  observer_->opened(conn_);
}

void datagram_egress::data(host_direction d, std::span<const std::byte> bytes) {
  if (observer_ == nullptr) return;
  const asio::const_buffer buffer(bytes.data(), bytes.size());
  observer_->data(conn_, d, std::span(&buffer, 1), bytes.size());
}

void datagram_egress::close() {
  if (observer_ == nullptr) return;
  observer_->closed(conn_, host_close::normal);
  observer_ = nullptr;
}

}  // namespace netpen::relay
