// Helpers every relayed flow uses with its host socket: the Asio form of a
// flow's address and back, copying the child's TTL / hop limit onto the socket, and
// logging a flow coroutine that ended with an exception.
#pragma once
#include <asio/ip/address.hpp>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <exception>

#include "net/common/asio_helpers.hpp"
#include "net/relay/flow_key.hpp"

namespace netpen::relay {

inline asio::ip::address to_asio(const packet::ip_address& a) {
  if (a.v6) return asio::ip::address_v6(a.bytes);
  return asio::ip::address_v4({a.bytes[0], a.bytes[1], a.bytes[2], a.bytes[3]});
}

// A host address as the relay's packets carry it (IPv4-mapped IPv6 as IPv4).
inline packet::ip_address from_asio(const asio::ip::address& a) {
  packet::ip_address out;
  if (a.is_v6() && !a.to_v6().is_v4_mapped()) {
    out.v6 = true;
    const auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), out.bytes.begin());
    return out;
  }
  const auto b = a.is_v4() ? a.to_v4().to_bytes() : asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_bytes();
  std::copy(b.begin(), b.end(), out.bytes.begin());
  return out;
}

// TTL (IPv4) or unicast hop limit (IPv6) of `fd`; -1 restores the host's default.
inline bool set_socket_ttl(int fd, bool v6, int ttl) {
  return v6 ? ::setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl) == 0
            : ::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) == 0;
}

// For a flow coroutine's completion handler: logs how it failed, if it did.
inline void log_flow_failure(std::exception_ptr e, const char* kind, const flow_key& key) {
  if (e) log_coroutine_failure(e, fmt::format("{} flow {}", kind, to_string(key)));
}

}  // namespace netpen::relay
