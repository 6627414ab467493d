// Binding the host side of --publish (see published_port.hpp).
#include "net/relay/published_port.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace netpen::relay {

std::string to_string(const published_port& p) {
  const auto host = p.host_address.is_v6() ? "[" + p.host_address.to_string() + "]" : p.host_address.to_string();
  return fmt::format("{} {}:{} -> sandbox port {}", p.udp ? "udp" : "tcp", host, p.host_port, p.sandbox_port);
}

bound_port& bound_port::operator=(bound_port&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    port_ = o.port_;
    fd_ = o.release();
  }
  return *this;
}

bound_port::~bound_port() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

result<bound_port> bind_one(const published_port& p) {
  const bool v6 = p.host_address.is_v6();
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, (p.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("publish-bind", fmt::format("--publish {}: socket: {}", to_string(p), std::strerror(errno)));
  bound_port out(p, fd);
  const int one = 1;
  if (!p.udp) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // past TIME_WAIT, never a listener
  if (v6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(p.host_port);
    const auto bytes = p.host_address.to_v6().to_bytes();
    std::memcpy(&a->sin6_addr, bytes.data(), bytes.size());
    a->sin6_scope_id = p.host_address.to_v6().scope_id();
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(p.host_port);
    const auto bytes = p.host_address.to_v4().to_bytes();
    std::memcpy(&a->sin_addr, bytes.data(), bytes.size());
    len = sizeof *a;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const int err = errno;
    if (err == EADDRINUSE)
      return fail("publish-port-taken",
                  fmt::format("--publish {}: the host's port is already in use", to_string(p)));
    if (err == EADDRNOTAVAIL)
      return fail("publish-address", fmt::format("--publish {}: {} is not an address of this host", to_string(p),
                                                 p.host_address.to_string()));
    return fail("publish-bind", fmt::format("--publish {}: bind: {}", to_string(p), std::strerror(err)));
  }
  if (!p.udp && ::listen(fd, SOMAXCONN) != 0)
    return fail("publish-bind", fmt::format("--publish {}: listen: {}", to_string(p), std::strerror(errno)));
  return out;
}

}  // namespace

result<std::vector<bound_port>> bind_published_ports(const std::vector<published_port>& ports) {
  std::vector<bound_port> out;
  for (const auto& p : ports) {
    auto bound = bind_one(p);
    if (!bound) return unexpected<error>(bound.error());
    out.push_back(std::move(*bound));
  }
  return out;
}

}  // namespace netpen::relay
