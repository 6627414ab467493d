// The host side of --publish: which host address and port forward to which
// port in the sandbox, and the listening sockets bound for them before the
// command runs (a port already taken is an error then, not later).
// Sockets are bound with SOCK_CLOEXEC; IPv6 ones IPV6_V6ONLY, so [::] is
// exactly IPv6 and 0.0.0.0 exactly IPv4, as asked.
#pragma once
#include <asio/ip/address.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "net/common/error.hpp"

namespace netpen::relay {

struct published_port {
  asio::ip::address host_address = asio::ip::make_address("127.0.0.1");
  std::uint16_t host_port = 0;
  std::uint16_t sandbox_port = 0;
  bool udp = false;
};

// "tcp 127.0.0.1:18080 -> sandbox port 8000".
std::string to_string(const published_port& p);

// A bound (and, for TCP, listening) socket of one published port; owns its fd.
class bound_port {
 public:
  bound_port(published_port port, int fd) : port_(port), fd_(fd) {}
  bound_port(bound_port&& o) noexcept : port_(o.port_), fd_(o.release()) {}
  bound_port& operator=(bound_port&& o) noexcept;
  ~bound_port();
  const published_port& port() const { return port_; }
  int fd() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  published_port port_;
  int fd_ = -1;
};

// Binds every port, or none: errors "publish-port-taken" (EADDRINUSE),
// "publish-address" (not an address of this host), "publish-bind".
result<std::vector<bound_port>> bind_published_ports(const std::vector<published_port>& ports);

}  // namespace netpen::relay
