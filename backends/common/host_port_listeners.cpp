// --host-port's listening sockets (see host_port_listeners.hpp).
#include "backends/common/host_port_listeners.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace netpen::backends {
namespace {

struct socket_address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  bool v6 = false;
};

std::optional<socket_address> address_of(const std::string& text, std::uint16_t port) {
  socket_address a;
  if (auto* in4 = reinterpret_cast<sockaddr_in*>(&a.storage); ::inet_pton(AF_INET, text.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    a.length = sizeof(sockaddr_in);
    return a;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (::inet_pton(AF_INET6, text.c_str(), &in6->sin6_addr) != 1) return std::nullopt;
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  a.length = sizeof(sockaddr_in6);
  a.v6 = true;
  return a;
}

// One socket; an empty fd (no error) when the address is IPv6 and this
// namespace has no IPv6.
result<unique_fd> open_one(const relay::host_port& p, const std::string& address, std::string_view where,
                           bool ipv6_optional, const std::string& device) {
  const auto at = address_of(address, p.port);
  if (!at) return fail("host-port", fmt::format("'{}' is not an address", address));
  const auto shown = fmt::format("{}/{}{}:{}", p.udp ? "udp" : "tcp", at->v6 ? "[" : "", address,
                                 std::string(at->v6 ? "]" : "") + std::to_string(p.port));
  auto failed = [&](const char* step) {
    return fail("host-port", fmt::format("--host-port: cannot {} {} {}: {}", step, shown, where, std::strerror(errno)));
  };
  unique_fd fd(::socket(at->v6 ? AF_INET6 : AF_INET, (p.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        0));
  if (!fd) {
    if (at->v6 && ipv6_optional && errno == EAFNOSUPPORT) return unique_fd{};
    return failed("open a socket for");
  }
  const int one = 1;
  if (at->v6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (!p.udp) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (!device.empty() &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, device.c_str(), static_cast<socklen_t>(device.size())) != 0)
    return failed("bind to its interface");
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&at->storage), at->length) != 0) {
    if (at->v6 && ipv6_optional && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)) return unique_fd{};
    return failed("listen on");
  }
  if (!p.udp && ::listen(fd.get(), SOMAXCONN) != 0) return failed("listen on");
  return fd;
}

}  // namespace

result<std::vector<unique_fd>> open_host_port_listeners(const relay::host_port_set& ports,
                                                       std::span<const std::string> addresses,
                                                       std::string_view where, bool ipv6_optional,
                                                       const std::string& device) {
  std::vector<unique_fd> out;
  for (const auto& p : ports.ports())
    for (const auto& address : addresses) {
      auto fd = open_one(p, address, where, ipv6_optional, device);
      if (!fd) return unexpected(fd.error());
      if (*fd) out.push_back(std::move(*fd));
    }
  return out;
}

std::span<const std::string> loopback_addresses() {
  static const std::array<std::string, 2> addresses{"127.0.0.1", "::1"};
  return addresses;
}

}  // namespace netpen::backends
